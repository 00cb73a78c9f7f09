import { describe, expect, it } from 'vitest';
import { buildPacket, type PacketSpec } from '../../../host/packet/build.js';
import { decodePacket } from '../../../host/packet/decode.js';
import { LinkType, addrLength, dstAddrOffset, srcAddrOffset } from '../../../host/packet/types.js';
import { foldSum, pseudoHeaderSumAt } from '../../../host/packet/checksum.js';
import { completeL4Checksum } from '../../../host/daemon/checksum.js';

const cases: Array<[string, Partial<PacketSpec>, number]> = [
  ['tcp/ipv4', { src: '198.18.0.1', dst: '198.18.1.1', proto: 'tcp' }, 14 + 20 + 16],
  ['udp/ipv4', { src: '198.18.0.1', dst: '198.18.1.1', proto: 'udp' }, 14 + 20 + 6],
  ['tcp/ipv6', { src: '2001:db8::1', dst: '2001:db8::2', proto: 'tcp' }, 14 + 40 + 16],
  ['udp/ipv6', { src: '2001:db8::1', dst: '2001:db8::2', proto: 'udp' }, 14 + 40 + 6],
];

/** The folded pseudo-header sum a sender leaves in the field for offload. */
function pseudoSum(frame: Uint8Array, proto: number): number {
  const pkt = decodePacket(frame, LinkType.ETHERNET);
  return foldSum(pseudoHeaderSumAt(frame, srcAddrOffset(pkt), frame, dstAddrOffset(pkt), addrLength(pkt), proto, frame.length - pkt.l4Offset));
}

describe('inline TX checksum completion', () => {
  it.each(cases)('%s: an offload-pending checksum is completed, a correct one unchanged', (_n, spec, field) => {
    const good = buildPacket({ srcPort: 40000, dstPort: 80, payload: 'some payload bytes!', ...spec } as PacketSpec);
    const same = good.slice();
    completeL4Checksum(decodePacket(same, LinkType.ETHERNET));
    expect(same).toEqual(good);
    const partial = good.slice();
    const pseudo = pseudoSum(partial, spec.proto === 'tcp' ? 6 : 17);
    partial[field] = pseudo >> 8;
    partial[field + 1] = pseudo & 0xff;
    completeL4Checksum(decodePacket(partial, LinkType.ETHERNET));
    expect(partial).toEqual(good);
  });

  // A recomputed wrong checksum hands the receiver corrupted data, or an
  // evader's decoy, as good: the receiver must see it wrong and drop it.
  it.each(cases)('%s: a wrong checksum that is not an offload one goes on wrong', (_n, spec, field) => {
    const good = buildPacket({ srcPort: 40000, dstPort: 80, payload: 'some payload bytes!', ...spec } as PacketSpec);
    const bad = good.slice();
    bad[field] = bad[field]! ^ 0x5a;
    const sent = bad.slice();
    completeL4Checksum(decodePacket(sent, LinkType.ETHERNET));
    expect(sent).toEqual(bad);
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
