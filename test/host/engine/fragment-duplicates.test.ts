// The engine keeps a copy of every fragment of an incomplete datagram, to send
// them on once it is inspected. The defragmenter's memory bound counted the
// datagram's bytes, not those copies: the same fragment sent again and again
// (a duplicate adds no byte to the datagram) grew the copies without bound
// until the datagram timed out (30 s, millions of packets at line rate).
import { describe, expect, it } from 'vitest';
import { Engine } from '../../../host/engine/engine.js';
import type { PacketDecision } from '../../../host/engine/types.js';
import { DEFAULT_DEFRAG_OPTIONS } from '../../../host/flow/defrag.js';
import { fragmentIp } from '../../../host/packet/build.js';
import { decodePacket } from '../../../host/packet/decode.js';
import { LinkType } from '../../../host/packet/types.js';
import { ACK, ATTACK, PSH, StreamRecorder, c2s, handshake } from './evasion-support.js';
import { T0 } from './support.js';

describe('duplicate fragment flood', () => {
  it('holds the copies within the defragmenter\'s byte bound: the flooded datagram is evicted, dropped and counted', () => {
    const frags = fragmentIp(c2s(ACK | PSH, 1001, ATTACK), 24, 7);
    const dup = frags[1]!;
    // Far past what the byte bound allows once each copy counts (4 MiB / 60-byte frames ≈ 70,000).
    const copies = 200_000;
    // Counted, not kept: a list of 200,000 decisions would be the test's own memory growth.
    let fragmentSources = 0, fragmentPassed = 0;
    const count = (d: PacketDecision): void => {
      if (d.stage !== 'fragment') return;
      fragmentSources += d.sources.length;
      if (!d.dropped) fragmentPassed++;
    };
    const rec = new StreamRecorder();
    const engine = new Engine({ rules: { defaultPolicy: 'inspect', rules: [] }, modules: [{ name: 'rec', instance: rec }], onDecision: count });
    handshake().forEach((f, i) => engine.pushDecoded(decodePacket(f, LinkType.ETHERNET, T0, i * 1000)));
    engine.pushDecoded(decodePacket(frags[0]!, LinkType.ETHERNET, T0, 5000));
    const heapBefore = process.memoryUsage().heapUsed;
    // All inside one second: no timeout helps.
    for (let i = 0; i < copies; i++) engine.pushDecoded(decodePacket(dup, LinkType.ETHERNET, T0, 10_000 + i));
    const grown = process.memoryUsage().heapUsed - heapBefore;
    expect(engine.heldFragmentCount).toBeLessThan(copies / 2);
    expect(grown).toBeLessThan(48 * 1024 * 1024);
    const counters = engine.finish();
    expect(counters.reassembly.datagramsEvicted).toBeGreaterThanOrEqual(1);
    // Every copy got its decision, dropped: none passed uninspected, none is still held.
    expect(fragmentSources).toBe(copies + 1);
    expect(fragmentPassed).toBe(0);
    expect(rec.toServer()).toEqual([]);
    expect(DEFAULT_DEFRAG_OPTIONS.maxBytes).toBe(4 * 1024 * 1024);
  });
});
