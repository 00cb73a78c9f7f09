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
    // Exact order: the reference evicts the least recently seen flow to the millisecond.
    const table = new FlowTable({ maxFlows, timeouts, hashBits, lruResolutionSec: 0 });
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

  // The default moves a flow in its idle list at most once per lruResolutionSec:
  // ends may come that much late, never early, and an evicted flow was seen
  // at most that long after the least recently seen one.
  it.each([1, 0.4])('with lruResolutionSec %s, flows end no earlier than their timeout and no later than the resolution after it; evictions stay within it', (res) => {
    const timeouts = { udp: 7, icmp: 3, tcpEstablished: 20 };
    const table = new FlowTable({ maxFlows: 12, timeouts, lruResolutionSec: res });
    const rand = rng(1234);
    const T0 = 1_700_000_000;
    const hosts = ['198.18.5.1', '198.18.5.2', '198.18.5.3', '2001:db8::1', '2001:db8::2'];
    let prevExpire = T0;
    let timedOut = 0, evicted = 0;
    for (let i = 0; i < 4000; i++) {
      const nowMs = i * 120 + Math.floor(rand() * 100);
      const tsSec = T0 + Math.floor(nowMs / 1000), tsNsec = (nowMs % 1000) * 1_000_000;
      const now = tsSec + tsNsec * 1e-9;
      // Busy phases (many flows: evictions) alternate with quiet ones (two flows: the rest time out).
      const busy = Math.floor(i / 400) % 2 === 0;
      const a = hosts[busy ? Math.floor(rand() * 5) : 0]!;
      const b = hosts[(hosts.indexOf(a) + 1 + Math.floor(rand() * 2)) % 5]!;
      const same = a.includes(':') === b.includes(':');
      const proto = rand() < 0.6 ? 'udp' : 'tcp';
      const sport = busy ? 1000 + Math.floor(rand() * 20) : 999;
      const p = pkt({ src: a, dst: same ? b : a, proto, srcPort: sport, dstPort: 53, tcpFlags: TcpFlag.ACK }, tsSec, tsNsec);
      table.track(p);
      for (const e of table.drainEnded()) {
        if (e.reason !== 'evicted') continue;
        evicted++;
        const oldestLive = Math.min(...[...table.flows()].map((f) => f.last));
        expect(e.flow.last, `eviction at packet ${i}`).toBeLessThanOrEqual(Math.min(oldestLive, now) + res + 1e-6);
      }
      if (i % 7 === 0) {
        for (const e of table.expire(now)) {
          if (e.reason !== 'timeout') continue;
          timedOut++;
          const timeout = e.flow.proto === 17 ? timeouts.udp : timeouts.tcpEstablished;
          const due = e.flow.last + timeout;
          expect(now, `flow ${e.flow.id} ended early`).toBeGreaterThanOrEqual(due);
          // Late by at most the resolution, plus the gap since the previous expire() call.
          expect(now - due, `flow ${e.flow.id} ended late`).toBeLessThanOrEqual(res + (now - prevExpire) + 1e-6);
        }
        // Nothing left that is past its timeout by more than the resolution.
        for (const f of table.flows()) {
          const timeout = f.proto === 17 ? timeouts.udp : timeouts.tcpEstablished;
          expect(f.last + timeout + res, `flow ${f.id} kept too long`).toBeGreaterThan(now);
        }
        prevExpire = now;
      }
    }
    expect(timedOut).toBeGreaterThan(10);
    expect(evicted).toBeGreaterThan(10);
  });
});

