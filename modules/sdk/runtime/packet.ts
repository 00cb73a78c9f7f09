// A read-only view of one packet of the current batch. The SDK keeps ONE
// Packet object and re-binds it to each meta record, so dispatch allocates
// nothing; do not keep a Packet past onPacket (copy what you need).
import { Meta, MetaFlag } from "./abi";
import { indexOf, indexOfNoCase } from "./search";

export class Packet {
  /** Address of this packet's meta record. */
  meta: usize = 0;
  /** Index of the packet in the current batch (what alert/event report). */
  index: i32 = 0;
  /** BLOCK_SRC ttl in seconds written back as VERDICT_ARG (0 = host default). */
  blockTtl: u16 = 0;

  @inline bind(meta: usize, index: i32): void {
    this.meta = meta;
    this.index = index;
    this.blockTtl = 0;
  }

  /** Seconds the source stays blocked when onPacket returns BLOCK_SRC. */
  setBlockTtl(seconds: i32): void {
    this.blockTtl = <u16>(seconds < 0 ? 0 : seconds > 0xffff ? 0xffff : seconds);
  }

  // --- metadata written by the host ---
  @inline get flowId(): u64 { return load<u64>(this.meta, Meta.FLOW_ID); }
  @inline get tsSec(): u32 { return load<u32>(this.meta, Meta.TS_SEC); }
  @inline get tsNsec(): u32 { return load<u32>(this.meta, Meta.TS_NSEC); }
  /** The capture time in nanoseconds: the clock of the rate tables. */
  @inline get timeNs(): i64 { return <i64>this.tsSec * 1_000_000_000 + <i64>this.tsNsec; }
  @inline get dataPtr(): usize { return <usize>load<u32>(this.meta, Meta.PKT_PTR); }
  /** Captured bytes of the frame, from the L2 header. */
  @inline get length(): i32 { return <i32>load<u32>(this.meta, Meta.PKT_LEN); }
  @inline get wireLength(): i32 { return <i32>load<u32>(this.meta, Meta.WIRE_LEN); }
  @inline get l3Offset(): i32 { return absentToMinusOne(load<u16>(this.meta, Meta.L3_OFF)); }
  @inline get l4Offset(): i32 { return absentToMinusOne(load<u16>(this.meta, Meta.L4_OFF)); }
  @inline get payloadOffset(): i32 { return absentToMinusOne(load<u16>(this.meta, Meta.PAYLOAD_OFF)); }
  /** Payload bytes present in this frame (never past its captured length). */
  get payloadLength(): i32 {
    const off = this.payloadOffset;
    if (off < 0) return 0;
    const len = <i32>load<u32>(this.meta, Meta.PAYLOAD_LEN);
    const room = this.length - off;
    return len < room ? len : room < 0 ? 0 : room;
  }
  /** Address of the first payload byte (meaningful only when payloadLength > 0). */
  @inline get payloadPtr(): usize { return this.dataPtr + <usize>this.payloadOffset; }
  /** In-order stream bytes of this direction from its first byte; 0 when the host gave none. */
  @inline get streamPtr(): usize { return <usize>load<u32>(this.meta, Meta.STREAM_PTR); }
  @inline get streamLength(): i32 { return this.streamPtr == 0 ? 0 : <i32>load<u32>(this.meta, Meta.STREAM_LEN); }
  /**
   * How many of the last streamLength bytes this packet added, or, on a
   * resend of bytes a DROP kept from the receiver, shows again (docs/abi/v1.md, section 4).
   */
  @inline get streamNew(): i32 { return this.streamPtr == 0 ? 0 : <i32>load<u32>(this.meta, Meta.STREAM_NEW); }
  @inline get srcPort(): u16 { return load<u16>(this.meta, Meta.SRC_PORT); }
  @inline get dstPort(): u16 { return load<u16>(this.meta, Meta.DST_PORT); }
  @inline get vlan(): u16 { return load<u16>(this.meta, Meta.VLAN_ID); }
  /** 4, 6, or 0 when the frame has no IP layer. */
  @inline get ipVersion(): u8 { return load<u8>(this.meta, Meta.IP_VERSION); }
  /** IP protocol number after IPv6 extension headers (6 tcp, 17 udp, 1 icmp, 58 icmpv6). */
  @inline get proto(): u8 { return load<u8>(this.meta, Meta.L4_PROTO); }
  @inline get tcpFlags(): u8 { return load<u8>(this.meta, Meta.TCP_FLAGS); }
  /** 0 to server, 1 to client. */
  @inline get direction(): u8 { return load<u8>(this.meta, Meta.DIRECTION); }
  @inline get flags(): u8 { return load<u8>(this.meta, Meta.FLAGS); }
  @inline get malformed(): bool { return (this.flags & MetaFlag.MALFORMED) != 0; }
  @inline get flowStart(): bool { return (this.flags & MetaFlag.FLOW_START) != 0; }
  @inline get streamGap(): bool { return (this.flags & MetaFlag.STREAM_GAP) != 0; }
  /** The server side's port: dstPort to server, srcPort to client. */
  @inline get serverPort(): u16 { return this.direction == 0 ? this.dstPort : this.srcPort; }

  // --- bounds-checked reads; offsets are from the start of the frame, -1 = out of range ---
  @inline u8(off: i32): i32 {
    if (<u32>off >= <u32>this.length) return -1;
    return <i32>load<u8>(this.dataPtr + <usize>off);
  }
  @inline u16be(off: i32): i32 {
    if (off < 0 || off + 2 > this.length) return -1;
    return <i32>bswap<u16>(load<u16>(this.dataPtr + <usize>off));
  }
  @inline u32be(off: i32): i64 {
    if (off < 0 || off + 4 > this.length) return -1;
    return <i64>bswap<u32>(load<u32>(this.dataPtr + <usize>off));
  }
  payloadU8(i: i32): i32 {
    if (<u32>i >= <u32>this.payloadLength) return -1;
    return <i32>load<u8>(this.payloadPtr + <usize>i);
  }
  streamU8(i: i32): i32 {
    if (<u32>i >= <u32>this.streamLength) return -1;
    return <i32>load<u8>(this.streamPtr + <usize>i);
  }

  /** IPv4 source/destination as a big-endian number; 0 when not IPv4. */
  get srcIp4(): u32 { return this.ipVersion == 4 ? <u32>this.u32be(this.l3Offset + 12) : 0; }
  get dstIp4(): u32 { return this.ipVersion == 4 ? <u32>this.u32be(this.l3Offset + 16) : 0; }
  /** Address of the 4- or 16-byte source address in memory; 0 when there is no IP layer. */
  get srcAddrPtr(): usize {
    const v = this.ipVersion;
    return v == 4 ? this.dataPtr + <usize>(this.l3Offset + 12) : v == 6 ? this.dataPtr + <usize>(this.l3Offset + 8) : 0;
  }
  get dstAddrPtr(): usize {
    const v = this.ipVersion;
    return v == 4 ? this.dataPtr + <usize>(this.l3Offset + 16) : v == 6 ? this.dataPtr + <usize>(this.l3Offset + 24) : 0;
  }
  @inline get addrLength(): i32 { return this.ipVersion == 4 ? 4 : this.ipVersion == 6 ? 16 : 0; }

  /** Index of needle in the payload at or after `from`, -1 when absent. */
  payloadIndexOf(needle: Uint8Array, from: i32 = 0): i32 {
    return indexOf(this.payloadPtr, this.payloadLength, needle, from);
  }
  /** Same, ASCII case-insensitive; needle must already be lower case (see lowerAscii). */
  payloadIndexOfNoCase(needleLower: Uint8Array, from: i32 = 0): i32 {
    return indexOfNoCase(this.payloadPtr, this.payloadLength, needleLower, from);
  }
  streamIndexOf(needle: Uint8Array, from: i32 = 0): i32 {
    return indexOf(this.streamPtr, this.streamLength, needle, from);
  }
  streamIndexOfNoCase(needleLower: Uint8Array, from: i32 = 0): i32 {
    return indexOfNoCase(this.streamPtr, this.streamLength, needleLower, from);
  }
}

@inline function absentToMinusOne(v: u16): i32 {
  return v == Meta.ABSENT ? -1 : <i32>v;
}
