// Writes InspectItems as ABI v1 meta records plus frame/stream bytes into a
// buffer laid out exactly like the module's batch area, so the worker can copy
// it into module memory unchanged. Pointers are module addresses
// (metaPtr + offset in the buffer). Per packet: no allocation, two set() calls.
import { META, META_ABSENT_U16, MetaFlag } from '../wasm/abi.js';
import type { InspectItem } from '../wasm/types.js';

const TWO_32 = 2 ** 32;

function off16(v: number): number {
  return v < 0 || v >= META_ABSENT_U16 ? META_ABSENT_U16 : v;
}

export class BatchWriter {
  readonly capacity: number;
  readonly dataCapacity: number;
  /** Module address of the batch area; set once the worker is ready. */
  metaPtr = 0;
  private readonly u8: Uint8Array;
  private readonly u16: Uint16Array;
  private readonly u32: Uint32Array;
  private readonly dataStart: number;

  constructor(buffer: SharedArrayBuffer | ArrayBuffer, capacity: number, dataCapacity: number) {
    this.capacity = capacity;
    this.dataCapacity = dataCapacity;
    this.u8 = new Uint8Array(buffer);
    this.u16 = new Uint16Array(buffer, 0, buffer.byteLength >>> 1);
    this.u32 = new Uint32Array(buffer, 0, buffer.byteLength >>> 2);
    this.dataStart = capacity * META.SIZE;
  }

  static bufferSize(capacity: number, dataCapacity: number): number {
    return (capacity * META.SIZE + dataCapacity + 7) & ~7;
  }

  /** Bytes the item needs in the data region. */
  static need(item: InspectItem): number {
    return item.pkt.data.length + (item.stream ? item.stream.length : 0);
  }

  /** Writes record `slot`; returns the data bytes it used. */
  write(slot: number, item: InspectItem, dataUsed: number): number {
    const { pkt } = item;
    const u8 = this.u8;
    const u16 = this.u16;
    const u32 = this.u32;
    const m = slot * META.SIZE;
    const w = m >>> 2;
    const h = m >>> 1;
    let flags = item.flags & 0xff;
    let room = this.dataCapacity - dataUsed;

    let pktLen = pkt.data.length;
    if (pktLen > room) { pktLen = room; flags |= MetaFlag.TRUNCATED; }
    const at = this.dataStart + dataUsed;
    u8.set(pktLen === pkt.data.length ? pkt.data : pkt.data.subarray(0, pktLen), at);
    room -= pktLen;

    let streamAt = 0;
    let streamLen = 0;
    let streamNew = 0;
    const stream = item.stream;
    if (stream !== null && stream.length > 0 && room > 0) {
      streamAt = at + pktLen;
      streamLen = stream.length;
      if (streamLen > room) { streamLen = room; flags |= MetaFlag.STREAM_GAP; }
      u8.set(streamLen === stream.length ? stream : stream.subarray(0, streamLen), streamAt);
      streamNew = Math.min(item.streamNew >>> 0, streamLen);
    }
    if (pkt.malformed !== null) flags |= MetaFlag.MALFORMED;
    if (pkt.wireLen > pkt.data.length) flags |= MetaFlag.TRUNCATED;

    const base = this.metaPtr;
    const id = item.flowId;
    u32[w + (META.FLOW_ID >> 2)] = id >>> 0;
    u32[w + (META.FLOW_ID >> 2) + 1] = (id / TWO_32) >>> 0;
    u32[w + (META.TS_SEC >> 2)] = pkt.tsSec >>> 0;
    u32[w + (META.TS_NSEC >> 2)] = pkt.tsNsec >>> 0;
    u32[w + (META.PKT_PTR >> 2)] = base + at;
    u32[w + (META.PKT_LEN >> 2)] = pktLen;
    u32[w + (META.PAYLOAD_LEN >> 2)] = pkt.payloadOffset < 0 ? 0 : pkt.payloadLength;
    u32[w + (META.STREAM_PTR >> 2)] = streamLen > 0 ? base + streamAt : 0;
    u32[w + (META.STREAM_LEN >> 2)] = streamLen;
    u32[w + (META.STREAM_NEW >> 2)] = streamNew;
    u32[w + (META.WIRE_LEN >> 2)] = pkt.wireLen >>> 0;
    u16[h + (META.L3_OFF >> 1)] = off16(pkt.l3Offset);
    u16[h + (META.L4_OFF >> 1)] = off16(pkt.l4Offset);
    u16[h + (META.PAYLOAD_OFF >> 1)] = off16(pkt.payloadOffset);
    u16[h + (META.SRC_PORT >> 1)] = pkt.srcPort;
    u16[h + (META.DST_PORT >> 1)] = pkt.dstPort;
    u16[h + (META.VLAN_ID >> 1)] = pkt.vlans.length > 0 ? pkt.vlans[0]! : 0;
    u8[m + META.IP_VERSION] = pkt.ipVersion;
    u8[m + META.L4_PROTO] = pkt.proto;
    u8[m + META.TCP_FLAGS] = pkt.tcpFlags;
    u8[m + META.DIRECTION] = item.direction;
    u8[m + META.FLAGS] = flags;
    u8[m + META.VERDICT] = 0;
    u16[h + (META.VERDICT_ARG >> 1)] = 0;
    return pktLen + streamLen;
  }
}
