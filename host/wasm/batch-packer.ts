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
//   of a packet the module was not given. docs/abi/v1.md says so;
// - the loop names no module-level constant: in optimized code each use of
//   one (a word index, a flag bit, a helper function) was a load from the
//   module's context plus a type check, 30-odd per record, because V8 does
//   not fold top-level consts of an ES module. Word indices, flag bits and
//   limits are spelled out as numbers; the load-time check below ties each
//   one to abi.ts.
import { META, META_ABSENT_U16, MetaFlag } from './abi.js';
import type { InspectItem } from './types.js';

/** Largest gap a run spans: a pcap record header is 16 bytes, a pcapng EPB without options 32-35. */
export const MAX_RUN_GAP = 64;

// The numbers pack() writes in place of the ABI's names. Packed words rely on
// the ABI's order of the u16 and u8 fields: L3_OFF | L4_OFF << 16 (word 11),
// PAYLOAD_OFF | SRC_PORT << 16 (12), DST_PORT | VLAN_ID << 16 (13),
// IP_VERSION | L4_PROTO << 8 | TCP_FLAGS << 16 | DIRECTION << 24 (14),
// FLAGS | VERDICT << 8 | VERDICT_ARG << 16 (15). test/host/wasm checks abi.ts
// against the spec; this checks pack() against abi.ts.
if (!(META.SIZE === 64 && META.FLOW_ID === 0 && META.TS_SEC === 8 && META.TS_NSEC === 12 && META.PKT_PTR === 16 && META.PKT_LEN === 20
  && META.PAYLOAD_LEN === 24 && META.STREAM_PTR === 28 && META.STREAM_LEN === 32 && META.STREAM_NEW === 36 && META.WIRE_LEN === 40
  && META.L3_OFF === 44 && META.L4_OFF === 46 && META.PAYLOAD_OFF === 48 && META.SRC_PORT === 50 && META.DST_PORT === 52 && META.VLAN_ID === 54
  && META.IP_VERSION === 56 && META.L4_PROTO === 57 && META.TCP_FLAGS === 58 && META.DIRECTION === 59
  && META.FLAGS === 60 && META.VERDICT === 61 && META.VERDICT_ARG === 62
  && META_ABSENT_U16 === 0xffff && MetaFlag.MALFORMED === 0x01 && MetaFlag.TRUNCATED === 0x10 && MAX_RUN_GAP === 64)) {
  throw new Error('batch-packer: the ABI v1 record layout in abi.ts no longer matches the word writes in pack()');
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
    const u8 = area.u8;
    const i32 = area.i32;
    const dataAt = area.dataAt;
    const dataCapacity = area.dataCapacity;
    /** Module address of data-region offset 0. */
    const ptrBase = area.base + dataAt;
    const end = count - from > area.capacity ? from + area.capacity : count;
    let w = area.metaAt >> 2;
    let k = from;
    let used = 0;
    let sec = 0;
    let nsec = 0;
    // The open run: frames of one source buffer, copied together when it ends.
    let runFirst: Uint8Array | null = null;
    /** srcSeq of the frame that would continue the open run; -2 (no frame's) when none is open. */
    let runNext = -2;
    /** Where a frame of the open run must end in its source for the run to fit the data region. */
    let runLimit = 0;
    let runSrcStart = 0;
    let runSrcEnd = 0;
    /** Data-region offset minus source offset, the same for every frame of the run. */
    let runShift = 0;
    for (; k < end; k++, w += 16) {
      const item = items[k]!;
      const pkt = item.pkt;
      const data = pkt.data;
      const len = data.length;
      const stream = item.stream;
      let flags = item.flags & 0xff;
      let pktLen = len;
      let streamPtr = 0;
      let streamLen = 0;
      let streamNew = 0;
      let at = -1;
      if (stream === null || stream.length === 0) {
        // A whole frame and no stream bytes: it joins the open run, or opens one.
        const seq = pkt.srcSeq;
        const off = pkt.srcOffset;
        // One unsigned compare for 0 <= gap <= 64 (MAX_RUN_GAP); runLimit folds in the data region's end.
        if (seq === runNext && runFirst !== null && ((off - runSrcEnd) >>> 0) <= 64 && off + len <= runLimit) {
          at = off + runShift;
          runNext = seq + 1;
          runSrcEnd = off + len;
        } else if (seq >= 0 && used + len <= dataCapacity) {
          if (runFirst !== null) copyRun(u8, dataAt + runSrcStart + runShift, runFirst, runSrcStart, runSrcEnd);
          runFirst = data;
          runNext = seq + 1;
          runSrcStart = off;
          runSrcEnd = off + len;
          runShift = used - off;
          runLimit = dataCapacity - runShift;
          at = used;
        }
      }
      if (at >= 0) {
        used = at + len;
      } else {
        if (runFirst !== null) {
          copyRun(u8, dataAt + runSrcStart + runShift, runFirst, runSrcStart, runSrcEnd);
          runFirst = null;
          runNext = -2;
        }
        if (k > from && used + len + (stream !== null ? stream.length : 0) > dataCapacity) break;
        at = used;
        this.placeBytes(u8, item, dataAt + at, area.base, dataCapacity - at);
        pktLen = this.pktLen;
        streamPtr = this.streamPtr;
        streamLen = this.streamLen;
        streamNew = this.streamNew;
        flags |= this.cutFlags;
        used = at + pktLen + streamLen;
      }

      if (pkt.malformed !== null) flags |= 0x01; // MALFORMED
      const wireLen = pkt.wireLen;
      if (wireLen > len) flags |= 0x10; // TRUNCATED
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
      const l3 = pkt.l3Offset;
      const l4 = pkt.l4Offset;
      i32[w] = id | 0;
      // The same as id < 2 ** 32 ? 0 : ..., with an integer compare for the usual Smi id.
      i32[w + 1] = id > 2147483647 ? (id / 4294967296) | 0 : 0;
      i32[w + 2] = tsSec | 0;
      i32[w + 3] = tsNsec | 0;
      i32[w + 4] = ptrBase + at;
      i32[w + 5] = pktLen;
      i32[w + 6] = payloadLen;
      i32[w + 7] = streamPtr;
      i32[w + 8] = streamLen;
      i32[w + 9] = streamNew;
      i32[w + 10] = wireLen | 0;
      // An offset outside 0..0xfffe is absent (0xffff); >>> 0 folds the negative ones into that one compare.
      i32[w + 11] = ((l3 >>> 0) < 0xffff ? l3 : 0xffff) | (((l4 >>> 0) < 0xffff ? l4 : 0xffff) << 16);
      i32[w + 12] = ((payloadOff >>> 0) < 0xffff ? payloadOff : 0xffff) | ((pkt.srcPort & 0xffff) << 16);
      i32[w + 13] = (pkt.dstPort & 0xffff) | ((vlans.length > 0 ? vlans[0]! & 0xffff : 0) << 16);
      i32[w + 14] = (pkt.ipVersion & 0xff) | ((pkt.proto & 0xff) << 8) | ((pkt.tcpFlags & 0xff) << 16) | ((item.direction & 0xff) << 24);
      // VERDICT and VERDICT_ARG are zeroed with FLAGS: the module writes them.
      i32[w + 15] = flags;

      if (tsSec > sec || (tsSec === sec && tsNsec > nsec)) {
        sec = tsSec;
        nsec = tsNsec;
      }
    }
    if (runFirst !== null) copyRun(u8, dataAt + runSrcStart + runShift, runFirst, runSrcStart, runSrcEnd);
    this.used = used;
    this.newestSec = sec;
    this.newestNsec = nsec;
    return k - from;
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
