// Which packets the stream reassembler and the TCP state may believe.
//
// A receiving host drops a segment whose TCP checksum (or IPv4 header
// checksum) is wrong. An IDS that takes such a segment as data can be fed
// bytes the host never sees: with first-copy-wins reassembly, a benign
// decoy with a bad checksum sent ahead of the real attack hides the attack
// (Ptacek and Newsham's insertion). Suricata validates checksums for the
// same reason (stream.checksum-validation).
//
// But a capture taken on a host with checksum offload shows every packet
// that host sent with a checksum its NIC was to fill in: refusing them would
// blind the inspector to that whole side (tcpdump on a client, a capture on
// loopback). Suricata's answer for capture files (checksum-checks: auto)
// samples the first 1,000 packets and then turns validation off for the run
// if too many were bad, which loses the stream data of small captures and
// switches off the defence for the rest of a large one. Offload is a
// property of the sending host: the segments its sockets send (SYNs, data)
// are all bad, while an evader's decoys come from a host whose real SYN was
// right, or it would not have connected. So `auto` refuses a bad TCP
// checksum only from a source address that has sent a SYN or a data segment
// with a right one; until then the source is taken as offloaded. (RSTs and
// the ACKs of closed connections do not count: Linux checksums those in
// software even with offload.) An IPv4 header checksum is always computed
// in software, so a bad one is refused in both modes.
import { finishChecksum, foldSum, pseudoHeaderSumAt, sumWords } from '../packet/checksum.js';
import { IpProto, LinkType, TcpFlag, addrLength, dstAddrOffset, ipLayerEnd, srcAddrOffset, type DecodedPacket } from '../packet/types.js';

/**
 * validate and auto: captures (above). offload: the live daemon in host
 * mode, which hands every passed frame to the host's stack through a TAP: a
 * TCP checksum holding only the pseudo-header sum (a sender's offload, as
 * frames from veth and containers carry) goes in as CHECKSUM_PARTIAL and is
 * taken (host/native/sf_tap.c, classify), so it counts as right; any other
 * wrong one is refused, as the stack drops it. forward: inline mode, which
 * completes exactly those pseudo-header sums before it sends a frame on
 * (host/daemon/checksum.ts) and leaves every other checksum as it came, so
 * the receiver drops what was wrong: the same test, under any tags the
 * decoder opened. ignore: never checked (the Engine's default).
 */
export type ChecksumMode = 'validate' | 'auto' | 'offload' | 'forward' | 'ignore';

/**
 * Sources remembered in `auto`. Past this many, a source not remembered is
 * treated as having sent right checksums (its bad ones are refused): a flood
 * of spoofed sources must not make the guard lenient.
 */
export const MAX_PROVEN_SOURCES = 65536;

export interface ChecksumCounters {
  /** Packets whose checksums were checked. */
  checked: number;
  /** IPv4 headers with a wrong checksum. */
  ipv4Bad: number;
  /** TCP segments with a wrong checksum (over a correct IPv4 header). */
  tcpBad: number;
  /** Bad ones refused: kept out of reassembly and the TCP state. The other bad TCP ones were taken as offloaded. */
  refused: number;
}

export class ChecksumGuard {
  readonly counters: ChecksumCounters = { checked: 0, ipv4Bad: 0, tcpBad: 0, refused: 0 };
  /** auto: sources (IPv4 as a number, IPv6 as text) that sent a right checksum. */
  private readonly proven = new Set<number | string>();
  private provenFull = false;

  constructor(private readonly mode: ChecksumMode) {}

  /**
   * False when the host receiving `pkt` would drop it for a bad IPv4 header
   * or TCP checksum and the mode refuses it. True when it is right, when the
   * capture cut it short (the bytes needed are not there), when validation
   * is off, and in `auto` when its source has never sent a right one.
   */
  accepts(pkt: DecodedPacket): boolean {
    if (this.mode === 'ignore') return true;
    const c = this.counters;
    c.checked++;
    if (!ipv4HeaderRight(pkt)) {
      c.ipv4Bad++;
      c.refused++;
      return false;
    }
    const ok = tcpChecksumRight(pkt) || (this.mode === 'offload' && deliveredAsPartial(pkt)) || (this.mode === 'forward' && holdsPseudoHeaderSum(pkt));
    if (!ok) c.tcpBad++;
    if (this.mode !== 'auto') {
      if (!ok) c.refused++;
      return ok;
    }
    const key = sourceKey(pkt);
    if (ok) {
      const fromSocket = (pkt.tcpFlags & TcpFlag.SYN) !== 0 || pkt.payloadLength > 0;
      if (fromSocket && !this.provenFull && !this.proven.has(key)) {
        if (this.proven.size >= MAX_PROVEN_SOURCES) this.provenFull = true;
        else this.proven.add(key);
      }
      return true;
    }
    if (this.proven.has(key) || this.provenFull) {
      c.refused++;
      return false;
    }
    return true;
  }
}

/**
 * The source address as a Set key: IPv4 as a number, IPv6 as its eight
 * 16-bit words in a string of eight code units. join('.') on the bytes cost
 * ~300 ns a checked packet (sixteen number-to-text conversions); this ~50.
 */
function sourceKey(pkt: DecodedPacket): number | string {
  const d = pkt.data;
  const at = srcAddrOffset(pkt);
  if (pkt.ipVersion === 4) return ((d[at]! << 24) | (d[at + 1]! << 16) | (d[at + 2]! << 8) | d[at + 3]!) >>> 0;
  return String.fromCharCode(
    (d[at]! << 8) | d[at + 1]!, (d[at + 2]! << 8) | d[at + 3]!, (d[at + 4]! << 8) | d[at + 5]!, (d[at + 6]! << 8) | d[at + 7]!,
    (d[at + 8]! << 8) | d[at + 9]!, (d[at + 10]! << 8) | d[at + 11]!, (d[at + 12]! << 8) | d[at + 13]!, (d[at + 14]! << 8) | d[at + 15]!);
}

function ipv4HeaderRight(pkt: DecodedPacket): boolean {
  if (pkt.ipVersion !== 4) return true;
  const data = pkt.data;
  const l3 = pkt.l3Offset;
  const ihl = (data[l3]! & 0x0f) << 2;
  return l3 + ihl > data.length || finishChecksum(sumWords(data, l3, l3 + ihl)) === 0;
}

/**
 * Whether the TAP delivery gives the stack this TCP segment as CHECKSUM_PARTIAL:
 * untagged Ethernet, IPv4 unfragmented or IPv6 with TCP as its first next
 * header, and a checksum field that is non-zero and equals the folded
 * pseudo-header sum. The same test as sf_tap.c's classify().
 */
function deliveredAsPartial(pkt: DecodedPacket): boolean {
  const l3 = pkt.l3Offset;
  if (pkt.linkType !== LinkType.ETHERNET || l3 !== 14 || pkt.proto !== IpProto.TCP) return false;
  if (pkt.ipVersion === 6 && pkt.l4Offset !== l3 + 40) return false;
  return holdsPseudoHeaderSum(pkt);
}

/**
 * Whether the TCP or UDP checksum field of an unfragmented packet is
 * non-zero and holds only the folded pseudo-header sum: what a sender that
 * left the checksum to offload puts there. A right checksum equals it only
 * when it is also right, so completing such a field never changes a right one.
 */
export function holdsPseudoHeaderSum(pkt: DecodedPacket): boolean {
  const l4 = pkt.l4Offset;
  const proto = pkt.proto;
  if (l4 < 0 || pkt.l3Offset < 0 || pkt.fragment !== null || (proto !== IpProto.TCP && proto !== IpProto.UDP)) return false;
  const data = pkt.data;
  const ipEnd = ipLayerEnd(pkt);
  const at = l4 + (proto === IpProto.TCP ? 16 : 6);
  if (ipEnd > data.length || at + 2 > ipEnd) return false;
  const field = (data[at]! << 8) | data[at + 1]!;
  return field !== 0 && field === foldSum(pseudoHeaderSumAt(data, srcAddrOffset(pkt), data, dstAddrOffset(pkt), addrLength(pkt), proto, ipEnd - l4));
}

/** Whether the TCP checksum is right; true when it cannot be checked (not TCP, a fragment, cut by the capture). */
function tcpChecksumRight(pkt: DecodedPacket): boolean {
  const l4 = pkt.l4Offset;
  // A fragment's TCP checksum covers the whole datagram: it is checked once rebuilt.
  if (pkt.proto !== IpProto.TCP || l4 < 0 || pkt.fragment !== null) return true;
  const data = pkt.data;
  const ipEnd = ipLayerEnd(pkt);
  if (ipEnd <= l4 || ipEnd > data.length) return true;
  const len = ipEnd - l4;
  const sum = sumFast(data, l4, ipEnd, pseudoHeaderSumAt(data, srcAddrOffset(pkt), data, dstAddrOffset(pkt), pkt.ipVersion === 4 ? 4 : 16, IpProto.TCP, len));
  return finishChecksum(sum) === 0;
}

// sumWords reads a byte at a time: about 1.5 ns a byte, 2 µs for a full
// segment, on every inspected one. Four bytes per read through a DataView
// take a third of that. Frames of a capture share their chunk's buffer, so
// the view is made once per buffer, not per packet.
let viewBuffer: ArrayBufferLike | null = null;
let view: DataView | null = null;

/** sumWords(data, start, end, initial), four bytes at a time. */
function sumFast(data: Uint8Array, start: number, end: number, initial: number): number {
  if (data.buffer !== viewBuffer) {
    viewBuffer = data.buffer;
    view = new DataView(data.buffer);
  }
  const dv = view!;
  const base = data.byteOffset;
  let sum = initial;
  let i = start;
  for (; i + 3 < end; i += 4) {
    const v = dv.getUint32(base + i);
    sum += (v >>> 16) + (v & 0xffff);
  }
  return sumWords(data, i, end, sum);
}
