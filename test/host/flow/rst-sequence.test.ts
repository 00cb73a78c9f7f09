// A RST whose sequence number the receiver would not accept (RFC 5961) must
// not end the flow: the rest of the connection would become a new flow seen
// mid-stream, or the SYN of a "new" connection would replace it.
import { describe, expect, it } from 'vitest';
import { FlowTable } from '../../../host/flow/table.js';
import { TcpFlag } from '../../../host/packet/types.js';
import { pkt } from './helpers.js';

const C = '198.18.5.1', S = '198.18.5.2';
const T0 = 1_700_000_000;
const { SYN, ACK, FIN, RST, PSH } = TcpFlag;

function seg(fromClient: boolean, flags: number, seq: number, payload = '', t = T0) {
  return pkt({
    src: fromClient ? C : S, dst: fromClient ? S : C, proto: 'tcp', srcPort: fromClient ? 40800 : 80, dstPort: fromClient ? 80 : 40800,
    tcpFlags: flags, seq: seq >>> 0, ack: 1, payload,
  }, t);
}

function established(): FlowTable {
  const t = new FlowTable();
  t.track(seg(true, SYN, 1000));
  t.track(seg(false, SYN | ACK, 5000));
  t.track(seg(true, ACK, 1001));
  t.track(seg(true, ACK | PSH, 1001, 'GET / HTTP/1.1\r\n'));
  return t;
}

describe('RST sequence validation', () => {
  it('keeps the flow established when a RST carries a sequence number other than the sender\'s next one', () => {
    const t = established();
    const flow = t.track(seg(false, RST, 5001 + 100_000))!.flow;
    expect(flow.tcpState).toBe('established');
    expect(t.stats.rstIgnored).toBe(1);
    // In the window but not exact: a challenge ACK, not a reset, on RFC 5961 stacks.
    t.track(seg(true, RST | ACK, 1001 + 16 + 1));
    expect(flow.tcpState).toBe('established');
    expect(t.stats.rstIgnored).toBe(2);
  });

  it('does not let a SYN after an ignored RST replace the connection\'s flow', () => {
    const t = established();
    const flow = t.track(seg(false, RST, 777))!.flow;
    const again = t.track(seg(true, SYN, 123_456))!;
    expect(again.flow).toBe(flow);
    expect(t.drainEnded()).toEqual([]);
  });

  it('resets on a RST at the sender\'s next sequence number, after data and after a FIN', () => {
    const t = established();
    expect(t.track(seg(true, RST, 1001 + 16))!.flow.tcpState).toBe('reset');
    const u = established();
    u.track(seg(false, FIN | ACK, 5001));
    expect(u.track(seg(false, RST, 5002))!.flow.tcpState).toBe('reset');
  });

  it('takes a RST answering a SYN, from a side that sent nothing before', () => {
    const t = new FlowTable();
    t.track(seg(true, SYN, 1000));
    expect(t.track(seg(false, RST | ACK, 0))!.flow.tcpState).toBe('reset');
  });

  it('takes a RST after out-of-order delivery, once the hole is filled, even with decoys far ahead filling the memory', () => {
    const t = established();
    // Nine decoys far ahead, then the second segment before the first: the real one must still count.
    for (let i = 1; i <= 9; i++) t.track(seg(true, ACK | PSH, 1017 + i * 1_000_000, 'decoy'));
    t.track(seg(true, ACK | PSH, 1017 + 10, 'second....'));
    t.track(seg(true, ACK | PSH, 1017, 'first.....'));
    expect(t.track(seg(true, RST, 1017 + 20))!.flow.tcpState).toBe('reset');
  });

  it('does not move the next sequence number with a segment far ahead of it, so such a segment cannot make a RST valid', () => {
    const t = established();
    t.track(seg(true, ACK | PSH, 1001 + 16 + 1_000_000, 'beyond the window'));
    const flow = t.track(seg(true, RST, 1001 + 16 + 1_000_000 + 17))!.flow;
    expect(flow.tcpState).toBe('established');
  });
});
