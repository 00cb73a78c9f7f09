// Two networks behind one outer VLAN (QinQ) can share private addresses and
// IP ids. The engine holds each fragment until its datagram is complete and
// then decides them with it: a fragment of the other network's datagram must
// not be decided (or forwarded) as part of this one.
import { describe, expect, it } from 'vitest';
import { Engine } from '../../../host/engine/engine.js';
import type { PacketDecision } from '../../../host/engine/types.js';
import { buildPacket, fragmentIp } from '../../../host/packet/build.js';
import { decodePacket } from '../../../host/packet/decode.js';
import { LinkType } from '../../../host/packet/types.js';
import { T0 } from './support.js';

describe('fragments under QinQ', () => {
  it('a reassembled datagram is decided with its own inner VLAN\'s fragments only', () => {
    const spec = { src: '10.0.0.1', dst: '10.0.0.2', proto: 'udp' as const, srcPort: 5000, dstPort: 53, ipId: 0x99 };
    const a = fragmentIp(buildPacket({ ...spec, vlans: [100, 7], payload: 'a'.repeat(120) }), 48);
    const b = fragmentIp(buildPacket({ ...spec, vlans: [100, 8], payload: 'b'.repeat(120) }), 48);
    const decisions: PacketDecision[] = [];
    const engine = new Engine({ rules: { defaultPolicy: 'pass', rules: [] }, modules: [], onDecision: (d) => decisions.push(d) });
    // a's first two fragments, all of b, then a's last.
    [a[0]!, a[1]!, ...b, a[2]!].forEach((f, i) => engine.pushDecoded(decodePacket(f, LinkType.ETHERNET, T0, i * 1000)));
    engine.finish();
    const whole = decisions.filter((d) => d.sources.length > 1);
    expect(whole).toHaveLength(2);
    for (const d of whole) {
      const inner = new Set(d.sources.map((p) => p.vlans[1]));
      expect(inner.size, `datagram of inner VLAN ${d.pkt.vlans[1]}`).toBe(1);
      expect(d.sources).toHaveLength(3);
    }
    // Every fragment decided once.
    expect(decisions.reduce((n, d) => n + d.sources.length, 0)).toBe(6);
  });
});
