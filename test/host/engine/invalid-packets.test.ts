// The engine decides invalid packets (DecodedPacket.invalid) as the XDP
// program does: dropped before the penalty box, flows, reassembly and rules,
// at a stage of their own. A SYN cut into 8-byte fragments (nmap -f) thus
// never completes offline either, where reassembling it would have reported
// a datagram the live system never lets through.
import { describe, expect, it } from 'vitest';
import { Engine } from '../../../host/engine/engine.js';
import type { PacketDecision } from '../../../host/engine/types.js';
import { buildPacket, fragmentIp } from '../../../host/packet/build.js';
import { decodePacket } from '../../../host/packet/decode.js';
import { LinkType, TcpFlag } from '../../../host/packet/types.js';
import { T0 } from './support.js';

function run(frames: Uint8Array[]) {
  const decisions: PacketDecision[] = [];
  const engine = new Engine({ rules: { defaultPolicy: 'pass', rules: [] }, modules: [], onDecision: (d) => decisions.push(d) });
  frames.forEach((f, i) => engine.pushDecoded(decodePacket(f, LinkType.ETHERNET, T0, i * 1000)));
  const counters = engine.finish();
  return { decisions: decisions.sort((a, b) => a.index - b.index), counters };
}

describe('invalid packets in the engine', () => {
  it('the tiny first fragment of a SYN is dropped as invalid, so its datagram never completes', () => {
    const syn = buildPacket({ src: '198.18.0.1', dst: '198.18.1.1', proto: 'tcp', srcPort: 40000, dstPort: 22, tcpFlags: TcpFlag.SYN });
    const frags = fragmentIp(syn, 8);
    const { decisions, counters } = run(frags);
    expect(decisions.map((d) => [d.index, d.stage, d.dropped])).toEqual([[0, 'invalid', true], ...frags.slice(1).map((_, i) => [i + 1, 'fragment', true])]);
    expect(counters.byStage.invalid).toBe(1);
    expect(counters.datagramsReassembled).toBe(0);
  });

  it('nine IPv6 extension headers: dropped as invalid under a default of pass', () => {
    const p = buildPacket({ src: '2001:db8::1', dst: '2001:db8::2', proto: 'tcp', dstPort: 22, ipv6ExtHeaders: Array.from({ length: 9 }, () => ({ type: 60 as const })) });
    const { decisions, counters } = run([p, buildPacket({ src: '2001:db8::1', dst: '2001:db8::2', proto: 'tcp', dstPort: 22 })]);
    expect(decisions.map((d) => [d.stage, d.dropped])).toEqual([['invalid', true], ['default', false]]);
    expect(counters.byStage.invalid).toBe(1);
  });

  // It once passed as "not IP", past every rule, though a receiver reading
  // three tags (or a bridge forwarding to one) takes the packet inside.
  it('three VLAN tags: dropped as invalid under a default of pass, not passed as non-IP', () => {
    const spec = { src: '198.18.0.1', dst: '198.18.1.1', proto: 'tcp' as const, dstPort: 22 };
    const { decisions, counters } = run([buildPacket({ ...spec, vlans: [1, 2, 3] }), buildPacket({ ...spec, vlans: [1, 2] })]);
    expect(decisions.map((d) => [d.stage, d.dropped])).toEqual([['invalid', true], ['default', false]]);
    expect(counters.byStage.invalid).toBe(1);
    expect(counters.nonIp).toBe(0);
  });
});
