// Wire-exact tunnelled frames for tests: an inner packet from buildPacket()
// wrapped in the carrier headers written out byte by byte here (not by the
// decoder's own code), with correct lengths and IPv4 header checksums.
import { parseIp } from '../../../host/packet/addr.js';
import { buildPacket, type PacketSpec } from '../../../host/packet/build.js';
import { finishChecksum, sumWords } from '../../../host/packet/checksum.js';

export interface Outer {
  src: string;
  dst: string;
  /** UDP source port of a VXLAN/Geneve carrier (default 50000). */
  srcPort?: number;
  /** IPv4 identification / fragment field of the carrier, for fragmented carriers. */
  ipId?: number;
  fragField?: number;
}

const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
};
const u16 = (v: number): number[] => [(v >> 8) & 0xff, v & 0xff];
const u32 = (v: number): number[] => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];

export const ETH_IPV4 = 0x0800;
export const ETH_IPV6 = 0x86dd;
export const ETH_TEB = 0x6558;

export function ethernet(etherType: number, vlans: number[] = []): Uint8Array {
  const tags = vlans.flatMap((v) => [0x81, 0x00, ...u16(v)]);
  // Tags sit between the MACs and the ethertype; each tag's own type field is the next one's TPID.
  return Uint8Array.from([2, 0, 0, 0, 0, 0xb, 2, 0, 0, 0, 0, 0xa, ...tags, ...u16(etherType)]);
}

/** An IP header (v4 or v6 by the addresses) of `proto` over a payload of `payloadLen` bytes. */
export function ipHeader(o: Outer, proto: number, payloadLen: number): Uint8Array {
  const s = parseIp(o.src), d = parseIp(o.dst);
  if (s.length === 16) return Uint8Array.from([0x60, 0, 0, 0, ...u16(payloadLen), proto, 64, ...s, ...d]);
  const h = Uint8Array.from([0x45, 0, ...u16(20 + payloadLen), ...u16(o.ipId ?? 1), ...u16(o.fragField ?? 0), 64, proto, 0, 0, ...s, ...d]);
  const sum = finishChecksum(sumWords(h, 0, 20));
  h[10] = sum >> 8;
  h[11] = sum & 0xff;
  return h;
}

/** Outer Ethernet + IP + UDP (checksum 0) to `dstPort` around `payload`. */
export function udpCarrier(o: Outer, dstPort: number, payload: Uint8Array): Uint8Array {
  const v6 = parseIp(o.src).length === 16;
  const udp = Uint8Array.from([...u16(o.srcPort ?? 50000), ...u16(dstPort), ...u16(8 + payload.length), 0, 0]);
  return concat(ethernet(v6 ? ETH_IPV6 : ETH_IPV4), ipHeader(o, 17, 8 + payload.length), udp, payload);
}

/** Outer Ethernet + IP with protocol `proto` around `payload`. */
export function ipCarrier(o: Outer, proto: number, payload: Uint8Array): Uint8Array {
  const v6 = parseIp(o.src).length === 16;
  return concat(ethernet(v6 ? ETH_IPV6 : ETH_IPV4), ipHeader(o, proto, payload.length), payload);
}

export function vxlanHeader(vni: number, flags = 0x08): Uint8Array {
  return Uint8Array.from([flags, 0, 0, 0, ...u32(vni << 8)]);
}

export interface GreSpec { protocol: number; key?: number; seq?: number; checksum?: boolean; flags?: number }

export function greHeader(g: GreSpec): Uint8Array {
  let flags = g.flags ?? 0;
  if (g.checksum) flags |= 0x8000;
  if (g.key !== undefined) flags |= 0x2000;
  if (g.seq !== undefined) flags |= 0x1000;
  return Uint8Array.from([...u16(flags), ...u16(g.protocol),
    ...(g.checksum ? [0, 0, 0, 0] : []), ...(g.key !== undefined ? u32(g.key) : []), ...(g.seq !== undefined ? u32(g.seq) : [])]);
}

export function geneveHeader(vni: number, protocol: number, optionWords = 0, version = 0): Uint8Array {
  const opts = new Array<number>(optionWords * 4).fill(0);
  if (optionWords > 0) { opts[0] = 0x01; opts[1] = 0x02; opts[2] = 0x80; opts[3] = optionWords - 1; }
  return Uint8Array.from([(version << 6) | optionWords, 0, ...u16(protocol), ...u32(vni << 8), ...opts]);
}

/** The inner packet as an Ethernet frame (buildPacket's output). */
export const innerFrame = (spec: PacketSpec): Uint8Array => buildPacket(spec);
/** The inner packet from its IP header on. */
export const innerIp = (spec: PacketSpec): Uint8Array => buildPacket({ ...spec, vlans: [] }).subarray(14);

/** A carrier around an inner Ethernet frame (its IP packet for GRE and IPIP, which carry no link layer). */
export type Wrap = (o: Outer, eth: Uint8Array) => Uint8Array;
const ipOf = (eth: Uint8Array): Uint8Array => eth.subarray(14);
const isV6 = (ip: Uint8Array): boolean => ip[0]! >> 4 === 6;

export const wrapVxlan = (vni: number): Wrap => (o, eth) => udpCarrier(o, 4789, concat(vxlanHeader(vni), eth));
export const wrapGeneve = (vni: number): Wrap => (o, eth) => udpCarrier(o, 6081, concat(geneveHeader(vni, ETH_TEB, 2), eth));
export const wrapGreIp = (g: Omit<GreSpec, 'protocol'> = {}): Wrap => (o, eth) => {
  const ip = ipOf(eth);
  return ipCarrier(o, 47, concat(greHeader({ ...g, protocol: isV6(ip) ? ETH_IPV6 : ETH_IPV4 }), ip));
};
export const wrapGretap = (g: Omit<GreSpec, 'protocol'> = {}): Wrap => (o, eth) => ipCarrier(o, 47, concat(greHeader({ ...g, protocol: ETH_TEB }), eth));
export const wrapIpip: Wrap = (o, eth) => {
  const ip = ipOf(eth);
  return ipCarrier(o, isV6(ip) ? 41 : 4, ip);
};

export const vxlan = (o: Outer, vni: number, spec: PacketSpec): Uint8Array => wrapVxlan(vni)(o, innerFrame(spec));
export const geneve = (o: Outer, vni: number, spec: PacketSpec): Uint8Array => wrapGeneve(vni)(o, innerFrame(spec));
export const greIp = (o: Outer, spec: PacketSpec, g: Omit<GreSpec, 'protocol'> = {}): Uint8Array => wrapGreIp(g)(o, buildPacket({ ...spec, vlans: [] }));
export const gretap = (o: Outer, spec: PacketSpec, g: Omit<GreSpec, 'protocol'> = {}): Uint8Array => wrapGretap(g)(o, innerFrame(spec));
export const ipip = (o: Outer, spec: PacketSpec): Uint8Array => wrapIpip(o, buildPacket({ ...spec, vlans: [] }));

/** A whole frame's payload after its outer Ethernet header: to nest a carrier inside another. */
export const afterEthernet = (frame: Uint8Array): Uint8Array => frame.subarray(14);
export { concat };
