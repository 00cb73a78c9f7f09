// The reassembler files a fragment under datagramKey; the engine matches the
// fragments it holds with inDatagram. Both must mean the same datagram, or a
// completed or given-up datagram takes another's fragments along (or leaves
// its own behind). Random fragments from small pools of every field, so that
// most pairs share some fields and differ in one.
import { describe, expect, it } from 'vitest';
import { datagramKey } from '../../../host/flow/defrag.js';
import { datagramIdOf, inDatagram } from '../../../host/flow/datagram-id.js';
import { buildPacket, fragmentIp } from '../../../host/packet/build.js';
import { decodePacket } from '../../../host/packet/decode.js';
import { LinkType, type DecodedPacket } from '../../../host/packet/types.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('datagram identity', () => {
  it('datagramKey and inDatagram agree on 400 random fragments, pair by pair', () => {
    const r = rng(7);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
    const frags: DecodedPacket[] = [];
    while (frags.length < 400) {
      const v6 = r() < 0.4;
      const src = v6 ? pick(['2001:db8::1', '2001:db8::2']) : pick(['10.0.0.1', '10.0.0.2']);
      const dst = v6 ? pick(['2001:db8::9', '2001:db8::1']) : pick(['10.0.0.9', '10.0.0.1']);
      const vlans = pick([[], [10], [10, 7], [10, 8], [11, 7]]);
      const frame = buildPacket({ src, dst, proto: pick(['tcp', 'udp'] as const), srcPort: 1000, dstPort: 80, ipId: pick([1, 2, 0x10002]) & 0xffff, vlans, payload: 'p'.repeat(64) });
      const parts = fragmentIp(frame, 32);
      const f = decodePacket(pick(parts), LinkType.ETHERNET, 1, 0);
      if (f.fragment) frags.push(f);
    }
    let same = 0;
    for (const a of frags) {
      for (const b of frags) {
        const byKey = datagramKey(a) === datagramKey(b);
        expect(inDatagram(a, datagramIdOf(b)), 'key and match disagree').toBe(byKey);
        if (byKey) same++;
      }
    }
    // The pools make both answers common.
    expect(same).toBeGreaterThan(400);
    expect(same).toBeLessThan(400 * 400 / 4);
  });
});
