// Frame -> DecodedPacket. The XDP program implements the SAME decisions, so
// they are spelled out here; change both together.
//
// General
//  - decodePacket never throws. The first fault found sets `malformed` (later
//    faults never overwrite it); fields parsed before the fault are kept.
//  - Missing bytes in a frame the capture cut short (wireLen > data.length,
//    i.e. a snaplen) are not a fault of the packet: parsing stops there (or
//    the layer ends at the captured end) without setting `malformed`, as
//    tshark does. The kernel always sees whole frames, so this never applies
//    there. Field faults (bad version, IHL < 5, ...) are malformed either way.
//  - A packet without an IP layer (ARP, LLDP, unknown ethertype) is NOT
//    malformed: ipVersion 0, l3Offset -1, proto 0.
//  - A header too short for its fixed part, or an IP header failing a check,
//    leaves its layer's fields at their defaults (ipVersion 0 / l4Offset -1 /
//    ports 0 / icmpType -1). A TCP/UDP header whose length field fails keeps
//    what precedes that field (ports, seq/ack, flags) with payloadOffset -1
//    (TCP) or the payload clipped to the layer (UDP).
//  - `vlans` of an untagged packet is one shared frozen empty array: copy it
//    before changing it.
//  - `src` and `dst` are views made when read (a getter), not at decode time:
//    most packets never need them, and two views per packet were most of the
//    decoder's cost. Hot paths read the addresses from `data` at
//    srcAddrOffset()/dstAddrOffset(). A spread copy of a packet ({ ...pkt })
//    does not carry them.
//
// Link layer
//  - ETHERNET: 14-byte header; fewer bytes -> "ethernet: frame N < 14 bytes".
//  - VLAN: ethertypes 0x8100, 0x88a8 and 0x9100 (the pre-802.1ad QinQ tag,
//    which Suricata, Zeek and Wireshark also read as a VLAN tag) are tags
//    (4 bytes: TCI, inner type), in any order; at most 2 tags (QinQ), a third
//    -> "vlan: more than 2 tags", no IP layer, and `invalid`: a receiver or
//    a bridge in front of one may read what it carries, which no rule saw.
//    `vlans` holds the 12-bit ids, outermost first.
//  - LINUX_SLL: 16-byte header, ethertype at byte 14. LINUX_SLL2: 20-byte
//    header, ethertype at byte 0. Both then follow the same ethertype rules
//    (VLAN tags included) as Ethernet.
//  - MPLS (ethertypes 0x8847 unicast, 0x8848 multicast), after any VLAN tags:
//    4-byte label stack entries up to the one with the bottom-of-stack bit,
//    at most 8 (a ninth entry without the bit -> "mpls: more than 8
//    labels"); a stack cut before its bottom entry, or nothing after it ->
//    "mpls: label stack truncated". Labels are not kept and are not part of
//    the flow key. A bottom label 13 (GAL, RFC 5586) carries an associated
//    channel, never IP. Otherwise the first nibble after the stack says
//    what follows: 4 -> IPv4, 6 -> IPv6, anything else (a pseudowire
//    control word, Ethernet over MPLS) is a payload we do not open. Neither
//    has an IP layer and neither is malformed, as for an unknown ethertype.
//  - PPPoE session (0x8864): 6-byte header whose first byte (version and
//    type) must be 0x11 and whose code must be 0 (otherwise "pppoe: ...",
//    no IP layer), then the 2-byte PPP protocol: 0x0021 IPv4, 0x0057 IPv6;
//    any other protocol (LCP, IPCP, a compressed 1-byte protocol field) has
//    no IP layer and is not malformed. Header and protocol cut short ->
//    "pppoe: header truncated". The PPPoE length field is not read: the IP
//    header's own length ends the layer, as with Ethernet padding (a
//    receiver that trims to it would drop such a packet at its IP layer
//    anyway). PPPoE discovery (0x8863) is an unknown ethertype.
//  - `l3Offset` points at the IP header inside MPLS/PPPoE, so everything
//    that reads the IP layer (modules' L3_OFF, defragmentation, checksums)
//    sees the inner header.
//  - RAW: the version nibble of byte 0 picks IPv4 or IPv6; another value ->
//    "raw: IP version N". IPV4 / IPV6: the frame starts with that header.
//
// IPv4
//  - Needs 20 bytes, version 4, IHL >= 5, IHL*4 bytes present and
//    total length >= IHL*4; otherwise malformed and ipVersion stays 0.
//  - Options are skipped (not interpreted): L4 starts at IHL*4.
//  - The layer ends at total length; bytes after it (Ethernet padding) are
//    ignored. If total length exceeds the bytes present the packet is
//    malformed ("ipv4: total length N > M bytes captured", unless the capture
//    cut it) and L4 is still parsed within the bytes present, so a cut
//    packet keeps its ports.
//  - Fragment = MF set or offset != 0. A non-first fragment (offset != 0)
//    has no L4: l4Offset -1, ports 0, icmpType -1, proto = protocol field.
//  - A first fragment (MF, offset 0) of TCP or UDP whose total length ends
//    before the end of the fixed L4 header (20 / 8 bytes) is `invalid`
//    (RFC 1858's tiny fragment), whatever the bytes captured.
//
// IPv6
//  - Needs 40 bytes and version 6. The layer ends at 40 + payload length,
//    same truncation rule as IPv4 ("ipv6: payload length N > M ...").
//    Jumbograms (payload length 0) are not supported: their hop-by-hop
//    header lies beyond the layer end, so they come out as truncated.
//  - Extension headers walked: hop-by-hop (0), routing (43), fragment (44),
//    destination options (60), AH (51); order is not enforced. At most 8; a
//    ninth -> "ipv6: more than 8 extension headers", proto 0, no L4, and
//    `invalid` (the receiver walks on to an upper layer no rule saw).
//    A truncated extension header -> "ipv6: extension header T truncated", proto 0.
//  - Fragment header: offset != 0 -> no L4, proto = its next header.
//  - A first fragment (M, offset 0) whose TCP/UDP fixed header, or one of
//    whose extension headers after the fragment header, ends past 40 +
//    payload length is `invalid` (RFC 7112: the first fragment holds the
//    whole header chain).
//  - Any other next header (ESP 50, no-next 59, TCP, ...) ends the walk and
//    becomes `proto`.
//
// Tunnels (user space only: the XDP program stops at the outer header, docs/tunnels.md)
//  - IP protocol 4/41 (IP in IP), 47 (GRE version 0), UDP destination 4789
//    (VXLAN) and 6081 (Geneve) are opened when the carrier is whole (not a
//    fragment) and not malformed; tunnel-headers.ts reads the headers.
//  - The packet then describes the innermost packet; `tunnels` lists the
//    layers, `tunnelWords`/`tunnelHash` key them. The inner packet ends where
//    its carrier does.
//  - A refused tunnel header, or an inner IP header failing its checks: the
//    packet stays the carrier, with the fault. A frame inside carrying no IP
//    (ARP), a GRE or Geneve protocol not opened, GRE version 1: the carrier,
//    not malformed. A fourth tunnel inside three: malformed and `invalid`.
//
// L4 (TCP 6, UDP 17, ICMP 1, ICMPv6 58 -- ICMP types are read under either IP version)
//  - TCP needs 20 bytes; data offset >= 5 and within the layer, payload after.
//  - UDP needs 8 bytes. Unfragmented: length >= 8 and <= bytes present, the
//    payload is length - 8. In a first fragment the length field covers the
//    whole datagram, so it is not checked and the payload runs to the end.
//  - ICMP/ICMPv6 need 8 bytes (type, code, checksum, 4 bytes rest); the
//    payload starts at 8.
//  - In a first fragment with more fragments to come, an L4 header that does
//    not fit is NOT malformed (reassembly completes it): l4Offset -1.
//  - Other protocols: no L4 fields, payloadOffset -1.
import { LinkType, addrLength, dstAddrOffset, srcAddrOffset, type DecodedPacket, type FragmentInfo, type TunnelLayer, type TunnelType } from './types.js';
import {
  GENEVE_PORT, IPPROTO_GRE, IPPROTO_IPIP, IPPROTO_IPV6, Inner, MAX_TUNNEL_DEPTH, VXLAN_PORT, hashWords, isFault, readGeneve, readGre, readVxlan, tunnelWords,
  type TunnelFault, type TunnelHeader,
} from './tunnel-headers.js';

const EMPTY = new Uint8Array(0);
// Shared by every untagged packet so decoding allocates no array for them.
const NO_VLANS: number[] = Object.freeze([] as number[]) as number[];
const NO_TUNNELS: readonly TunnelLayer[] = Object.freeze([]);
const MAX_VLAN_TAGS = 2;
const MAX_IPV6_EXT_HEADERS = 8;
/** The XDP program's SF_MAX_MPLS_LABELS: both give up on the same stacks. */
const MAX_MPLS_LABELS = 8;
/** Generic Associated Channel Label: at the bottom of the stack, an ACH follows, not IP. */
const MPLS_LABEL_GAL = 13;

const ETH_P_IPV4 = 0x0800;
const ETH_P_IPV6 = 0x86dd;
const ETH_P_8021Q = 0x8100;
const ETH_P_8021AD = 0x88a8;
/** Pre-standard QinQ; read as a tag so IP behind it is inspected, not passed as non-IP. */
const ETH_P_QINQ_LEGACY = 0x9100;
const ETH_P_MPLS_UC = 0x8847;
const ETH_P_MPLS_MC = 0x8848;
const ETH_P_PPPOE_SESSION = 0x8864;
const PPP_IPV4 = 0x0021;
const PPP_IPV6 = 0x0057;

/** `event`: the fault's stable name (layer.event, as Suricata names decoder events), for anomaly records. */
function fault(p: DecodedPacket, event: string, reason: string): void {
  if (p.malformed !== null) return;
  p.malformed = reason;
  p.anomaly = event;
}

/** A layer needs bytes the frame lacks: malformed unless the capture cut the frame. */
function short(p: DecodedPacket, event: string, reason: string): void {
  if (p.malformed !== null || p.wireLen > p.data.length) return;
  p.malformed = reason;
  p.anomaly = event;
}

// The fields are DecodedPacket's (declaration merging); src and dst are getters.
interface Decoded extends Omit<DecodedPacket, 'src' | 'dst'> {}
class Decoded implements DecodedPacket {
  constructor(data: Uint8Array, linkType: LinkType, wireLen: number, tsSec: number, tsNsec: number, srcSeq: number, srcOffset: number) {
    this.data = data;
    this.linkType = linkType;
    this.wireLen = wireLen;
    this.tsSec = tsSec;
    this.tsNsec = tsNsec;
    this.vlans = NO_VLANS;
    this.ipVersion = 0;
    this.l3Offset = -1;
    this.proto = 0;
    this.ttl = 0;
    this.fragment = null;
    this.l4Offset = -1;
    this.srcPort = 0;
    this.dstPort = 0;
    this.tcpFlags = 0;
    this.tcpSeq = 0;
    this.tcpAck = 0;
    this.tcpWindow = 0;
    this.icmpType = -1;
    this.icmpCode = 0;
    this.payloadOffset = -1;
    this.payloadLength = 0;
    this.malformed = null;
    this.anomaly = null;
    this.invalid = null;
    this.tunnels = NO_TUNNELS;
    this.tunnelWords = null;
    this.tunnelHash = 0;
    this.srcSeq = srcSeq;
    this.srcOffset = srcOffset;
    this.frameNumber = 0;
  }

  get src(): Uint8Array {
    const at = srcAddrOffset(this);
    return at < 0 ? EMPTY : this.data.subarray(at, at + addrLength(this));
  }

  get dst(): Uint8Array {
    const at = dstAddrOffset(this);
    return at < 0 ? EMPTY : this.data.subarray(at, at + addrLength(this));
  }
}

/** Address families of BSD loopback headers: AF_INET, and AF_INET6 as Linux, NetBSD/OpenBSD, FreeBSD and macOS number it. */
const BSD_AF_INET = 2;
const BSD_AF_INET6: readonly number[] = [10, 24, 28, 30];

export function decodePacket(
  data: Uint8Array,
  linkType: LinkType,
  tsSec = 0,
  tsNsec = 0,
  wireLen = data.length,
  srcSeq = -1,
  srcOffset = 0,
): DecodedPacket {
  const p = new Decoded(data, linkType, wireLen, tsSec, tsNsec, srcSeq, srcOffset);
  const len = data.length;
  switch (linkType) {
    case LinkType.ETHERNET:
      if (len < 14) { short(p, 'ethernet.pkt_too_small', `ethernet: frame ${len} < 14 bytes`); return p; }
      decodeEtherType(p, data, (data[12]! << 8) | data[13]!, 14);
      return p;
    case LinkType.LINUX_SLL:
      if (len < 16) { short(p, 'sll.pkt_too_small', `sll: frame ${len} < 16 bytes`); return p; }
      decodeEtherType(p, data, (data[14]! << 8) | data[15]!, 16);
      return p;
    case LinkType.LINUX_SLL2:
      if (len < 20) { short(p, 'sll2.pkt_too_small', `sll2: frame ${len} < 20 bytes`); return p; }
      decodeEtherType(p, data, (data[0]! << 8) | data[1]!, 20);
      return p;
    case LinkType.NULL:
    case LinkType.LOOP: {
      const name = linkType === LinkType.NULL ? 'null' : 'loop';
      if (len < 4) { short(p, `${name}.pkt_too_small`, `${name}: frame ${len} < 4 bytes`); return p; }
      // NULL's family is in the writer's byte order, which the file does not
      // say: the value read either way decides (the families are small numbers).
      const be = ((data[0]! << 24) | (data[1]! << 16) | (data[2]! << 8) | data[3]!) >>> 0;
      const le = ((data[3]! << 24) | (data[2]! << 16) | (data[1]! << 8) | data[0]!) >>> 0;
      const family = linkType === LinkType.LOOP || be <= 0xffff ? be : le;
      if (family === BSD_AF_INET) decodeIpv4(p, data, 4);
      else if (BSD_AF_INET6.includes(family)) decodeIpv6(p, data, 4);
      // Another family (an OSI or AppleTalk frame): no IP layer, as for an unknown EtherType.
      return p;
    }
    case LinkType.RAW: {
      if (len < 1) { short(p, 'raw.pkt_too_small', 'raw: empty frame'); return p; }
      const version = data[0]! >> 4;
      if (version === 4) decodeIpv4(p, data, 0);
      else if (version === 6) decodeIpv6(p, data, 0);
      else fault(p, 'raw.invalid_ip_version', `raw: IP version ${version}`);
      return p;
    }
    case LinkType.IPV4:
      decodeIpv4(p, data, 0);
      return p;
    case LinkType.IPV6:
      decodeIpv6(p, data, 0);
      return p;
    default:
      fault(p, 'link.unsupported_type', `link: unsupported link type ${linkType as number}`);
      return p;
  }
}

function decodeEtherType(p: DecodedPacket, data: Uint8Array, etherType: number, off: number): void {
  let type = etherType;
  let pos = off;
  while (type === ETH_P_8021Q || type === ETH_P_8021AD || type === ETH_P_QINQ_LEGACY) {
    if (p.vlans.length === MAX_VLAN_TAGS) {
      fault(p, 'vlan.too_many_layers', `vlan: more than ${MAX_VLAN_TAGS} tags`);
      p.invalid = `vlan: more than ${MAX_VLAN_TAGS} tags: a receiver that reads the third reaches a layer no rule saw`;
      return;
    }
    if (pos + 4 > data.length) { short(p, 'vlan.header_too_small', 'vlan: tag truncated'); return; }
    if (p.vlans === NO_VLANS) p.vlans = [];
    p.vlans.push(((data[pos]! << 8) | data[pos + 1]!) & 0x0fff);
    type = (data[pos + 2]! << 8) | data[pos + 3]!;
    pos += 4;
  }
  if (type === ETH_P_IPV4) decodeIpv4(p, data, pos);
  else if (type === ETH_P_IPV6) decodeIpv6(p, data, pos);
  else if (type === ETH_P_MPLS_UC || type === ETH_P_MPLS_MC) decodeMpls(p, data, pos);
  else if (type === ETH_P_PPPOE_SESSION) decodePppoe(p, data, pos);
}

function decodeMpls(p: DecodedPacket, data: Uint8Array, off: number): void {
  let pos = off;
  let label: number;
  for (let n = 0; ; n++) {
    if (n === MAX_MPLS_LABELS) { fault(p, 'mpls.too_many_labels', `mpls: more than ${MAX_MPLS_LABELS} labels`); return; }
    if (pos + 4 > data.length) { short(p, 'mpls.header_too_small', 'mpls: label stack truncated'); return; }
    label = (data[pos]! << 12) | (data[pos + 1]! << 4) | (data[pos + 2]! >> 4);
    const bottom = (data[pos + 2]! & 0x01) !== 0;
    pos += 4;
    if (bottom) break;
  }
  if (pos >= data.length) { short(p, 'mpls.header_too_small', 'mpls: label stack truncated'); return; }
  if (label === MPLS_LABEL_GAL) return;
  const nibble = data[pos]! >> 4;
  if (nibble === 4) decodeIpv4(p, data, pos);
  else if (nibble === 6) decodeIpv6(p, data, pos);
}

function decodePppoe(p: DecodedPacket, data: Uint8Array, off: number): void {
  if (off + 8 > data.length) { short(p, 'pppoe.pkt_too_small', 'pppoe: header truncated'); return; }
  const verType = data[off]!;
  if (verType !== 0x11) { fault(p, 'pppoe.wrong_version_type', `pppoe: version/type 0x${verType.toString(16)} != 0x11`); return; }
  const code = data[off + 1]!;
  if (code !== 0) { fault(p, 'pppoe.wrong_code', `pppoe: session code 0x${code.toString(16)} != 0`); return; }
  const proto = (data[off + 6]! << 8) | data[off + 7]!;
  if (proto === PPP_IPV4) decodeIpv4(p, data, off + 8);
  else if (proto === PPP_IPV6) decodeIpv6(p, data, off + 8);
}

/** `limit`: where the bytes the layer may use end (a tunnel's carrier ends before the frame may). */
function decodeIpv4(p: DecodedPacket, data: Uint8Array, off: number, limit = data.length): void {
  const len = limit;
  const avail = len - off;
  if (avail < 20) { short(p, 'ipv4.pkt_too_small', `ipv4: header truncated (${avail} < 20 bytes)`); return; }
  const vihl = data[off]!;
  if (vihl >> 4 !== 4) { fault(p, 'ipv4.wrong_ip_version', `ipv4: version ${vihl >> 4}`); return; }
  const ihl = (vihl & 0x0f) << 2;
  if (ihl < 20) { fault(p, 'ipv4.hlen_too_small', `ipv4: header length ${ihl >> 2} < 5`); return; }
  if (ihl > avail) { short(p, 'ipv4.hlen_truncated', `ipv4: header length ${ihl} > ${avail} bytes captured`); return; }
  const totalLen = (data[off + 2]! << 8) | data[off + 3]!;
  if (totalLen < ihl) { fault(p, 'ipv4.iplen_smaller_than_hlen', `ipv4: total length ${totalLen} < header length ${ihl}`); return; }

  p.ipVersion = 4;
  p.l3Offset = off;
  p.ttl = data[off + 8]!;
  const proto = data[off + 9]!;
  p.proto = proto;
  let end = off + totalLen;
  if (end > len) { short(p, 'ipv4.trunc_pkt', `ipv4: total length ${totalLen} > ${avail} bytes captured`); end = len; }

  const fragField = (data[off + 6]! << 8) | data[off + 7]!;
  const fragOffset = (fragField & 0x1fff) << 3;
  const moreFragments = (fragField & 0x2000) !== 0;
  if (moreFragments || fragOffset !== 0) {
    p.fragment = {
      id: (data[off + 4]! << 8) | data[off + 5]!,
      offset: fragOffset, moreFragments, dataOffset: off + ihl, nextHeader: proto,
    };
    if (fragOffset !== 0) return;
  }
  refuseTinyFirstFragment(p, proto, off + ihl, off + totalLen);
  decodeL4(p, data, off + ihl, end, proto, p.fragment);
}

function decodeIpv6(p: DecodedPacket, data: Uint8Array, off: number, limit = data.length): void {
  const len = limit;
  const avail = len - off;
  if (avail < 40) { short(p, 'ipv6.pkt_too_small', `ipv6: header truncated (${avail} < 40 bytes)`); return; }
  const version = data[off]! >> 4;
  if (version !== 6) { fault(p, 'ipv6.wrong_ip_version', `ipv6: version ${version}`); return; }

  p.ipVersion = 6;
  p.l3Offset = off;
  p.ttl = data[off + 7]!;
  const payloadLen = (data[off + 4]! << 8) | data[off + 5]!;
  let end = off + 40 + payloadLen;
  if (end > len) { short(p, 'ipv6.trunc_pkt', `ipv6: payload length ${payloadLen} > ${avail - 40} bytes captured`); end = len; }

  let next = data[off + 6]!;
  let pos = off + 40;
  let count = 0;
  for (;;) {
    if (next !== 0 && next !== 43 && next !== 44 && next !== 60 && next !== 51) break;
    if (count === MAX_IPV6_EXT_HEADERS) {
      fault(p, 'ipv6.exthdr_too_many', `ipv6: more than ${MAX_IPV6_EXT_HEADERS} extension headers`);
      p.invalid = `ipv6: more than ${MAX_IPV6_EXT_HEADERS} extension headers hide the upper layer`;
      return;
    }
    count++;
    if (next === 44) {
      if (pos + 8 > end) { short(p, 'ipv6.trunc_exthdr', 'ipv6: extension header 44 truncated'); return; }
      const fragField = (data[pos + 2]! << 8) | data[pos + 3]!;
      const nh = data[pos]!;
      const frag: FragmentInfo = {
        id: ((data[pos + 4]! << 24) | (data[pos + 5]! << 16) | (data[pos + 6]! << 8) | data[pos + 7]!) >>> 0,
        offset: fragField & 0xfff8,
        moreFragments: (fragField & 1) !== 0,
        dataOffset: pos + 8,
        nextHeader: nh,
      };
      p.fragment = frag;
      pos += 8;
      next = nh;
      if (frag.offset !== 0) { p.proto = nh; return; }
      continue;
    }
    if (pos + 2 > end) { truncatedExtension(p, next, pos + 2, off + 40 + payloadLen); return; }
    const hdrLen = next === 51 ? (data[pos + 1]! + 2) << 2 : (data[pos + 1]! + 1) << 3;
    if (pos + hdrLen > end) { truncatedExtension(p, next, pos + hdrLen, off + 40 + payloadLen); return; }
    next = data[pos]!;
    pos += hdrLen;
  }
  p.proto = next;
  refuseTinyFirstFragment(p, next, pos, off + 40 + payloadLen);
  decodeL4(p, data, pos, end, next, p.fragment);
}

/**
 * An extension header that runs past the layer. In a first fragment the rest
 * of the chain is in a later fragment: the rules cannot see the upper layer
 * the receiver reassembles, so it is `invalid` (RFC 7112), not just short.
 */
function truncatedExtension(p: DecodedPacket, header: number, headerEnd: number, layerEnd: number): void {
  short(p, 'ipv6.trunc_exthdr', `ipv6: extension header ${header} truncated`);
  if (p.fragment !== null && p.fragment.moreFragments && headerEnd > layerEnd) {
    p.invalid = `ipv6: first fragment splits the extension-header chain (header ${header} runs past it)`;
  }
}

/** Marks a first fragment whose IP layer (ending at layerEnd, by its length field) cannot hold the TCP/UDP header at l4. */
function refuseTinyFirstFragment(p: DecodedPacket, proto: number, l4: number, layerEnd: number): void {
  const need = proto === 6 ? 20 : proto === 17 ? 8 : 0;
  if (need === 0 || p.fragment === null || !p.fragment.moreFragments || l4 + need <= layerEnd) return;
  const held = layerEnd > l4 ? layerEnd - l4 : 0;
  p.invalid = `ipv${p.ipVersion}: first fragment holds ${held} of the ${need} bytes of the ${proto === 6 ? 'TCP' : 'UDP'} header`;
}

function decodeL4(p: DecodedPacket, data: Uint8Array, l4: number, end: number, proto: number, frag: FragmentInfo | null): void {
  const avail = end - l4;
  // A first fragment may legitimately stop inside the L4 header.
  const partial = frag !== null && frag.moreFragments;
  switch (proto) {
    case 6: {
      if (avail < 20) { if (!partial) short(p, 'tcp.pkt_too_small', `tcp: header truncated (${avail} < 20 bytes)`); return; }
      p.l4Offset = l4;
      p.srcPort = (data[l4]! << 8) | data[l4 + 1]!;
      p.dstPort = (data[l4 + 2]! << 8) | data[l4 + 3]!;
      p.tcpSeq = ((data[l4 + 4]! << 24) | (data[l4 + 5]! << 16) | (data[l4 + 6]! << 8) | data[l4 + 7]!) >>> 0;
      p.tcpAck = ((data[l4 + 8]! << 24) | (data[l4 + 9]! << 16) | (data[l4 + 10]! << 8) | data[l4 + 11]!) >>> 0;
      p.tcpFlags = data[l4 + 13]!;
      p.tcpWindow = (data[l4 + 14]! << 8) | data[l4 + 15]!;
      const doff = (data[l4 + 12]! >> 4) << 2;
      if (doff < 20) { fault(p, 'tcp.hlen_too_small', `tcp: data offset ${doff >> 2} < 5`); return; }
      if (doff > avail) { if (!partial) short(p, 'tcp.hlen_truncated', `tcp: header length ${doff} > ${avail} bytes`); return; }
      p.payloadOffset = l4 + doff;
      p.payloadLength = avail - doff;
      return;
    }
    case 17: {
      if (avail < 8) { if (!partial) short(p, 'udp.pkt_too_small', `udp: header truncated (${avail} < 8 bytes)`); return; }
      p.l4Offset = l4;
      p.srcPort = (data[l4]! << 8) | data[l4 + 1]!;
      p.dstPort = (data[l4 + 2]! << 8) | data[l4 + 3]!;
      p.payloadOffset = l4 + 8;
      p.payloadLength = avail - 8;
      if (frag !== null) return;
      const udpLen = (data[l4 + 4]! << 8) | data[l4 + 5]!;
      if (udpLen < 8) fault(p, 'udp.hlen_invalid', `udp: length ${udpLen} < 8`);
      else if (udpLen > avail) short(p, 'udp.len_truncated', `udp: length ${udpLen} > ${avail} bytes`);
      else p.payloadLength = udpLen - 8;
      if (p.dstPort === VXLAN_PORT || p.dstPort === GENEVE_PORT) openUdpTunnel(p, data, l4);
      return;
    }
    case 1:
    case 58: {
      if (avail < 8) { if (!partial) short(p, 'icmp.pkt_too_small', `icmp: header truncated (${avail} < 8 bytes)`); return; }
      p.l4Offset = l4;
      p.icmpType = data[l4]!;
      p.icmpCode = data[l4 + 1]!;
      p.payloadOffset = l4 + 8;
      p.payloadLength = avail - 8;
      return;
    }
    case IPPROTO_IPIP:
    case IPPROTO_IPV6:
      // A first fragment's inner packet is incomplete: it is opened once reassembled.
      if (frag === null) openTunnel(p, data, 'ipip', -1, { inner: proto === IPPROTO_IPIP ? Inner.IPV4 : Inner.IPV6, at: l4, id: -1 }, end);
      return;
    case IPPROTO_GRE:
      if (frag === null && p.malformed === null) openTunnel(p, data, 'gre', -1, readGre(data, l4, end), end);
      return;
    default:
      return;
  }
}

function openUdpTunnel(p: DecodedPacket, data: Uint8Array, l4: number): void {
  if (p.malformed !== null) return;
  const at = p.payloadOffset, end = at + p.payloadLength;
  if (p.dstPort === VXLAN_PORT) openTunnel(p, data, 'vxlan', l4, readVxlan(data, at, end), end);
  else openTunnel(p, data, 'geneve', l4, readGeneve(data, at, end), end);
}

/**
 * Decodes what the tunnel header carries into a packet of its own, which `p`
 * becomes when it has an IP layer. A refused header, a frame carrying no IP
 * (ARP over VXLAN) or an inner IP header that fails its checks leave `p` the
 * carrier it is, with the fault recorded.
 */
function openTunnel(p: DecodedPacket, data: Uint8Array, type: TunnelType, outerL4: number, h: TunnelHeader | TunnelFault | null, end: number): void {
  if (h === null || p.malformed !== null) return;
  if (isFault(h)) {
    if (h.truncated) short(p, h.event, h.reason);
    else fault(p, h.event, h.reason);
    return;
  }
  if (p.tunnels.length === MAX_TUNNEL_DEPTH) {
    fault(p, 'tunnel.too_many_layers', `tunnel: more than ${MAX_TUNNEL_DEPTH} layers`);
    p.invalid = `tunnel: more than ${MAX_TUNNEL_DEPTH} layers: the endpoint opens a packet no rule or module saw`;
    return;
  }
  const q = new Decoded(data, p.linkType, p.wireLen, p.tsSec, p.tsNsec, p.srcSeq, p.srcOffset);
  q.vlans = p.vlans;
  const layer: TunnelLayer = {
    type, depth: p.tunnels.length + 1, outerVersion: p.ipVersion as 4 | 6, outerL3Offset: p.l3Offset, outerProto: p.proto, outerL4Offset: outerL4, id: h.id, innerVlans: NO_VLANS,
  };
  let inner: number = h.inner;
  let at = h.at;
  if (inner === Inner.ETHERNET) {
    if (at + 14 > end) { short(p, 'tunnel.ethernet_too_small', `${type}: inner Ethernet frame ${Math.max(0, end - at)} < 14 bytes`); return; }
    let etherType = (data[at + 12]! << 8) | data[at + 13]!;
    at += 14;
    const vlans: number[] = [];
    while (etherType === 0x8100 || etherType === 0x88a8 || etherType === 0x9100) {
      if (vlans.length === MAX_VLAN_TAGS) { fault(p, 'tunnel.vlan_too_many_layers', `${type}: inner frame with more than ${MAX_VLAN_TAGS} VLAN tags`); return; }
      if (at + 4 > end) { short(p, 'tunnel.vlan_header_too_small', `${type}: inner VLAN tag truncated`); return; }
      vlans.push(((data[at]! << 8) | data[at + 1]!) & 0x0fff);
      etherType = (data[at + 2]! << 8) | data[at + 3]!;
      at += 4;
    }
    if (vlans.length > 0) layer.innerVlans = vlans;
    if (etherType === ETH_P_IPV4) inner = Inner.IPV4;
    else if (etherType === ETH_P_IPV6) inner = Inner.IPV6;
    else return;
  }
  q.tunnels = p.tunnels.length === 0 ? [layer] : [...p.tunnels, layer];
  if (inner === Inner.IPV4) decodeIpv4(q, data, at, end);
  else decodeIpv6(q, data, at, end);
  if (q.ipVersion === 0) {
    if (q.malformed !== null) fault(p, q.anomaly ?? 'tunnel.inner_malformed', `${type}: inner ${q.malformed}`);
    return;
  }
  // The innermost packet set them already (adopted from a deeper tunnel).
  if (q.tunnelWords === null) {
    const words = tunnelWords(data, q.tunnels);
    q.tunnelWords = words;
    q.tunnelHash = hashWords(words);
  }
  adopt(p, q);
}

/** `p` becomes the packet a tunnel carried; the frame and its source stay. */
function adopt(p: DecodedPacket, q: DecodedPacket): void {
  p.ipVersion = q.ipVersion;
  p.l3Offset = q.l3Offset;
  p.proto = q.proto;
  p.ttl = q.ttl;
  p.fragment = q.fragment;
  p.l4Offset = q.l4Offset;
  p.srcPort = q.srcPort;
  p.dstPort = q.dstPort;
  p.tcpFlags = q.tcpFlags;
  p.tcpSeq = q.tcpSeq;
  p.tcpAck = q.tcpAck;
  p.tcpWindow = q.tcpWindow;
  p.icmpType = q.icmpType;
  p.icmpCode = q.icmpCode;
  p.payloadOffset = q.payloadOffset;
  p.payloadLength = q.payloadLength;
  p.malformed = q.malformed;
  p.anomaly = q.anomaly;
  p.invalid = q.invalid;
  p.tunnels = q.tunnels;
  p.tunnelWords = q.tunnelWords;
  p.tunnelHash = q.tunnelHash;
}
