// The tunnel headers the decoder opens, each read on its own: what follows
// the header and where, or why the header is refused. decode.ts walks into
// what follows (docs/tunnels.md).
import type { TunnelLayer, TunnelType } from './types.js';
import { addrWord } from './addr.js';

/** Tunnels inside tunnels opened at most; a deeper one is refused (decode.ts). */
export const MAX_TUNNEL_DEPTH = 3;
export const VXLAN_PORT = 4789;
export const GENEVE_PORT = 6081;
export const IPPROTO_IPIP = 4;
export const IPPROTO_IPV6 = 41;
export const IPPROTO_GRE = 47;

/** What a tunnel header carries: an IPv4 or IPv6 packet, or an Ethernet frame. */
export const Inner = { IPV4: 4, IPV6: 6, ETHERNET: 1 } as const;
export type Inner = (typeof Inner)[keyof typeof Inner];

export interface TunnelHeader {
  inner: Inner;
  /** Where the inner packet or frame starts. */
  at: number;
  /** VNI or GRE key, -1 when none. */
  id: number;
}

/** A refused header: the decoder's fault name and reason. */
export interface TunnelFault {
  event: string;
  reason: string;
  /** Bytes are missing (not a fault when the capture cut the frame), rather than a field being wrong. */
  truncated?: true;
}

const ETH_P_IPV4 = 0x0800;
const ETH_P_IPV6 = 0x86dd;
const ETH_P_TEB = 0x6558;

function innerOf(etherType: number): Inner | null {
  return etherType === ETH_P_IPV4 ? Inner.IPV4 : etherType === ETH_P_IPV6 ? Inner.IPV6 : etherType === ETH_P_TEB ? Inner.ETHERNET : null;
}

const GRE_CSUM = 0x8000;
const GRE_ROUTING = 0x4000;
const GRE_KEY = 0x2000;
const GRE_SEQ = 0x1000;
/** RFC 2784 bits 1, 4 and 5 (routing, strict source route, recursion's top bit): a receiver must discard such a packet. */
const GRE_MUST_BE_ZERO = GRE_ROUTING | 0x0800 | 0x0400;

/**
 * GRE (RFC 2784, RFC 2890 key and sequence number). Null for what is not
 * opened and not faulty either: version 1 (PPTP) or a protocol other than
 * IPv4, IPv6 and transparent Ethernet bridging.
 */
export function readGre(data: Uint8Array, at: number, end: number): TunnelHeader | TunnelFault | null {
  if (at + 4 > end) return { event: 'gre.pkt_too_small', reason: `gre: header truncated (${Math.max(0, end - at)} < 4 bytes)`, truncated: true };
  const flags = (data[at]! << 8) | data[at + 1]!;
  if ((flags & 0x7) !== 0) return null;
  if ((flags & GRE_MUST_BE_ZERO) !== 0) return { event: 'gre.version0_flags', reason: `gre: reserved flags 0x${(flags & GRE_MUST_BE_ZERO).toString(16)} set` };
  const len = 4 + ((flags & GRE_CSUM) !== 0 ? 4 : 0) + ((flags & GRE_KEY) !== 0 ? 4 : 0) + ((flags & GRE_SEQ) !== 0 ? 4 : 0);
  if (at + len > end) return { event: 'gre.version0_hdr_too_big', reason: `gre: header of ${len} bytes truncated (${end - at} bytes)`, truncated: true };
  const inner = innerOf((data[at + 2]! << 8) | data[at + 3]!);
  if (inner === null) return null;
  let id = -1;
  if ((flags & GRE_KEY) !== 0) {
    const k = at + 4 + ((flags & GRE_CSUM) !== 0 ? 4 : 0);
    id = addrWord(data, k) >>> 0;
  }
  return { inner, at: at + len, id };
}

/** VXLAN (RFC 7348): 8 bytes, the I flag says the VNI is valid; an Ethernet frame follows. */
export function readVxlan(data: Uint8Array, at: number, end: number): TunnelHeader | TunnelFault {
  if (at + 8 > end) return { event: 'vxlan.pkt_too_small', reason: `vxlan: header truncated (${Math.max(0, end - at)} < 8 bytes)`, truncated: true };
  if ((data[at]! & 0x08) === 0) return { event: 'vxlan.invalid_flags', reason: `vxlan: I flag not set (flags 0x${data[at]!.toString(16)})` };
  const id = (data[at + 4]! << 16) | (data[at + 5]! << 8) | data[at + 6]!;
  return { inner: Inner.ETHERNET, at: at + 8, id };
}

/** Geneve (RFC 8926): 8 bytes plus the options' length; version 0 only. */
export function readGeneve(data: Uint8Array, at: number, end: number): TunnelHeader | TunnelFault | null {
  if (at + 8 > end) return { event: 'geneve.pkt_too_small', reason: `geneve: header truncated (${Math.max(0, end - at)} < 8 bytes)`, truncated: true };
  const version = data[at]! >> 6;
  if (version !== 0) return { event: 'geneve.unknown_version', reason: `geneve: version ${version}` };
  const len = 8 + ((data[at]! & 0x3f) << 2);
  if (at + len > end) return { event: 'geneve.options_truncated', reason: `geneve: header with options of ${len} bytes truncated (${end - at} bytes)`, truncated: true };
  const inner = innerOf((data[at + 2]! << 8) | data[at + 3]!);
  if (inner === null) return null;
  const id = (data[at + 4]! << 16) | (data[at + 5]! << 8) | data[at + 6]!;
  return { inner, at: at + len, id };
}

export function isFault(h: TunnelHeader | TunnelFault): h is TunnelFault {
  return (h as TunnelFault).event !== undefined;
}

const TYPE_CODES: Record<TunnelType, number> = { ipip: 1, gre: 2, vxlan: 3, geneve: 4 };

function wordAt(d: Uint8Array, at: number): number {
  return addrWord(d, at) >>> 0;
}

/** Where a layer's outer source and destination addresses start in the frame, and how long they are. */
export function outerAddrs(l: Pick<TunnelLayer, 'outerVersion' | 'outerL3Offset'>): { src: number; dst: number; len: 4 | 16 } {
  return l.outerVersion === 4
    ? { src: l.outerL3Offset + 12, dst: l.outerL3Offset + 16, len: 4 }
    : { src: l.outerL3Offset + 8, dst: l.outerL3Offset + 24, len: 16 };
}

/**
 * The layers as numbers, 12 a layer: type and outer IP version, whether it
 * has an id, the id, the inner VLAN ids, then both outer endpoints (4 words
 * each, IPv4 in the first), the lower first so both directions agree.
 */
export function tunnelWords(data: Uint8Array, layers: readonly TunnelLayer[]): number[] {
  const out: number[] = [];
  for (const l of layers) {
    const v4 = l.outerVersion === 4;
    const { src, dst } = outerAddrs(l);
    const a = [wordAt(data, src), v4 ? 0 : wordAt(data, src + 4), v4 ? 0 : wordAt(data, src + 8), v4 ? 0 : wordAt(data, src + 12)];
    const b = [wordAt(data, dst), v4 ? 0 : wordAt(data, dst + 4), v4 ? 0 : wordAt(data, dst + 8), v4 ? 0 : wordAt(data, dst + 12)];
    let aFirst = true;
    for (let i = 0; i < 4; i++) if (a[i] !== b[i]) { aFirst = a[i]! < b[i]!; break; }
    const vl = l.innerVlans;
    out.push(TYPE_CODES[l.type] | (l.outerVersion << 8) | (l.id >= 0 ? 1 << 12 : 0), l.id >= 0 ? l.id : 0,
      (vl.length > 0 ? vl[0]! + 1 : 0) | ((vl.length > 1 ? vl[1]! + 1 : 0) << 13),
      ...(aFirst ? a : b), ...(aFirst ? b : a));
  }
  return out;
}

/** A hash of tunnelWords(), never 0 (0 means no tunnel). */
export function hashWords(words: readonly number[]): number {
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < words.length; i++) h = Math.imul(h ^ words[i]!, 0x01000193);
  h ^= h >>> 15;
  return h === 0 ? 1 : h;
}

/** The words as a string, to key maps with (the defragmenter's, the penalty box's). */
export function wordsKey(words: readonly number[]): string {
  let k = '';
  for (let i = 0; i < words.length; i++) k += String.fromCharCode(words[i]! >>> 16, words[i]! & 0xffff);
  return k;
}

export function sameWords(a: readonly number[] | null, b: readonly number[] | null): boolean {
  if (a === b) return true;
  if (a === null || b === null || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Whether the packet is, or carries, a tunnel the XDP program cannot see
 * into: IP in IP, GRE, or UDP to or from the VXLAN or Geneve port, opened or
 * not. The kernel keys such a packet by its outer header, which covers every
 * flow inside the tunnel, so its verdicts stay in user space.
 */
export function isTunnelCarrier(p: { tunnels: readonly unknown[]; proto: number; srcPort: number; dstPort: number }): boolean {
  if (p.tunnels.length > 0) return true;
  const proto = p.proto;
  if (proto === IPPROTO_IPIP || proto === IPPROTO_IPV6 || proto === IPPROTO_GRE) return true;
  return proto === 17 && (p.dstPort === VXLAN_PORT || p.dstPort === GENEVE_PORT || p.srcPort === VXLAN_PORT || p.srcPort === GENEVE_PORT);
}
