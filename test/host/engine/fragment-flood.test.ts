// A fragment flood that fills the defragmenter evicts the attack's datagram:
// its fragments must be dropped and counted (fail closed), never passed uninspected.
import { describe, expect, it } from 'vitest';
import { Engine } from '../../../host/engine/engine.js';
import type { PacketDecision } from '../../../host/engine/types.js';
import { DEFAULT_DEFRAG_OPTIONS } from '../../../host/flow/defrag.js';
import { fragmentIp } from '../../../host/packet/build.js';
import { decodePacket } from '../../../host/packet/decode.js';
import { LinkType } from '../../../host/packet/types.js';
import { ACK, ATTACK, PSH, StreamRecorder, c2s, handshake } from './evasion-support.js';
import { T0 } from './support.js';

describe('fragment flood at the memory bound', () => {
  it('drops the evicted datagram\'s fragments, before and after the flood, and says how many datagrams were evicted', () => {
    const attack = fragmentIp(c2s(ACK | PSH, 1001, ATTACK), 24, 7);
    const flood: Uint8Array[] = [];
    for (let i = 0; i < DEFAULT_DEFRAG_OPTIONS.maxDatagrams; i++) {
      // First fragments only: each datagram stays incomplete.
      flood.push(fragmentIp(c2s(ACK | PSH, 1001, ATTACK, { src: `198.19.${i >> 8}.${i & 255}` }), 24, i)[0]!);
    }
    const frames = [...handshake(), attack[0]!, ...flood, ...attack.slice(1)];
    const attackIndexes = new Set([3, ...attack.slice(1).map((_, i) => 4 + flood.length + i)]);
    const decisions: PacketDecision[] = [];
    const rec = new StreamRecorder();
    const engine = new Engine({ rules: { defaultPolicy: 'inspect', rules: [] }, modules: [{ name: 'rec', instance: rec }], onDecision: (d) => decisions.push(d) });
    frames.forEach((f, i) => engine.pushDecoded(decodePacket(f, LinkType.ETHERNET, T0, i * 1000)));
    const counters = engine.finish();
    const attackDecisions = decisions.filter((d) => attackIndexes.has(d.index));
    expect(attackDecisions).toHaveLength(attack.length);
    expect(attackDecisions.every((d) => d.dropped && d.stage === 'fragment')).toBe(true);
    expect(rec.toServer()).toEqual([]);
    expect(counters.reassembly.datagramsEvicted).toBeGreaterThanOrEqual(1);
  });
});
