// Inline mode sends punted frames out of the peer's AF_XDP socket exactly as
// they arrived. A frame that came from a local stack through a virtual NIC
// (veth, tap) may still carry a TCP/UDP checksum left for offload (only the
// pseudo-header sum), which the receiver would drop; AF_XDP has no offload
// metadata to tell, so the L4 checksum is recomputed before TX. A correct
// checksum recomputes to itself, so wire traffic is unchanged.
import { finishChecksum, pseudoHeaderSumAt, sumWords } from '../packet/checksum.js';
import { addrLength, dstAddrOffset, ipLayerEnd, srcAddrOffset, type DecodedPacket } from '../packet/types.js';

export function completeL4Checksum(pkt: DecodedPacket): void {
  if (pkt.malformed !== null || pkt.fragment !== null || pkt.l4Offset < 0 || pkt.l3Offset < 0) return;
  if (pkt.proto !== 6 && pkt.proto !== 17) return;
  const d = pkt.data;
  const end = ipLayerEnd(pkt);
  if (end > d.length || end <= pkt.l4Offset) return;
  const field = pkt.l4Offset + (pkt.proto === 6 ? 16 : 6);
  if (field + 2 > end) return;
  // UDP over IPv4 may carry no checksum at all (0): leave it so.
  if (pkt.proto === 17 && pkt.ipVersion === 4 && d[field] === 0 && d[field + 1] === 0) return;
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
