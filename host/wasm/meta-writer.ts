// Writes one ABI v1 meta record and its packet/stream bytes. Shared by the
// in-thread instance (straight into module memory) and the sandbox (into a
// shared buffer laid out like the module's batch area), so both hand modules
// exactly the same records.
//
// This runs once per packet per module, so it is written for speed: the
// record is 16 aligned little-endian 32-bit stores through one Int32Array
// (adjacent u16/u8 fields packed into one word each), and a frame is copied
// with a single set() of the frame itself, never of a subarray view, unless
// the batch area is too small for it.
import { META, META_ABSENT_U16, MetaFlag } from './abi.js';
import type { InspectItem } from './types.js';

const TWO_32 = 2 ** 32;

// Word indices of the record's fields. The packed words rely on the ABI's
// order of the u16 and u8 fields; the checks below fail at load if abi.ts
// (which test/host/wasm checks against the spec) ever moves one.
const W_FLOW_LO = META.FLOW_ID >> 2;
const W_FLOW_HI = W_FLOW_LO + 1;
const W_TS_SEC = META.TS_SEC >> 2;
const W_TS_NSEC = META.TS_NSEC >> 2;
const W_PKT_PTR = META.PKT_PTR >> 2;
const W_PKT_LEN = META.PKT_LEN >> 2;
const W_PAYLOAD_LEN = META.PAYLOAD_LEN >> 2;
const W_STREAM_PTR = META.STREAM_PTR >> 2;
const W_STREAM_LEN = META.STREAM_LEN >> 2;
const W_STREAM_NEW = META.STREAM_NEW >> 2;
const W_WIRE_LEN = META.WIRE_LEN >> 2;
/** L3_OFF | L4_OFF << 16 */
const W_L3_L4 = META.L3_OFF >> 2;
/** PAYLOAD_OFF | SRC_PORT << 16 */
const W_PAYOFF_SPORT = META.PAYLOAD_OFF >> 2;
/** DST_PORT | VLAN_ID << 16 */
const W_DPORT_VLAN = META.DST_PORT >> 2;
/** IP_VERSION | L4_PROTO << 8 | TCP_FLAGS << 16 | DIRECTION << 24 */
const W_IPV_PROTO_FLAGS_DIR = META.IP_VERSION >> 2;
/** FLAGS | VERDICT << 8 | VERDICT_ARG << 16 */
const W_FLAGS_VERDICT = META.FLAGS >> 2;

function packed(lo: number, hi: number, hiShift: number): boolean {
  return (lo & 3) === 0 && hi === lo + hiShift / 8;
}
if (!(packed(META.L3_OFF, META.L4_OFF, 16) && packed(META.PAYLOAD_OFF, META.SRC_PORT, 16) && packed(META.DST_PORT, META.VLAN_ID, 16)
  && packed(META.IP_VERSION, META.L4_PROTO, 8) && META.TCP_FLAGS === META.IP_VERSION + 2 && META.DIRECTION === META.IP_VERSION + 3
  && packed(META.FLAGS, META.VERDICT, 8) && META.VERDICT_ARG === META.FLAGS + 2 && META.SIZE === 64 && W_FLAGS_VERDICT === 15)) {
  throw new Error('meta-writer: the ABI v1 record layout in abi.ts no longer matches the packed word writes');
}

export interface MetaViews {
  u8: Uint8Array;
  /** Same memory as u8, from byte 0: records are 8-aligned, so every field word is aligned. */
  i32: Int32Array;
}

/** Copies the first `len` bytes of `src`; a view is made only when they are not all of it. */
function place(u8: Uint8Array, src: Uint8Array, at: number, len: number): void {
  u8.set(len === src.length ? src : src.subarray(0, len), at);
}

function off16(v: number): number {
  return v < 0 || v >= META_ABSENT_U16 ? META_ABSENT_U16 : v;
}

/**
 * Writes `item` as the record at byte offset `rec` of the views, its bytes at
 * `dataAt`, with at most `room` bytes of data. Pointers in the record are
 * module addresses: `base` plus the view offset (0 when the views are module
 * memory). `rec` must be 4-aligned. Returns the data bytes used.
 */
export function writeMetaRecord(v: MetaViews, rec: number, dataAt: number, base: number, room: number, item: InspectItem): number {
  const pkt = item.pkt;
  const u8 = v.u8;
  const i32 = v.i32;
  const data = pkt.data;
  const dataLen = data.length;
  let flags = item.flags & 0xff;

  const pktLen = dataLen <= room ? dataLen : room;
  if (pktLen < dataLen) flags |= MetaFlag.TRUNCATED;
  place(u8, data, dataAt, pktLen);
  room -= pktLen;

  let streamPtr = 0;
  let streamLen = 0;
  let streamNew = 0;
  const stream = item.stream;
  if (stream !== null && stream.length > 0 && room > 0) {
    const streamAt = dataAt + pktLen;
    const total = stream.length;
    streamPtr = base + streamAt;
    streamLen = total <= room ? total : room;
    if (streamLen < total) flags |= MetaFlag.STREAM_GAP;
    place(u8, stream, streamAt, streamLen);
    // New bytes sit at the end of the stream: only those left after a cut still count.
    let added = item.streamNew >>> 0;
    if (added > total) added = total;
    streamNew = added - (total - streamLen);
    if (streamNew < 0) streamNew = 0;
  }
  if (pkt.malformed !== null) flags |= MetaFlag.MALFORMED;
  const wireLen = pkt.wireLen;
  if (wireLen > dataLen) flags |= MetaFlag.TRUNCATED;

  // Never point past the bytes actually placed (snaplen or a cut frame).
  const payloadOff = pkt.payloadOffset;
  let payloadLen = 0;
  if (payloadOff >= 0) {
    payloadLen = pktLen - payloadOff;
    if (pkt.payloadLength < payloadLen) payloadLen = pkt.payloadLength;
    if (payloadLen < 0) payloadLen = 0;
  }
  const vlans = pkt.vlans;
  const id = item.flowId;

  const w = rec >> 2;
  i32[w + W_FLOW_LO] = id | 0;
  i32[w + W_FLOW_HI] = (id / TWO_32) | 0;
  i32[w + W_TS_SEC] = pkt.tsSec | 0;
  i32[w + W_TS_NSEC] = pkt.tsNsec | 0;
  i32[w + W_PKT_PTR] = base + dataAt;
  i32[w + W_PKT_LEN] = pktLen;
  i32[w + W_PAYLOAD_LEN] = payloadLen;
  i32[w + W_STREAM_PTR] = streamPtr;
  i32[w + W_STREAM_LEN] = streamLen;
  i32[w + W_STREAM_NEW] = streamNew;
  i32[w + W_WIRE_LEN] = wireLen | 0;
  i32[w + W_L3_L4] = off16(pkt.l3Offset) | (off16(pkt.l4Offset) << 16);
  i32[w + W_PAYOFF_SPORT] = off16(payloadOff) | ((pkt.srcPort & 0xffff) << 16);
  i32[w + W_DPORT_VLAN] = (pkt.dstPort & 0xffff) | ((vlans.length > 0 ? vlans[0]! & 0xffff : 0) << 16);
  i32[w + W_IPV_PROTO_FLAGS_DIR] = (pkt.ipVersion & 0xff) | ((pkt.proto & 0xff) << 8) | ((pkt.tcpFlags & 0xff) << 16) | ((item.direction & 0xff) << 24);
  // VERDICT and VERDICT_ARG are zeroed with FLAGS: the module writes them.
  i32[w + W_FLAGS_VERDICT] = flags;
  return pktLen + streamLen;
}
