// FINs the receivers would not take in sequence must not close the flow:
// two bogus FINs and a pause (or a SYN) would otherwise split a request over two flows.
import { describe, expect, it } from 'vitest';
import { FlowTable } from '../../../host/flow/table.js';
import { TcpFlag } from '../../../host/packet/types.js';
import { pkt } from './helpers.js';

const C = '198.18.8.1', S = '198.18.8.2';
const { SYN, ACK, FIN, PSH } = TcpFlag;

function seg(fromClient: boolean, flags: number, seq: number, payload = '') {
  return pkt({
    src: fromClient ? C : S, dst: fromClient ? S : C, proto: 'tcp', srcPort: fromClient ? 41000 : 80, dstPort: fromClient ? 80 : 41000,
    tcpFlags: flags, seq: seq >>> 0, ack: 1, payload,
  });
}

function established(): FlowTable {
  const t = new FlowTable();
  t.track(seg(true, SYN, 1000));
  t.track(seg(false, SYN | ACK, 5000));
  t.track(seg(true, ACK | PSH, 1001, 'GET /'));
  return t;
}

describe('FIN sequence validation', () => {
  it('does not close the flow on FINs far from each sender\'s next sequence number', () => {
    const t = established();
    t.track(seg(true, FIN | ACK, 1006 + 500_000));
    const flow = t.track(seg(false, FIN | ACK, 5001 - 70_000))!.flow;
    expect(flow.tcpState).toBe('established');
    expect(t.stats.finIgnored).toBe(2);
    expect(t.track(seg(true, SYN, 777))!.flow).toBe(flow);
  });

  it('closes on in-sequence FINs, one carrying data, and takes a retransmitted FIN again', () => {
    const t = established();
    t.track(seg(true, FIN | ACK | PSH, 1006, ' HTTP/1.1\r\n\r\n'));
    t.track(seg(true, FIN | ACK | PSH, 1006, ' HTTP/1.1\r\n\r\n'));
    expect(t.track(seg(false, FIN | ACK, 5001))!.flow.tcpState).toBe('closed');
    expect(t.stats.finIgnored).toBe(0);
  });
});
