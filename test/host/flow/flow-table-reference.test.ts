import { describe, expect, it } from 'vitest';
import { FlowTable } from '../../../host/flow/table.js';
import { TcpFlag } from '../../../host/packet/types.js';
import { pkt, rng } from './helpers.js';

// A deliberately naive model of the table: a list scanned on every call.
interface RefFlow { key: string; id: number; last: number; timeout: number }

describe('FlowTable against a naive reference', () => {
  // hashBits 0 puts every flow in one chain and 2 in four: lookups, removals
  // and evictions then go through chains of all lengths, IPv4 and IPv6 mixed.
  it.each([30, 2, 0])('ends the same flows for the same reasons under random traffic, expiry and eviction (hashBits %i)', (hashBits) => {
    const timeouts = { udp: 7, icmp: 3, tcpEstablished: 20 };
    const maxFlows = 12;
    const table = new FlowTable({ maxFlows, timeouts, hashBits });
    const ref: RefFlow[] = [];
    const rand = rng(77);
    const families = [['198.18.5.1', '198.18.5.2', '198.18.5.3'], ['2001:db8::1', '2001:db8::1:0:0:1', '2001:db8:0:1::1']];
    const T0 = 1_700_000_000;
    const ended: string[] = [];
    const refEnded: string[] = [];
    for (let i = 0; i < 3000; i++) {
      // Strictly increasing time (ms steps), so "least recently used" has no ties.
      const nowMs = i * 250 + Math.floor(rand() * 200);
      const tsSec = T0 + Math.floor(nowMs / 1000), tsNsec = (nowMs % 1000) * 1_000_000;
      const now = tsSec + tsNsec * 1e-9; // the packet's own clock, as the table reads it
      const kind = Math.floor(rand() * 3);
      const hosts = families[rand() < 0.7 ? 0 : 1]!;
      const a = hosts[Math.floor(rand() * 3)]!, b = hosts[Math.floor(rand() * 3)]!;
      const port = 1000 + Math.floor(rand() * 4);
      const fwd = rand() < 0.5;
      const proto = kind === 0 ? 'udp' : kind === 1 ? 'icmp' : 'tcp';
      const p = pkt({
        src: fwd ? a : b, dst: fwd ? b : a, proto,
        srcPort: fwd ? port : 53, dstPort: fwd ? 53 : port, tcpFlags: TcpFlag.ACK,
      }, tsSec, tsNsec);
      const ports = proto === 'icmp' ? [0, 0] : [fwd ? port : 53, fwd ? 53 : port];
      const ends = [[fwd ? a : b, ports[0]], [fwd ? b : a, ports[1]]].map((e) => e.join(':')).sort();
      const key = `${proto}|${ends.join('|')}`;
      const timeout = proto === 'udp' ? timeouts.udp : proto === 'icmp' ? timeouts.icmp : timeouts.tcpEstablished;

      const r = table.track(p)!;
      for (const e of table.drainEnded()) ended.push(`${e.flow.id}:${e.reason}`);
      let rf = ref.find((f) => f.key === key);
      expect(r.isNew, `packet ${i}`).toBe(rf === undefined);
      if (rf === undefined) {
        if (ref.length >= maxFlows) {
          let victim = 0;
          for (let k = 1; k < ref.length; k++) if (ref[k]!.last < ref[victim]!.last) victim = k;
          refEnded.push(`${ref[victim]!.id}:evicted`);
          ref.splice(victim, 1);
        }
        rf = { key, id: r.flow.id, last: now, timeout };
        ref.push(rf);
      }
      expect(r.flow.id).toBe(rf.id);
      rf.last = now;

      if (i % 5 === 0) {
        for (const e of table.expire(now)) ended.push(`${e.flow.id}:${e.reason}`);
        for (let k = ref.length - 1; k >= 0; k--) {
          if (ref[k]!.last + ref[k]!.timeout <= now) { refEnded.push(`${ref[k]!.id}:timeout`); ref.splice(k, 1); }
        }
      }
      expect(table.size).toBe(ref.length);
    }
    expect(ended.sort()).toEqual(refEnded.sort());
    expect(refEnded.some((e) => e.endsWith('evicted'))).toBe(true);
    expect(refEnded.some((e) => e.endsWith('timeout'))).toBe(true);
  });
});
