// Writes one ABI v1 meta record and its packet/stream bytes. Shared by the
// in-thread instance (straight into module memory) and the sandbox (into a
// shared buffer laid out like the module's batch area), so both hand modules
// exactly the same records.
import { META, META_ABSENT_U16, MetaFlag } from './abi.js';
import type { InspectItem } from './types.js';

const TWO_32 = 2 ** 32;

function off16(v: number): number {
  return v < 0 || v >= META_ABSENT_U16 ? META_ABSENT_U16 : v;
}

export interface MetaViews {
  u8: Uint8Array;
  u16: Uint16Array;
  u32: Uint32Array;
}

/**
 * Writes `item` as the record at byte offset `rec` of the views, its bytes at
 * `dataAt`, with at most `room` bytes of data. Pointers in the record are
 * module addresses: `base` plus the view offset (0 when the views are module
 * memory). Returns the data bytes used.
 */
export function writeMetaRecord(v: MetaViews, rec: number, dataAt: number, base: number, room: number, item: InspectItem): number {
  const { pkt } = item;
  const { u8, u16, u32 } = v;
  const w = rec >>> 2;
  const h = rec >>> 1;
  let flags = item.flags & 0xff;

  let pktLen = pkt.data.length;
  if (pktLen > room) { pktLen = room; flags |= MetaFlag.TRUNCATED; }
  u8.set(pktLen === pkt.data.length ? pkt.data : pkt.data.subarray(0, pktLen), dataAt);
  room -= pktLen;

  let streamAt = 0;
  let streamLen = 0;
  let streamNew = 0;
  const stream = item.stream;
  if (stream !== null && stream.length > 0 && room > 0) {
    streamAt = dataAt + pktLen;
    streamLen = stream.length;
    if (streamLen > room) { streamLen = room; flags |= MetaFlag.STREAM_GAP; }
    u8.set(streamLen === stream.length ? stream : stream.subarray(0, streamLen), streamAt);
    // New bytes sit at the end of the stream: only those left after a cut still count.
    streamNew = Math.max(0, Math.min(item.streamNew >>> 0, stream.length) - (stream.length - streamLen));
  }
  if (pkt.malformed !== null) flags |= MetaFlag.MALFORMED;
  if (pkt.wireLen > pkt.data.length) flags |= MetaFlag.TRUNCATED;

  const id = item.flowId;
  u32[w + (META.FLOW_ID >> 2)] = id >>> 0;
  u32[w + (META.FLOW_ID >> 2) + 1] = (id / TWO_32) >>> 0;
  u32[w + (META.TS_SEC >> 2)] = pkt.tsSec >>> 0;
  u32[w + (META.TS_NSEC >> 2)] = pkt.tsNsec >>> 0;
  u32[w + (META.PKT_PTR >> 2)] = base + dataAt;
  u32[w + (META.PKT_LEN >> 2)] = pktLen;
  // Never point past the bytes actually placed (snaplen or a cut frame).
  u32[w + (META.PAYLOAD_LEN >> 2)] = pkt.payloadOffset < 0 ? 0 : Math.max(0, Math.min(pkt.payloadLength, pktLen - pkt.payloadOffset));
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
  u8[rec + META.IP_VERSION] = pkt.ipVersion;
  u8[rec + META.L4_PROTO] = pkt.proto;
  u8[rec + META.TCP_FLAGS] = pkt.tcpFlags;
  u8[rec + META.DIRECTION] = item.direction;
  u8[rec + META.FLAGS] = flags;
  u8[rec + META.VERDICT] = 0;
  u16[h + (META.VERDICT_ARG >> 1)] = 0;
  return pktLen + streamLen;
}
