// The decoded view of one frame. Decoding never throws: a frame that cannot be
// fully parsed has `malformed` set and keeps whatever was parsed before the fault.

/** Link-layer types, numbered as in pcap's LINKTYPE_* registry. */
export const LinkType = {
  /** BSD loopback: a 4-byte address family in the capturing host's byte order (macOS lo0). */
  NULL: 0,
  ETHERNET: 1,
  /** OpenBSD loopback: the same 4-byte address family, in network byte order. */
  LOOP: 108,
  RAW: 101,        // raw IPv4/IPv6, version nibble decides
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;
export type LinkType = (typeof LinkType)[keyof typeof LinkType];

export const IpProto = { ICMP: 1, TCP: 6, UDP: 17, ICMPV6: 58 } as const;

export const TcpFlag = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20, ECE: 0x40, CWR: 0x80 } as const;

export interface FragmentInfo {
  /** IPv4 identification (16 bits) or IPv6 fragment id (32 bits). */
  id: number;
  /** Offset of this fragment's data in the original datagram, in bytes. */
  offset: number;
  moreFragments: boolean;
  /** Offset in `data` where the fragment's data starts (after IP header / fragment ext header). */
  dataOffset: number;
  /** IPv6: the next-header value carried in the fragment header. IPv4: the protocol field. */
  nextHeader: number;
}

/** A tunnel the decoder opened: IP in IP (4in4, 6in4/SIT, 4in6, 6in6), GRE, VXLAN or Geneve. */
export type TunnelType = 'ipip' | 'gre' | 'vxlan' | 'geneve';

export interface TunnelLayer {
  type: TunnelType;
  /** 1 for the outermost tunnel. */
  depth: number;
  /** The carrier's IP header: its version, offset in `data` and protocol (4, 41, 47 or 17). */
  outerVersion: 4 | 6;
  outerL3Offset: number;
  outerProto: number;
  /** The carrier's UDP header (VXLAN, Geneve), -1 otherwise: a rebuilt datagram fixes its length there. */
  outerL4Offset: number;
  /** VXLAN/Geneve VNI or GRE key; -1 when the header carries none. */
  id: number;
  /** VLAN ids of the inner Ethernet frame (VXLAN, GRETAP, Geneve), outermost first. */
  innerVlans: readonly number[];
}

export interface DecodedPacket {
  /** The frame as captured (for reassembled datagrams, the rebuilt frame). */
  data: Uint8Array;
  linkType: LinkType;
  /** Original length on the wire (>= data.length when the capture was truncated). */
  wireLen: number;
  tsSec: number;
  tsNsec: number;

  /** VLAN ids, outermost first (802.1Q / 802.1ad QinQ). Empty when untagged. */
  vlans: number[];
  /** 4, 6, or 0 when there is no IP layer (ARP, unknown ethertype, malformed). */
  ipVersion: 0 | 4 | 6;
  /** Offset of the IP header in data, -1 when none. */
  l3Offset: number;
  /**
   * Source/destination addresses: 4 or 16 bytes, views into data. Empty when
   * no IP layer. Decoded packets make a new view on each read: per-packet
   * code reads data at srcAddrOffset()/dstAddrOffset() instead.
   */
  readonly src: Uint8Array;
  readonly dst: Uint8Array;
  /** Upper-layer protocol after IPv6 extension headers (6 tcp, 17 udp, 1 icmp, 58 icmpv6...), 0 when none. */
  proto: number;
  ttl: number;
  /** Set when this is an IP fragment (first or not). Non-first fragments have l4Offset = -1. */
  fragment: FragmentInfo | null;

  /** Offset of the L4 header in data, -1 when absent (non-first fragment, truncated, unknown proto). */
  l4Offset: number;
  srcPort: number;   // 0 when no ports
  dstPort: number;
  tcpFlags: number;  // 0 for non-TCP
  tcpSeq: number;    // u32
  tcpAck: number;    // u32
  tcpWindow: number;
  icmpType: number;  // -1 when not ICMP/ICMPv6
  icmpCode: number;

  /** Offset/length of the L4 payload (after TCP/UDP/ICMP header); -1/0 when none. */
  payloadOffset: number;
  payloadLength: number;

  /**
   * Tunnels the packet came through, outermost first; empty (one shared
   * frozen array) when it came through none. Every other field describes the
   * innermost packet.
   */
  tunnels: readonly TunnelLayer[];
  /**
   * The tunnels as numbers (per layer: type, id, inner VLANs, both outer
   * endpoints lowest first), so that two overlays reusing the same inner
   * addresses stay apart: flows, datagrams and penalties are keyed with it.
   * Null without a tunnel. `tunnelHash` hashes it, never 0 with a tunnel, 0
   * without: the flow table compares that number first.
   */
  tunnelWords: readonly number[] | null;
  tunnelHash: number;

  /** Null for a well-formed packet, otherwise a short reason such as "ipv4: header length 4 < 5". */
  malformed: string | null;
  /**
   * Set with `malformed`: the fault's stable name, layer.event as Suricata
   * names decoder events ("ipv4.hlen_too_small"), which EVE anomaly records
   * carry so that log tools can group what the reason's numbers tell apart.
   */
  anomaly: string | null;

  /**
   * Set (with the reason) when a firewall must drop the packet whatever its
   * rules say, because the receiver would read it differently from what the
   * rules can see: a first fragment too short for its TCP/UDP header (RFC
   * 1858; the receiver reassembles a datagram whose ports no rule saw), or an
   * IPv6 header chain longer than the decoder walks. The XDP program drops
   * the same packets (stage `invalid`). Null otherwise.
   */
  invalid: string | null;

  /**
   * Where the frame came from, so that the module host can copy a run of
   * frames with one copy (host/wasm/frame-runs.ts). Two packets have
   * consecutive `srcSeq` only when their frames follow each other in the same
   * buffer with nothing between them but the source's own framing for the
   * second (a pcap record header, pcapng block fields, zeroed padding).
   * `srcOffset` is the frame's byte offset in `data.buffer`. -1 and 0 when
   * the frame has no such source (a dry-run packet, a rebuilt datagram).
   */
  srcSeq: number;
  srcOffset: number;
  /** The frame's number in its capture file, from 1 (EVE's pcap_cnt); 0 when it comes from no file. */
  frameNumber: number;
}

/**
 * The packet's flow key has no ports though its protocol would carry them: a
 * TCP/UDP header that could not be parsed, or a protocol past a bad IPv6
 * extension chain. The XDP program keys every such packet between two hosts
 * (src, dst, proto) alike, and so does the flow table (ports 0), so a verdict
 * on that "flow" would decide unrelated packets: the engine and the daemon
 * decide them packet by packet.
 */
export function hasPortlessFlowKey(p: Pick<DecodedPacket, 'proto' | 'l4Offset' | 'ipVersion'>): boolean {
  if (p.proto === 6 || p.proto === 17) return p.l4Offset < 0;
  return p.ipVersion === 6 && p.proto === 0;
}

/** Where the source address starts in `p.data`, -1 without an IP layer. */
export function srcAddrOffset(p: Pick<DecodedPacket, 'ipVersion' | 'l3Offset'>): number {
  return p.ipVersion === 4 ? p.l3Offset + 12 : p.ipVersion === 6 ? p.l3Offset + 8 : -1;
}

/**
 * Where the IP layer ends in `p.data` by its length field (IPv4 total length,
 * IPv6 40 + payload length), which may lie past the bytes captured. For a
 * packet with an IP layer (ipVersion 4 or 6).
 */
export function ipLayerEnd(p: Pick<DecodedPacket, 'ipVersion' | 'l3Offset' | 'data'>): number {
  const d = p.data;
  const l3 = p.l3Offset;
  return p.ipVersion === 4 ? l3 + ((d[l3 + 2]! << 8) | d[l3 + 3]!) : l3 + 40 + ((d[l3 + 4]! << 8) | d[l3 + 5]!);
}

/** Where the destination address starts in `p.data`, -1 without an IP layer. */
export function dstAddrOffset(p: Pick<DecodedPacket, 'ipVersion' | 'l3Offset'>): number {
  return p.ipVersion === 4 ? p.l3Offset + 16 : p.ipVersion === 6 ? p.l3Offset + 24 : -1;
}

/** Address length in bytes: 4, 16, or 0 without an IP layer. */
export function addrLength(p: Pick<DecodedPacket, 'ipVersion'>): number {
  return p.ipVersion === 4 ? 4 : p.ipVersion === 6 ? 16 : 0;
}
