// Packs InspectItems into an ABI v1 batch area: one meta record per packet,
// then the packet and stream bytes. Shared by the in-thread instance
// (straight into module memory) and the sandbox (into a shared buffer laid
// out like the module's batch area), so both hand modules the same records.
//
// This runs once per packet per module, so it is written for speed:
// - a record is 16 aligned little-endian 32-bit stores through one
//   Int32Array (adjacent u16/u8 fields packed into one word each), written
//   inside the packing loop: as a function of its own it was not inlined,
//   and the call cost as much as the stores;
// - frames that follow each other in their source's buffer (consecutive
//   DecodedPacket.srcSeq) are copied as one run with one set(). set() costs
//   some 20 ns whatever the size; per frame, that was most of the host's
//   cost. A run also copies the bytes between its frames, which by the
//   srcSeq contract are only the source's framing of the run's own frames
//   (pcap record headers, pcapng block fields, zeroed padding), never bytes
//   of a packet the module was not given. docs/abi/v1.md says so.
import { META, META_ABSENT_U16, MetaFlag } from './abi.js';
import type { InspectItem } from './types.js';

const TWO_32 = 2 ** 32;

/** Largest gap a run spans: a pcap record header is 16 bytes, a pcapng EPB without options 32-35. */
export const MAX_RUN_GAP = 64;

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
const RECORD_WORDS = META.SIZE >> 2;

function packed(lo: number, hi: number, hiShift: number): boolean {
  return (lo & 3) === 0 && hi === lo + hiShift / 8;
}
if (!(packed(META.L3_OFF, META.L4_OFF, 16) && packed(META.PAYLOAD_OFF, META.SRC_PORT, 16) && packed(META.DST_PORT, META.VLAN_ID, 16)
  && packed(META.IP_VERSION, META.L4_PROTO, 8) && META.TCP_FLAGS === META.IP_VERSION + 2 && META.DIRECTION === META.IP_VERSION + 3
  && packed(META.FLAGS, META.VERDICT, 8) && META.VERDICT_ARG === META.FLAGS + 2 && META.SIZE === 64 && W_FLAGS_VERDICT === 15)) {
  throw new Error('batch-packer: the ABI v1 record layout in abi.ts no longer matches the packed word writes');
}

/** Where a batch goes: views over the target buffer and the area's place in it. */
export interface BatchArea {
  u8: Uint8Array;
  /** Same memory as u8, from byte 0. */
  i32: Int32Array;
  /** View offset of record 0; must be 4-aligned. */
  metaAt: number;
  /** View offset of the data region. */
  dataAt: number;
  /** Module address of view offset 0 (0 when the views are module memory). */
  base: number;
  /** Records per call. */
  capacity: number;
  /** Bytes in the data region. */
  dataCapacity: number;
}

function off16(v: number): number {
  return v < 0 || v >= META_ABSENT_U16 ? META_ABSENT_U16 : v;
}

/** Copies the first `len` bytes of `src`; a view is made only when they are not all of it. */
function place(u8: Uint8Array, src: Uint8Array, at: number, len: number): void {
  u8.set(len === src.length ? src : src.subarray(0, len), at);
}

/** Copies a run: bytes [start, end) of the buffer under `first`, its first frame, to view offset `to`. */
function copyRun(u8: Uint8Array, to: number, first: Uint8Array, start: number, end: number): void {
  // A run of one frame needs no view of its buffer.
  u8.set(end - start === first.length ? first : new Uint8Array(first.buffer, start, end - start), to);
}

export class BatchPacker {
  /** Data bytes the last pack() used. */
  used = 0;
  /** The newest packet time among those the last pack() took (0 when it took none). */
  newestSec = 0;
  newestNsec = 0;

  // What placeBytes() placed for the record.
  private pktLen = 0;
  private streamPtr = 0;
  private streamLen = 0;
  private streamNew = 0;
  private cutFlags = 0;

  /**
   * Writes items[from..count) as records 0.. of `area` until the records or
   * the data region are full (a lone item too big for the region is cut and
   * flagged). Returns how many items it took; `used`, `newestSec` and
   * `newestNsec` describe them.
   */
  pack(area: BatchArea, items: readonly InspectItem[], from: number, count: number): number {
    const { u8, i32, metaAt, dataAt, base, capacity, dataCapacity } = area;
    let n = 0;
    let used = 0;
    let sec = 0;
    let nsec = 0;
    // The open run: frames of one source buffer, copied together when it ends.
    let runFirst: Uint8Array | null = null;
    let runSeq = 0;
    let runSrcStart = 0;
    let runSrcEnd = 0;
    /** Data-region offset where the run starts. */
    let runDst = 0;
    while (from + n < count && n < capacity) {
      const item = items[from + n]!;
      const pkt = item.pkt;
      const data = pkt.data;
      const len = data.length;
      const stream = item.stream;
      let at = -1;
      if (stream === null || stream.length === 0) {
        // A whole frame and no stream bytes: it joins the open run, or opens one.
        const seq = pkt.srcSeq;
        if (runFirst !== null && seq === runSeq + 1) {
          const off = pkt.srcOffset;
          const gap = off - runSrcEnd;
          const runAt = runDst + (off - runSrcStart);
          if (gap >= 0 && gap <= MAX_RUN_GAP && runAt + len <= dataCapacity) {
            at = runAt;
            runSeq = seq;
            runSrcEnd = off + len;
          }
        }
        if (at < 0 && seq >= 0 && used + len <= dataCapacity) {
          if (runFirst !== null) copyRun(u8, dataAt + runDst, runFirst, runSrcStart, runSrcEnd);
          runFirst = data;
          runSeq = seq;
          runSrcStart = pkt.srcOffset;
          runSrcEnd = runSrcStart + len;
          runDst = used;
          at = used;
        }
      }
      let pktLen = len;
      let streamPtr = 0;
      let streamLen = 0;
      let streamNew = 0;
      let flags = item.flags & 0xff;
      if (at >= 0) {
        used = at + len;
      } else {
        if (runFirst !== null) {
          copyRun(u8, dataAt + runDst, runFirst, runSrcStart, runSrcEnd);
          runFirst = null;
        }
        if (n > 0 && used + len + (stream !== null ? stream.length : 0) > dataCapacity) break;
        at = used;
        this.placeBytes(u8, item, dataAt + at, base, dataCapacity - at);
        pktLen = this.pktLen;
        streamPtr = this.streamPtr;
        streamLen = this.streamLen;
        streamNew = this.streamNew;
        flags |= this.cutFlags;
        used = at + pktLen + streamLen;
      }

      if (pkt.malformed !== null) flags |= MetaFlag.MALFORMED;
      const wireLen = pkt.wireLen;
      if (wireLen > len) flags |= MetaFlag.TRUNCATED;
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
      const tsSec = pkt.tsSec;
      const tsNsec = pkt.tsNsec;
      const w = (metaAt >> 2) + n * RECORD_WORDS;
      i32[w + W_FLOW_LO] = id | 0;
      i32[w + W_FLOW_HI] = id < TWO_32 ? 0 : (id / TWO_32) | 0;
      i32[w + W_TS_SEC] = tsSec | 0;
      i32[w + W_TS_NSEC] = tsNsec | 0;
      i32[w + W_PKT_PTR] = base + dataAt + at;
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

      if (tsSec > sec || (tsSec === sec && tsNsec > nsec)) {
        sec = tsSec;
        nsec = tsNsec;
      }
      n++;
    }
    if (runFirst !== null) copyRun(u8, dataAt + runDst, runFirst, runSrcStart, runSrcEnd);
    this.used = used;
    this.newestSec = sec;
    this.newestNsec = nsec;
    return n;
  }

  /** Places the item's frame and stream bytes at view offset `at`, cut to `room` bytes. */
  private placeBytes(u8: Uint8Array, item: InspectItem, at: number, base: number, room: number): void {
    const data = item.pkt.data;
    const pktLen = data.length <= room ? data.length : room;
    this.cutFlags = pktLen < data.length ? MetaFlag.TRUNCATED : 0;
    place(u8, data, at, pktLen);
    room -= pktLen;
    this.pktLen = pktLen;
    this.streamPtr = 0;
    this.streamLen = 0;
    this.streamNew = 0;
    const stream = item.stream;
    if (stream === null || stream.length === 0 || room <= 0) return;
    const streamAt = at + pktLen;
    const total = stream.length;
    const streamLen = total <= room ? total : room;
    if (streamLen < total) this.cutFlags |= MetaFlag.STREAM_GAP;
    place(u8, stream, streamAt, streamLen);
    // New bytes sit at the end of the stream: only those left after a cut still count.
    let added = item.streamNew >>> 0;
    if (added > total) added = total;
    const streamNew = added - (total - streamLen);
    this.streamPtr = base + streamAt;
    this.streamLen = streamLen;
    this.streamNew = streamNew < 0 ? 0 : streamNew;
  }
}
