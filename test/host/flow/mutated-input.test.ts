import { describe, expect, it } from 'vitest';
import { Defragmenter } from '../../../host/flow/defrag.js';
import { TcpStreamPair } from '../../../host/flow/stream.js';
import { FlowTable } from '../../../host/flow/table.js';
import { buildPacket, fragmentIp } from '../../../host/packet/build.js';
import { decodePacket } from '../../../host/packet/decode.js';
import { LinkType } from '../../../host/packet/types.js';
import { rng } from './helpers.js';

describe('flows, defrag and streams on mutated input', () => {
  it('never throw and keep their bounds on 20,000 mutated fragments and segments', () => {
    const rand = rng(2026);
    const seeds: Uint8Array[] = [];
    for (let i = 0; i < 6; i++) {
      const v6 = i % 2 === 1;
      const frame = buildPacket({
        src: v6 ? '2001:db8::5' : '198.18.4.5', dst: v6 ? '2001:db8::6' : '198.18.4.6',
        proto: i % 3 === 0 ? 'udp' : 'tcp', srcPort: 1000 + i, dstPort: 80, ipId: i, vlans: i === 4 ? [42] : [],
        payload: new Uint8Array(300 + i * 50).fill(i),
        ...(v6 && i === 3 ? { ipv6ExtHeaders: [{ type: 0 as const }] } : {}),
      });
      seeds.push(frame, ...fragmentIp(frame, 8 * (1 + i)));
    }
    const maxBytes = 64 * 1024;
    const defrag = new Defragmenter({ maxBytes, maxDatagrams: 16, timeoutSec: 5 });
    const table = new FlowTable({ maxFlows: 64 });
    const streams = new Map<number, TcpStreamPair>();
    const deadline = Date.now() + 20_000;
    for (let i = 0; i < 20_000 && Date.now() < deadline; i++) {
      const base = seeds[Math.floor(rand() * seeds.length)]!;
      const frame = base.slice(0, rand() < 0.1 ? Math.floor(rand() * base.length) : base.length);
      const flips = Math.floor(rand() * 4);
      for (let k = 0; k < flips; k++) frame[Math.floor(rand() * frame.length)] = Math.floor(rand() * 256);
      const p = decodePacket(frame, LinkType.ETHERNET, 1_700_000_000 + Math.floor(i / 200), 0);
      const whole = defrag.push(p);
      if (whole !== null && whole.malformed === null) {
        const tr = table.track(whole);
        if (tr !== null && whole.proto === 6) {
          let pair = streams.get(tr.flow.id);
          if (pair === undefined) { pair = new TcpStreamPair(4096); streams.set(tr.flow.id, pair); }
          pair.pushPacket(whole, tr.direction);
          expect(pair.stream(tr.direction).length).toBeLessThanOrEqual(4096);
        }
      }
      for (const end of [...table.drainEnded(), ...table.expire(1_700_000_000 + i / 200)]) streams.delete(end.flow.id);
      expect(defrag.pending).toBeLessThanOrEqual(16);
      expect(defrag.bytesHeld).toBeLessThanOrEqual(maxBytes);
      expect(table.size).toBeLessThanOrEqual(64);
    }
    expect(defrag.stats.fragments).toBeGreaterThan(1000);
    expect(defrag.stats.reassembled).toBeGreaterThan(0);
  });
});
