// Inline mode sends punted frames out of the peer's AF_XDP socket as they
// arrived. A frame that came from a local stack through a virtual NIC (veth,
// tap) may still carry a TCP/UDP checksum left for offload (only the
// pseudo-header sum), which the receiver would drop; AF_XDP has no offload
// metadata to tell, so such a field is completed before TX. Any other wrong
// checksum is left wrong: a middlebox that recomputed it would hand the
// receiver corrupted data as good, and an evader's decoy as data, where the
// receiver would have dropped both. The engine judges segments by the same
// test (checksum mode `forward`), so it reads what the receiver will take.
import { finishChecksum, pseudoHeaderSumAt, sumWords } from '../packet/checksum.js';
import { addrLength, dstAddrOffset, ipLayerEnd, srcAddrOffset, type DecodedPacket } from '../packet/types.js';
import { holdsPseudoHeaderSum } from '../engine/checksums.js';

export function completeL4Checksum(pkt: DecodedPacket): void {
  // Also leaves alone UDP over IPv4 with no checksum at all (0).
  if (pkt.malformed !== null || !holdsPseudoHeaderSum(pkt)) return;
  const d = pkt.data;
  const end = ipLayerEnd(pkt);
  const field = pkt.l4Offset + (pkt.proto === 6 ? 16 : 6);
  d[field] = 0;
  d[field + 1] = 0;
  const len = end - pkt.l4Offset;
  // Addresses read in the frame: pkt.src/pkt.dst would make two views per forwarded packet.
  const pseudo = pseudoHeaderSumAt(d, srcAddrOffset(pkt), d, dstAddrOffset(pkt), addrLength(pkt), pkt.proto, len);
  let c = finishChecksum(sumWords(d, pkt.l4Offset, end, pseudo));
  if (pkt.proto === 17 && c === 0) c = 0xffff;
  d[field] = c >> 8;
  d[field + 1] = c & 0xff;
}
