// A stray packet from the server's side, sent before the client's SYN, must
// not make the server the flow's client: modules read requests from the
// to-server stream and would take the request for the response.
import { describe, expect, it } from 'vitest';
import { FlowTable } from '../../../host/flow/table.js';
import { Direction } from '../../../host/flow/types.js';
import { TcpFlag } from '../../../host/packet/types.js';
import { pkt } from './helpers.js';

const C = '198.18.6.1', S = '198.18.6.2';
const { SYN, ACK, PSH } = TcpFlag;

function seg(fromClient: boolean, flags: number, payload = '') {
  return pkt({ src: fromClient ? C : S, dst: fromClient ? S : C, proto: 'tcp', srcPort: fromClient ? 40900 : 80, dstPort: fromClient ? 80 : 40900, tcpFlags: flags, payload });
}

describe('a stray packet from the server side first', () => {
  it('a stray ACK: the client\'s SYN starts the flow again with the client as client', () => {
    const t = new FlowTable();
    const stray = t.track(seg(false, ACK, 'junk'))!.flow;
    const syn = t.track(seg(true, SYN))!;
    expect(syn.flow).not.toBe(stray);
    expect(syn.direction).toBe(Direction.TO_SERVER);
    expect(syn.flow.clientPort).toBe(40900);
    expect(t.drainEnded().map((e) => e.flow)).toEqual([stray]);
    expect(t.track(seg(false, SYN | ACK))!.direction).toBe(Direction.TO_CLIENT);
    expect(t.track(seg(true, ACK | PSH, 'GET / HTTP/1.1\r\n\r\n'))!.direction).toBe(Direction.TO_SERVER);
  });

  it('a stray SYN: the SYN-ACK that answers the client\'s SYN turns the flow round', () => {
    const t = new FlowTable();
    t.track(seg(false, SYN));
    expect(t.track(seg(true, SYN))!.direction).toBe(Direction.TO_CLIENT);
    const answer = t.track(seg(false, SYN | ACK))!;
    expect(answer.isNew).toBe(true);
    expect(answer.direction).toBe(Direction.TO_CLIENT);
    expect(t.track(seg(true, ACK | PSH, 'GET / HTTP/1.1\r\n\r\n'))!.direction).toBe(Direction.TO_SERVER);
  });

  it('leaves an answered handshake alone when a SYN comes from the server afterwards', () => {
    const t = new FlowTable();
    const flow = t.track(seg(true, SYN))!.flow;
    t.track(seg(false, SYN | ACK));
    t.track(seg(true, ACK));
    expect(t.track(seg(false, SYN))!.flow).toBe(flow);
  });
});
