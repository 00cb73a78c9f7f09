// When the reassembler gives a datagram up (its timeout, its memory bound),
// the engine decides the fragments it held for it, and only those: an IPv4
// datagram is its addresses, id and protocol (RFC 791), so a TCP datagram
// that times out must not take along the held fragments of a UDP datagram
// that shares its id and addresses, which is still arriving.
import { describe, expect, it } from 'vitest';
import { Engine } from '../../../host/engine/engine.js';
import type { PacketDecision } from '../../../host/engine/types.js';
import { buildPacket, fragmentIp } from '../../../host/packet/build.js';
import { decodePacket } from '../../../host/packet/decode.js';
import { LinkType } from '../../../host/packet/types.js';
import { T0 } from './support.js';

describe('fragments of a given-up datagram', () => {
  it('a timed-out TCP datagram releases its own fragments, not a UDP datagram\'s of the same id', () => {
    const spec = { src: '10.0.0.1', dst: '10.0.0.2', ipId: 0x4242, payload: 'x'.repeat(120) };
    const tcp = fragmentIp(buildPacket({ ...spec, proto: 'tcp', srcPort: 40000, dstPort: 80 }), 48);
    const udp = fragmentIp(buildPacket({ ...spec, proto: 'udp', srcPort: 5000, dstPort: 53 }), 48);
    const decisions: PacketDecision[] = [];
    const engine = new Engine({ rules: { defaultPolicy: 'pass', rules: [] }, modules: [], onDecision: (d) => decisions.push(d) });
    const push = (frame: Uint8Array, sec: number): void => engine.pushDecoded(decodePacket(frame, LinkType.ETHERNET, T0 + sec, 0));
    push(tcp[0]!, 0); // never completed: given up 30 s later
    push(udp[0]!, 20);
    push(udp[1]!, 21);
    push(buildPacket({ src: '10.0.0.9', dst: '10.0.0.2', proto: 'udp', srcPort: 1, dstPort: 2, payload: 'tick' }), 40);
    push(udp[2]!, 41);
    engine.finish();

    const given = decisions.filter((d) => d.stage === 'fragment');
    expect(given.map((d) => d.pkt.proto)).toEqual([6]);
    const whole = decisions.filter((d) => d.sources.length > 1);
    expect(whole).toHaveLength(1);
    expect(whole[0]!.sources.map((p) => p.proto)).toEqual([17, 17, 17]);
    expect(decisions.reduce((n, d) => n + d.sources.length, 0)).toBe(5);
  });
});
