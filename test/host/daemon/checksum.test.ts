import { describe, expect, it } from 'vitest';
import { buildPacket, type PacketSpec } from '../../../host/packet/build.js';
import { decodePacket } from '../../../host/packet/decode.js';
import { LinkType } from '../../../host/packet/types.js';
import { completeL4Checksum } from '../../../host/daemon/checksum.js';

const cases: Array<[string, Partial<PacketSpec>, number]> = [
  ['tcp/ipv4', { src: '198.18.0.1', dst: '198.18.1.1', proto: 'tcp' }, 14 + 20 + 16],
  ['udp/ipv4', { src: '198.18.0.1', dst: '198.18.1.1', proto: 'udp' }, 14 + 20 + 6],
  ['tcp/ipv6', { src: '2001:db8::1', dst: '2001:db8::2', proto: 'tcp' }, 14 + 40 + 16],
  ['udp/ipv6', { src: '2001:db8::1', dst: '2001:db8::2', proto: 'udp' }, 14 + 40 + 6],
];

describe('inline TX checksum completion', () => {
  it.each(cases)('%s: an offload-pending checksum is completed, a correct one unchanged', (_n, spec, field) => {
    const good = buildPacket({ srcPort: 40000, dstPort: 80, payload: 'some payload bytes!', ...spec } as PacketSpec);
    const same = good.slice();
    completeL4Checksum(decodePacket(same, LinkType.ETHERNET));
    expect(same).toEqual(good);
    const partial = good.slice();
    partial[field] = 0x12;
    partial[field + 1] = 0x34;
    completeL4Checksum(decodePacket(partial, LinkType.ETHERNET));
    expect(partial).toEqual(good);
  });

  it('leaves IPv4 UDP without a checksum alone', () => {
    const f = buildPacket({ src: '198.18.0.1', dst: '198.18.1.1', proto: 'udp', srcPort: 1, dstPort: 2, payload: 'x' } as PacketSpec);
    f[14 + 20 + 6] = 0;
    f[14 + 20 + 7] = 0;
    const copy = f.slice();
    completeL4Checksum(decodePacket(copy, LinkType.ETHERNET));
    expect(copy).toEqual(f);
  });
});
