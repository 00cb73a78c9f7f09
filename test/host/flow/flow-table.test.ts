import { describe, expect, it } from 'vitest';
import { FlowTable } from '../../../host/flow/table.js';
import { Direction } from '../../../host/flow/types.js';
import { decodePacket } from '../../../host/packet/decode.js';
import { LinkType, TcpFlag } from '../../../host/packet/types.js';
import { SecuxflowError } from '../../../host/errors.js';
import { pkt } from './helpers.js';

const C = '198.18.0.1', S = '198.18.0.2';
const T0 = 1_700_000_000;
const { SYN, ACK, FIN, RST, PSH } = TcpFlag;

function tcp(src: string, dst: string, sport: number, dport: number, flags: number, t = T0, extra: object = {}) {
  return pkt({ src, dst, proto: 'tcp', srcPort: sport, dstPort: dport, tcpFlags: flags, ...extra }, t);
}

describe('FlowTable direction and identity', () => {
  it('makes the SYN sender the client and gives both directions one flow id', () => {
    const t = new FlowTable();
    const a = t.track(tcp(C, S, 40000, 80, SYN))!;
    expect(a.isNew).toBe(true);
    expect(a.direction).toBe(Direction.TO_SERVER);
    expect(Array.from(a.flow.clientAddr)).toEqual([198, 18, 0, 1]);
    expect(a.flow.serverPort).toBe(80);
    const b = t.track(tcp(S, C, 80, 40000, SYN | ACK))!;
    expect(b.isNew).toBe(false);
    expect(b.direction).toBe(Direction.TO_CLIENT);
    expect(b.flow.id).toBe(a.flow.id);
    expect(t.size).toBe(1);
  });

  it('treats a first-seen SYN-ACK sender as the server (mid-handshake pickup)', () => {
    const t = new FlowTable();
    const a = t.track(tcp(S, C, 443, 51000, SYN | ACK))!;
    expect(a.direction).toBe(Direction.TO_CLIENT);
    expect(a.flow.serverPort).toBe(443);
    expect(a.flow.clientPort).toBe(51000);
    expect(a.flow.tcpState).toBe('syn_recv');
    expect(a.flow.pktsToClient).toBe(1);
    const b = t.track(tcp(C, S, 51000, 443, ACK))!;
    expect(b.direction).toBe(Direction.TO_SERVER);
    expect(b.flow.tcpState).toBe('established');
  });

  it('picks up a TCP connection mid-stream as established, first sender as client', () => {
    const t = new FlowTable();
    const a = t.track(tcp(S, C, 8080, 40001, ACK | PSH, T0, { payload: 'hello' }))!;
    expect(a.direction).toBe(Direction.TO_SERVER);
    expect(a.flow.clientPort).toBe(8080);
    expect(a.flow.tcpState).toBe('established');
  });

  it('makes the first UDP sender the client and counts packets and bytes per direction', () => {
    const t = new FlowTable();
    const q = pkt({ src: C, dst: S, proto: 'udp', srcPort: 5353, dstPort: 53, payload: 'query' }, T0);
    const r = pkt({ src: S, dst: C, proto: 'udp', srcPort: 53, dstPort: 5353, payload: 'a longer answer' }, T0 + 1, 500_000_000);
    const a = t.track(q)!;
    const b = t.track(r)!;
    t.track(q);
    expect(a.flow).toBe(b.flow);
    expect(b.direction).toBe(Direction.TO_CLIENT);
    const f = a.flow;
    expect(f.tcpState).toBe('none');
    expect([f.pktsToServer, f.pktsToClient]).toEqual([2, 1]);
    expect([f.bytesToServer, f.bytesToClient]).toEqual([2 * q.wireLen, r.wireLen]);
    expect(f.start).toBe(T0);
    expect(f.last).toBeCloseTo(T0 + 1.5, 6);
  });

  it('uses the packet timestamp with nanoseconds as the flow time', () => {
    const t = new FlowTable();
    const a = t.track(pkt({ src: C, dst: S, proto: 'udp', srcPort: 1, dstPort: 2 }, T0, 250_000_000))!;
    expect(a.flow.start).toBeCloseTo(T0 + 0.25, 6);
  });

  it('separates flows by VLAN, ports, protocol and address family', () => {
    const t = new FlowTable();
    const ids = new Set<number>();
    ids.add(t.track(pkt({ src: C, dst: S, proto: 'udp', srcPort: 1000, dstPort: 53 }))!.flow.id);
    ids.add(t.track(pkt({ src: C, dst: S, proto: 'udp', srcPort: 1000, dstPort: 53, vlans: [10] }))!.flow.id);
    ids.add(t.track(pkt({ src: C, dst: S, proto: 'udp', srcPort: 1000, dstPort: 53, vlans: [20, 10] }))!.flow.id);
    ids.add(t.track(pkt({ src: C, dst: S, proto: 'udp', srcPort: 1001, dstPort: 53 }))!.flow.id);
    ids.add(t.track(pkt({ src: C, dst: S, proto: 'tcp', srcPort: 1000, dstPort: 53 }))!.flow.id);
    ids.add(t.track(pkt({ src: '2001:db8::1', dst: '2001:db8::2', proto: 'udp', srcPort: 1000, dstPort: 53 }))!.flow.id);
    expect(ids.size).toBe(6);
    expect(t.size).toBe(6);
    const vlanFlow = t.track(pkt({ src: S, dst: C, proto: 'udp', srcPort: 53, dstPort: 1000, vlans: [10] }))!;
    expect(vlanFlow.isNew).toBe(false);
    expect(vlanFlow.flow.vlan).toBe(10);
  });

  it('keeps apart QinQ flows that differ only in the inner VLAN, as the kernel\'s flow key does', () => {
    const t = new FlowTable();
    const a = t.track(pkt({ src: C, dst: S, proto: 'udp', srcPort: 1000, dstPort: 53, vlans: [20, 10] }))!;
    const b = t.track(pkt({ src: C, dst: S, proto: 'udp', srcPort: 1000, dstPort: 53, vlans: [20, 11] }))!;
    expect(b.isNew).toBe(true);
    expect(b.flow.id).not.toBe(a.flow.id);
    const replyA = t.track(pkt({ src: S, dst: C, proto: 'udp', srcPort: 53, dstPort: 1000, vlans: [20, 10] }))!;
    const replyB = t.track(pkt({ src: S, dst: C, proto: 'udp', srcPort: 53, dstPort: 1000, vlans: [20, 11] }))!;
    expect([replyA.flow.id, replyA.direction]).toEqual([a.flow.id, Direction.TO_CLIENT]);
    expect([replyB.flow.id, replyB.direction]).toEqual([b.flow.id, Direction.TO_CLIENT]);
    expect(b.flow.vlans).toEqual([20, 11]);
    expect(t.size).toBe(2);
  });

  it('tracks IPv6 flows in both directions', () => {
    const t = new FlowTable();
    const a = t.track(tcp('2001:db8::a', '2001:db8::b', 33000, 443, SYN))!;
    const b = t.track(tcp('2001:db8::b', '2001:db8::a', 443, 33000, SYN | ACK))!;
    expect(a.flow.ipVersion).toBe(6);
    expect(b.flow.id).toBe(a.flow.id);
    expect(b.direction).toBe(Direction.TO_CLIENT);
    expect(a.flow.clientAddr.length).toBe(16);
    expect(a.flow.clientAddr[15]).toBe(0x0a);
  });

  it('puts ICMP echo request and reply in one flow with ports 0', () => {
    const t = new FlowTable();
    const a = t.track(pkt({ src: C, dst: S, proto: 'icmp', icmpType: 8 }))!;
    const b = t.track(pkt({ src: S, dst: C, proto: 'icmp', icmpType: 0 }))!;
    expect(b.flow.id).toBe(a.flow.id);
    expect(b.direction).toBe(Direction.TO_CLIENT);
    expect([a.flow.clientPort, a.flow.serverPort]).toEqual([0, 0]);
  });

  it('returns null for a packet without an IP layer', () => {
    const t = new FlowTable();
    const arp = new Uint8Array(42);
    arp[12] = 0x08; arp[13] = 0x06;
    expect(t.track(decodePacket(arp, LinkType.ETHERNET))).toBeNull();
    expect(t.size).toBe(0);
    expect(t.stats.noIp).toBe(1);
  });

  it('copies addresses so a reused capture buffer cannot change the flow key', () => {
    const t = new FlowTable();
    const p = pkt({ src: C, dst: S, proto: 'udp', srcPort: 7, dstPort: 9 });
    const f = t.track(p)!.flow;
    p.data.fill(0);
    expect(Array.from(f.clientAddr)).toEqual([198, 18, 0, 1]);
  });

  it('rejects bad options with a coded error naming the field', () => {
    expect(() => new FlowTable({ maxFlows: 0 })).toThrow(SecuxflowError);
    expect(() => new FlowTable({ maxFlows: 0 })).toThrow(/maxFlows/);
    expect(() => new FlowTable({ timeouts: { udp: -1 } })).toThrow(/udp/);
    expect(() => new FlowTable({ hashBits: 31 })).toThrow(/hashBits/);
    expect(() => new FlowTable({ hashBits: 1.5 })).toThrow(/hashBits/);
    expect(() => new FlowTable({ lruResolutionSec: -1 })).toThrow(/lruResolutionSec/);
    expect(() => new FlowTable({ lruResolutionSec: Number.NaN })).toThrow(/lruResolutionSec/);
  });
});

describe('FlowTable TCP state', () => {
  it('walks handshake, data and FIN both ways to closed', () => {
    const t = new FlowTable();
    const states: string[] = [];
    const step = (src: string, dst: string, sp: number, dp: number, flags: number) => {
      states.push(t.track(tcp(src, dst, sp, dp, flags))!.flow.tcpState);
    };
    step(C, S, 40000, 80, SYN);
    step(S, C, 80, 40000, SYN | ACK);
    step(C, S, 40000, 80, ACK);
    step(C, S, 40000, 80, ACK | PSH);
    step(C, S, 40000, 80, FIN | ACK);
    step(S, C, 80, 40000, ACK);
    step(S, C, 80, 40000, FIN | ACK);
    step(C, S, 40000, 80, ACK);
    expect(states).toEqual(['syn_sent', 'syn_recv', 'established', 'established', 'fin_wait', 'fin_wait', 'closed', 'closed']);
  });

  it('does not close on a repeated FIN from the same side', () => {
    const t = new FlowTable();
    t.track(tcp(C, S, 40000, 80, ACK));
    t.track(tcp(C, S, 40000, 80, FIN | ACK));
    expect(t.track(tcp(C, S, 40000, 80, FIN | ACK))!.flow.tcpState).toBe('fin_wait');
  });

  it('goes to reset on RST from either side', () => {
    const t = new FlowTable();
    t.track(tcp(C, S, 40000, 80, SYN));
    expect(t.track(tcp(S, C, 80, 40000, RST | ACK))!.flow.tcpState).toBe('reset');
  });

  it('starts a new flow when a SYN reuses the tuple of a closed connection', () => {
    const t = new FlowTable();
    const first = t.track(tcp(C, S, 40000, 80, SYN))!.flow;
    t.track(tcp(S, C, 80, 40000, RST | ACK));
    const again = t.track(tcp(C, S, 40000, 80, SYN))!;
    expect(again.isNew).toBe(true);
    expect(again.flow.id).not.toBe(first.id);
    const ended = t.drainEnded();
    expect(ended).toEqual([{ flow: first, reason: 'closed' }]);
    expect(t.size).toBe(1);
  });
});

describe('FlowTable expiry and bounds', () => {
  it('expires idle flows by their state timeout and reports the reason', () => {
    const t = new FlowTable({ timeouts: { udp: 60, tcpSyn: 30, tcpClosed: 10, tcpEstablished: 600 } });
    const udp = t.track(pkt({ src: C, dst: S, proto: 'udp', srcPort: 1, dstPort: 2 }, T0))!.flow;
    const syn = t.track(tcp(C, S, 40000, 80, SYN, T0))!.flow;
    const est = t.track(tcp(C, S, 40001, 80, ACK, T0))!.flow;
    const rst = t.track(tcp(C, S, 40002, 80, ACK, T0))!.flow;
    t.track(tcp(C, S, 40002, 80, RST, T0));

    expect(t.expire(T0 + 9)).toEqual([]);
    expect(t.expire(T0 + 10)).toEqual([{ flow: rst, reason: 'closed' }]);
    expect(t.expire(T0 + 30)).toEqual([{ flow: syn, reason: 'timeout' }]);
    expect(t.expire(T0 + 59)).toEqual([]);
    expect(t.expire(T0 + 60)).toEqual([{ flow: udp, reason: 'timeout' }]);
    expect(t.expire(T0 + 599)).toEqual([]);
    expect(t.expire(T0 + 600)).toEqual([{ flow: est, reason: 'timeout' }]);
    expect(t.size).toBe(0);
    expect(t.stats.timedOut).toBe(3);
    expect(t.stats.closed).toBe(1);
  });

  it('keeps a flow alive while packets keep coming', () => {
    const t = new FlowTable({ timeouts: { udp: 5 } });
    const f = t.track(pkt({ src: C, dst: S, proto: 'udp', srcPort: 1, dstPort: 2 }, T0))!.flow;
    for (let i = 1; i <= 10; i++) {
      t.track(pkt({ src: S, dst: C, proto: 'udp', srcPort: 2, dstPort: 1 }, T0 + i * 4));
      expect(t.expire(T0 + i * 4 + 1)).toEqual([]);
    }
    expect(t.expire(T0 + 45)).toEqual([{ flow: f, reason: 'timeout' }]);
  });

  it('moves a flow to the established timeout after its handshake', () => {
    const t = new FlowTable({ timeouts: { tcpSyn: 5, tcpEstablished: 100 } });
    t.track(tcp(C, S, 40000, 80, SYN, T0));
    t.track(tcp(S, C, 80, 40000, SYN | ACK, T0));
    t.track(tcp(C, S, 40000, 80, ACK, T0));
    expect(t.expire(T0 + 50)).toEqual([]);
    expect(t.expire(T0 + 100)).toHaveLength(1);
  });

  it('evicts the least recently used flow when full and reports it once', () => {
    const t = new FlowTable({ maxFlows: 3 });
    const flows = [1, 2, 3].map((i) => t.track(pkt({ src: C, dst: S, proto: 'udp', srcPort: i, dstPort: 53 }, T0 + i))!.flow);
    // Refresh flow 1, so flow 2 becomes the least recently used.
    t.track(pkt({ src: S, dst: C, proto: 'udp', srcPort: 53, dstPort: 1 }, T0 + 4));
    const fourth = t.track(pkt({ src: C, dst: S, proto: 'udp', srcPort: 4, dstPort: 53 }, T0 + 5))!;
    expect(fourth.isNew).toBe(true);
    expect(t.size).toBe(3);
    expect(t.drainEnded()).toEqual([{ flow: flows[1], reason: 'evicted' }]);
    expect(t.drainEnded()).toEqual([]);
    expect(t.stats.evicted).toBe(1);
    // The evicted tuple comes back as a new flow with a new id.
    const back = t.track(pkt({ src: C, dst: S, proto: 'udp', srcPort: 2, dstPort: 53 }, T0 + 6))!;
    expect(back.isNew).toBe(true);
    expect(back.flow.id).not.toBe(flows[1]!.id);
    expect(t.drainEnded()[0]!.flow).toBe(flows[2]);
  });

  it('evicts across timeout classes by last activity', () => {
    const t = new FlowTable({ maxFlows: 2 });
    const tcpFlow = t.track(tcp(C, S, 40000, 80, ACK, T0))!.flow;
    t.track(pkt({ src: C, dst: S, proto: 'udp', srcPort: 1, dstPort: 2 }, T0 + 1));
    t.track(pkt({ src: C, dst: S, proto: 'icmp' }, T0 + 2));
    expect(t.drainEnded()).toEqual([{ flow: tcpFlow, reason: 'evicted' }]);
  });

  it('never reuses ids, even after flows end', () => {
    const t = new FlowTable({ maxFlows: 4, timeouts: { udp: 1 } });
    const seen = new Set<number>();
    let last = 0;
    for (let i = 0; i < 500; i++) {
      const r = t.track(pkt({ src: C, dst: S, proto: 'udp', srcPort: 1000 + (i % 7), dstPort: 53 }, T0 + i))!;
      if (r.isNew) {
        expect(seen.has(r.flow.id)).toBe(false);
        expect(r.flow.id).toBeGreaterThan(last);
        seen.add(r.flow.id);
        last = r.flow.id;
      }
      if (i % 3 === 0) t.expire(T0 + i);
      t.drainEnded();
    }
    expect(seen.size).toBeGreaterThan(7);
  });

  it('ends every flow at shutdown, pending evictions first', () => {
    const t = new FlowTable({ maxFlows: 2 });
    for (let i = 0; i < 3; i++) t.track(pkt({ src: C, dst: S, proto: 'udp', srcPort: i, dstPort: 9 }, T0 + i));
    const ends = t.endAll();
    expect(ends.map((e) => e.reason)).toEqual(['evicted', 'shutdown', 'shutdown']);
    expect(new Set(ends.map((e) => e.flow.id)).size).toBe(3);
    expect(t.size).toBe(0);
    expect([...t.flows()]).toEqual([]);
    expect(t.track(pkt({ src: C, dst: S, proto: 'udp', srcPort: 0, dstPort: 9 }, T0 + 9))!.isNew).toBe(true);
  });

  it('stays consistent under many flows with hash chains, expiry and eviction', () => {
    const t = new FlowTable({ maxFlows: 1000, timeouts: { udp: 50 } });
    let ended = 0;
    for (let i = 0; i < 20000; i++) {
      const port = 1 + (i * 7919) % 3000;
      const fwd = i % 2 === 0;
      const p = pkt({ src: fwd ? C : S, dst: fwd ? S : C, proto: 'udp', srcPort: fwd ? port : 53, dstPort: fwd ? 53 : port }, T0 + i / 100);
      t.track(p);
      if (i % 100 === 0) ended += t.expire(T0 + i / 100).length;
      ended += t.drainEnded().length;
      expect(t.size).toBeLessThanOrEqual(1000);
    }
    const live = [...t.flows()];
    expect(live.length).toBe(t.size);
    expect(t.stats.created).toBe(ended + t.size);
  });
});

describe('FlowTable hash', () => {
  it('flows crafted so that address XOR port is the same still get chains of their own', () => {
    // With address and port XORed before mixing, all 20000 of these shared one chain.
    const table = new FlowTable();
    for (let i = 0; i < 20000; i++) {
      const low = 0x0100 + i; // 198.18.<low>: the address's low 16 bits
      const src = `198.18.${low >> 8}.${low & 255}`;
      table.track(pkt({ src, dst: '198.18.200.1', proto: 'udp', srcPort: 0x5a5a ^ low, dstPort: 5000 }));
    }
    expect(table.size).toBe(20000);
    expect(table.chains).toBeGreaterThan(19900);
  });

  it('two tables hash the same flows differently (a per-table random seed), so collisions cannot be precomputed', () => {
    const flows = Array.from({ length: 64 }, (_, i) => pkt({ src: '198.18.0.1', dst: '198.18.0.2', proto: 'udp', srcPort: 1000 + i, dstPort: 53 }));
    // hashBits 4: 16 chains, so where each flow lands is visible in the chain count of small groups.
    const spread = (t: FlowTable): number[] => flows.map((p) => { const before = t.chains; t.track(p); return t.chains - before; });
    const a = spread(new FlowTable({ hashBits: 4 }));
    const b = spread(new FlowTable({ hashBits: 4 }));
    const c = spread(new FlowTable({ hashBits: 4 }));
    // Which flows opened a new chain depends on the seed: two tables agree by chance about once in 200,000, three far more rarely.
    expect(a.join('') === b.join('') && b.join('') === c.join('')).toBe(false);
  });
});
