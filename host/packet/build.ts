// Builds real, checksummed frames from a small spec: used by dry-run
// `inspect`, the sample capture and tests. Output is always Ethernet II;
// toLinkType re-frames it and fragmentIp splits it.
import { SecuxflowError } from '../errors.js';
import { parseIp } from './addr.js';
import { finishChecksum, pseudoHeaderSum, sumWords } from './checksum.js';
import { decodePacket } from './decode.js';
import { LinkType, TcpFlag } from './types.js';

export interface Ipv6ExtHeaderSpec {
  /** Hop-by-hop (0), routing (43) or destination options (60). */
  type: 0 | 43 | 60;
  /** Total header length in bytes, a multiple of 8 (default 8). */
  length?: number;
}

export interface PacketSpec {
  src: string;
  dst: string;
  /** 'icmp' means ICMPv6 when the addresses are IPv6; a number builds that protocol with `payload` as its body. */
  proto: 'tcp' | 'udp' | 'icmp' | number;
  srcPort?: number;
  dstPort?: number;
  /** Default: ACK|PSH when there is a payload, SYN otherwise. */
  tcpFlags?: number;
  seq?: number;
  ack?: number;
  window?: number;
  payload?: Uint8Array | string;
  /** VLAN ids, outermost first; with 2 tags the outer one uses 0x88a8 (QinQ). */
  vlans?: number[];
  /** MPLS labels (20 bits each), outermost first, after the VLAN tags: the IP packet rides under this stack (ethertype 0x8847). */
  mplsLabels?: number[];
  /** PPPoE session id: the IP packet rides in a PPPoE session frame (ethertype 0x8864). Not with mplsLabels. */
  pppoeSession?: number;
  ttl?: number;
  ipId?: number;
  /** Raw IPv4 options, a multiple of 4 bytes, at most 40. */
  ipv4Options?: Uint8Array;
  ipv6ExtHeaders?: Ipv6ExtHeaderSpec[];
  icmpType?: number;
  icmpCode?: number;
  srcMac?: string;
  dstMac?: string;
}

const DEFAULT_SRC_MAC = '02:00:00:00:00:01';
const DEFAULT_DST_MAC = '02:00:00:00:00:02';
const textEncoder = new TextEncoder();

function usage(field: string, value: unknown, why: string, hint?: string): SecuxflowError {
  return new SecuxflowError('E_USAGE', `invalid ${field} '${String(value)}': ${why}`, hint);
}

function checkInt(field: string, value: number | undefined, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0 || value > max) throw usage(field, value, `must be an integer 0..${max}`);
  return value;
}

function parseMac(field: string, text: string): Uint8Array {
  const m = /^([0-9a-fA-F]{2})(?::([0-9a-fA-F]{2})){5}$/.test(text) ? text.split(':') : null;
  if (!m) throw usage(field, text, 'not a MAC address', 'use the form 02:00:00:00:00:01');
  return Uint8Array.from(m.map((h) => parseInt(h, 16)));
}

function protoNumber(proto: PacketSpec['proto'], v6: boolean): number {
  if (proto === 'tcp') return 6;
  if (proto === 'udp') return 17;
  if (proto === 'icmp') return v6 ? 58 : 1;
  if (typeof proto === 'number' && Number.isInteger(proto) && proto >= 0 && proto <= 255) return proto;
  throw usage('proto', proto, 'must be tcp, udp, icmp or a protocol number 0..255');
}

function put16(b: Uint8Array, at: number, v: number): void { b[at] = (v >> 8) & 0xff; b[at + 1] = v & 0xff; }
function put32(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >>> 24) & 0xff; b[at + 1] = (v >>> 16) & 0xff; b[at + 2] = (v >>> 8) & 0xff; b[at + 3] = v & 0xff;
}

function buildL4(spec: PacketSpec, proto: number, payload: Uint8Array, v6: boolean): Uint8Array {
  if (proto === 6) {
    const seg = new Uint8Array(20 + payload.length);
    put16(seg, 0, checkInt('srcPort', spec.srcPort, 49152, 0xffff));
    put16(seg, 2, checkInt('dstPort', spec.dstPort, 80, 0xffff));
    const flags = checkInt('tcpFlags', spec.tcpFlags, payload.length ? TcpFlag.ACK | TcpFlag.PSH : TcpFlag.SYN, 0xff);
    put32(seg, 4, checkInt('seq', spec.seq, 1, 0xffffffff));
    put32(seg, 8, checkInt('ack', spec.ack, flags & TcpFlag.ACK ? 1 : 0, 0xffffffff));
    seg[12] = 5 << 4;
    seg[13] = flags;
    put16(seg, 14, checkInt('window', spec.window, 65535, 0xffff));
    seg.set(payload, 20);
    return seg;
  }
  if (proto === 17) {
    const dg = new Uint8Array(8 + payload.length);
    if (dg.length > 0xffff) throw usage('payload', `${payload.length} bytes`, 'too long for UDP');
    put16(dg, 0, checkInt('srcPort', spec.srcPort, 49152, 0xffff));
    put16(dg, 2, checkInt('dstPort', spec.dstPort, 53, 0xffff));
    put16(dg, 4, dg.length);
    dg.set(payload, 8);
    return dg;
  }
  if (proto === 1 || proto === 58) {
    const msg = new Uint8Array(8 + payload.length);
    msg[0] = checkInt('icmpType', spec.icmpType, v6 ? 128 : 8, 0xff);
    msg[1] = checkInt('icmpCode', spec.icmpCode, 0, 0xff);
    // Echo identifier and sequence number: fixed so builds are reproducible.
    put16(msg, 4, checkInt('ipId', spec.ipId, 1, 0xffff));
    put16(msg, 6, 1);
    msg.set(payload, 8);
    return msg;
  }
  return payload.slice();
}

function fillL4Checksum(l4: Uint8Array, proto: number, src: Uint8Array, dst: Uint8Array): void {
  const at = proto === 6 ? 16 : proto === 17 ? 6 : proto === 1 || proto === 58 ? 2 : -1;
  if (at < 0) return;
  const base = proto === 1 ? 0 : pseudoHeaderSum(src, dst, proto, l4.length);
  let c = finishChecksum(sumWords(l4, 0, l4.length, base));
  if (proto === 17 && c === 0) c = 0xffff;
  put16(l4, at, c);
}

function buildExtHeaders(list: Ipv6ExtHeaderSpec[], finalNext: number): { bytes: Uint8Array; firstNext: number } {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < list.length; i++) {
    const h = list[i]!;
    if (h.type !== 0 && h.type !== 43 && h.type !== 60) throw usage(`ipv6ExtHeaders[${i}].type`, h.type, 'must be 0, 43 or 60');
    const len = h.length ?? 8;
    if (!Number.isInteger(len) || len < 8 || len % 8 !== 0 || len > 2048) {
      throw usage(`ipv6ExtHeaders[${i}].length`, len, 'must be a multiple of 8 between 8 and 2048');
    }
    const b = new Uint8Array(len);
    b[0] = i + 1 < list.length ? list[i + 1]!.type : finalNext;
    b[1] = len / 8 - 1;
    if (h.type === 43) {
      // Routing type 253 is reserved for experiments; segments left 0 means
      // every node ignores it, so the header is valid without real hops.
      b[2] = 253;
      b[3] = 0;
    } else {
      // Option area: one PadN option spanning it, so the TLVs are well formed.
      b[2] = 1;
      b[3] = len - 4;
    }
    parts.push(b);
  }
  const total = parts.reduce((n, b) => n + b.length, 0);
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const b of parts) { bytes.set(b, at); at += b.length; }
  return { bytes, firstNext: list.length ? list[0]!.type : finalNext };
}

const ETH_P_MPLS_UC = 0x8847;
const ETH_P_PPPOE_SESSION = 0x8864;

/** What sits between the Ethernet/VLAN header and the IP header: an MPLS label stack or a PPPoE session header. */
function encapsulation(spec: PacketSpec, v6: boolean, ipLength: number): { etherType: number; bytes: Uint8Array } {
  const labels = spec.mplsLabels ?? [];
  if (labels.length && spec.pppoeSession !== undefined) throw usage('pppoeSession', spec.pppoeSession, 'cannot be combined with mplsLabels');
  if (labels.length) {
    const bytes = new Uint8Array(4 * labels.length);
    labels.forEach((label, i) => {
      const l = checkInt(`mplsLabels[${i}]`, label, 0, 0xfffff);
      // label(20) | TC(3) = 0 | bottom of stack(1) | TTL(8) = 64
      put32(bytes, 4 * i, ((l << 12) | (i === labels.length - 1 ? 0x100 : 0) | 64) >>> 0);
    });
    return { etherType: ETH_P_MPLS_UC, bytes };
  }
  if (spec.pppoeSession !== undefined) {
    const bytes = new Uint8Array(8);
    bytes[0] = 0x11; // version 1, type 1; code 0 (session data)
    put16(bytes, 2, checkInt('pppoeSession', spec.pppoeSession, 0, 0xffff));
    put16(bytes, 4, 2 + ipLength); // the PPP protocol field counts
    put16(bytes, 6, v6 ? 0x0057 : 0x0021);
    return { etherType: ETH_P_PPPOE_SESSION, bytes };
  }
  return { etherType: v6 ? 0x86dd : 0x0800, bytes: new Uint8Array(0) };
}

/** Where a PPPoE session header's length field sits in an Ethernet frame, -1 when there is none. */
function pppoeLengthOffset(frame: Uint8Array): number {
  let at = 12;
  let type = (frame[at]! << 8) | frame[at + 1]!;
  while (type === 0x8100 || type === 0x88a8 || type === 0x9100) {
    at += 4;
    type = (frame[at]! << 8) | frame[at + 1]!;
  }
  return type === ETH_P_PPPOE_SESSION ? at + 2 + 4 : -1;
}

function ethernetHeader(spec: PacketSpec, etherType: number): Uint8Array {
  const vlans = spec.vlans ?? [];
  const hdr = new Uint8Array(14 + vlans.length * 4);
  hdr.set(parseMac('dstMac', spec.dstMac ?? DEFAULT_DST_MAC), 0);
  hdr.set(parseMac('srcMac', spec.srcMac ?? DEFAULT_SRC_MAC), 6);
  let at = 12;
  for (let i = 0; i < vlans.length; i++) {
    const id = checkInt(`vlans[${i}]`, vlans[i], 0, 4095);
    put16(hdr, at, i === 0 && vlans.length > 1 ? 0x88a8 : 0x8100);
    put16(hdr, at + 2, id);
    at += 4;
  }
  put16(hdr, at, etherType);
  return hdr;
}

/** Builds one Ethernet II frame with correct IPv4/TCP/UDP/ICMP/ICMPv6 checksums. */
export function buildPacket(spec: PacketSpec): Uint8Array {
  const src = parseIp(spec.src);
  const dst = parseIp(spec.dst);
  if (src.length !== dst.length) {
    throw usage('dst', spec.dst, `address family differs from src '${spec.src}'`, 'use two IPv4 or two IPv6 addresses');
  }
  const v6 = src.length === 16;
  const proto = protoNumber(spec.proto, v6);
  const payload = typeof spec.payload === 'string' ? textEncoder.encode(spec.payload) : (spec.payload ?? new Uint8Array(0));
  const l4 = buildL4(spec, proto, payload, v6);
  fillL4Checksum(l4, proto, src, dst);
  const ttl = checkInt('ttl', spec.ttl, 64, 255);

  let l3: Uint8Array;
  if (!v6) {
    if (spec.ipv6ExtHeaders?.length) throw usage('ipv6ExtHeaders', 'set', 'only valid with IPv6 addresses');
    const opts = spec.ipv4Options ?? new Uint8Array(0);
    if (opts.length % 4 !== 0 || opts.length > 40) throw usage('ipv4Options', `${opts.length} bytes`, 'must be a multiple of 4, at most 40');
    const ihl = 20 + opts.length;
    const total = ihl + l4.length;
    if (total > 0xffff) throw usage('payload', `${payload.length} bytes`, 'IPv4 datagram exceeds 65535 bytes');
    l3 = new Uint8Array(total);
    l3[0] = 0x40 | (ihl >> 2);
    put16(l3, 2, total);
    put16(l3, 4, checkInt('ipId', spec.ipId, 1, 0xffff));
    l3[8] = ttl;
    l3[9] = proto;
    l3.set(src, 12);
    l3.set(dst, 16);
    l3.set(opts, 20);
    put16(l3, 10, finishChecksum(sumWords(l3, 0, ihl)));
    l3.set(l4, ihl);
  } else {
    if (spec.ipv4Options?.length) throw usage('ipv4Options', 'set', 'only valid with IPv4 addresses');
    const ext = buildExtHeaders(spec.ipv6ExtHeaders ?? [], proto);
    const payloadLen = ext.bytes.length + l4.length;
    if (payloadLen > 0xffff) throw usage('payload', `${payload.length} bytes`, 'IPv6 payload exceeds 65535 bytes');
    l3 = new Uint8Array(40 + payloadLen);
    l3[0] = 0x60;
    put16(l3, 4, payloadLen);
    l3[6] = ext.firstNext;
    l3[7] = ttl;
    l3.set(src, 8);
    l3.set(dst, 24);
    l3.set(ext.bytes, 40);
    l3.set(l4, 40 + ext.bytes.length);
  }
  const encap = encapsulation(spec, v6, l3.length);
  const eth = ethernetHeader(spec, encap.etherType);
  const frame = new Uint8Array(eth.length + encap.bytes.length + l3.length);
  frame.set(eth, 0);
  frame.set(encap.bytes, eth.length);
  frame.set(l3, eth.length + encap.bytes.length);
  return frame;
}

/**
 * Splits an Ethernet frame from buildPacket into IP fragments. IPv4 copies
 * the whole header (options included) into every fragment; IPv6 keeps
 * hop-by-hop and routing headers unfragmentable and inserts a fragment header
 * after them. `id` defaults to the IPv4 identification / 0x5ec0f001.
 */
export function fragmentIp(frame: Uint8Array, fragmentDataSize: number, id?: number): Uint8Array[] {
  if (!Number.isInteger(fragmentDataSize) || fragmentDataSize <= 0 || fragmentDataSize % 8 !== 0) {
    throw usage('fragmentDataSize', fragmentDataSize, 'must be a positive multiple of 8');
  }
  const p = decodePacket(frame, LinkType.ETHERNET);
  if (p.malformed !== null || p.ipVersion === 0) throw usage('frame', p.malformed ?? 'no IP layer', 'cannot fragment');
  if (p.fragment !== null) throw usage('frame', 'already a fragment', 'fragment the original datagram');
  const l3 = p.l3Offset;
  const linkHdr = frame.subarray(0, l3);
  // A PPPoE header counts the bytes after it: each fragment gets its own count.
  const pppoeLen = pppoeLengthOffset(frame);
  const out: Uint8Array[] = [];
  const push = (f: Uint8Array): void => {
    if (pppoeLen >= 0) put16(f, pppoeLen, f.length - l3 + 2);
    out.push(f);
  };
  if (p.ipVersion === 4) {
    const ihl = (frame[l3]! & 0x0f) << 2;
    const total = (frame[l3 + 2]! << 8) | frame[l3 + 3]!;
    const body = frame.subarray(l3 + ihl, l3 + total);
    for (let off = 0; off < body.length; off += fragmentDataSize) {
      const chunk = body.subarray(off, Math.min(off + fragmentDataSize, body.length));
      const more = off + chunk.length < body.length;
      const f = new Uint8Array(l3 + ihl + chunk.length);
      f.set(linkHdr, 0);
      f.set(frame.subarray(l3, l3 + ihl), l3);
      put16(f, l3 + 2, ihl + chunk.length);
      if (id !== undefined) put16(f, l3 + 4, id & 0xffff);
      put16(f, l3 + 6, (more ? 0x2000 : 0) | (off >> 3));
      put16(f, l3 + 10, 0);
      put16(f, l3 + 10, finishChecksum(sumWords(f, l3, l3 + ihl)));
      f.set(chunk, l3 + ihl);
      push(f);
    }
    return out;
  }
  // IPv6: walk the leading hop-by-hop / routing headers (the unfragmentable part).
  const payloadLen = (frame[l3 + 4]! << 8) | frame[l3 + 5]!;
  const end = l3 + 40 + payloadLen;
  let nextAt = l3 + 6;
  let pos = l3 + 40;
  while (frame[nextAt] === 0 || frame[nextAt] === 43) {
    const hdrLen = (frame[pos + 1]! + 1) << 3;
    nextAt = pos;
    pos += hdrLen;
  }
  const unfrag = pos - l3;
  const fragNext = frame[nextAt]!;
  const body = frame.subarray(pos, end);
  const fragId = (id ?? 0x5ec0f001) >>> 0;
  for (let off = 0; off < body.length; off += fragmentDataSize) {
    const chunk = body.subarray(off, Math.min(off + fragmentDataSize, body.length));
    const more = off + chunk.length < body.length;
    const f = new Uint8Array(l3 + unfrag + 8 + chunk.length);
    f.set(frame.subarray(0, l3 + unfrag), 0);
    f[nextAt] = 44;
    put16(f, l3 + 4, unfrag - 40 + 8 + chunk.length);
    const fh = l3 + unfrag;
    f[fh] = fragNext;
    put16(f, fh + 2, off | (more ? 1 : 0));
    put32(f, fh + 4, fragId);
    f.set(chunk, fh + 8);
    push(f);
  }
  return out;
}

/** Re-frames an Ethernet frame (VLAN tags, MPLS labels, PPPoE header dropped) as RAW, IPV4, IPV6, LINUX_SLL, LINUX_SLL2, NULL or LOOP. */
export function toLinkType(frame: Uint8Array, linkType: LinkType): Uint8Array {
  if (linkType === LinkType.ETHERNET) return frame.slice();
  const p = decodePacket(frame, LinkType.ETHERNET);
  if (p.ipVersion === 0) throw usage('frame', p.malformed ?? 'no IP layer', `cannot convert to link type ${linkType}`);
  const ip = frame.subarray(p.l3Offset);
  const etherType = p.ipVersion === 4 ? 0x0800 : 0x86dd;
  switch (linkType) {
    case LinkType.RAW:
      return ip.slice();
    case LinkType.IPV4:
    case LinkType.IPV6:
      if ((linkType === LinkType.IPV4) !== (p.ipVersion === 4)) {
        throw usage('linkType', linkType, `frame carries IPv${p.ipVersion}`);
      }
      return ip.slice();
    case LinkType.LINUX_SLL: {
      const out = new Uint8Array(16 + ip.length);
      put16(out, 0, 0);            // packet type: addressed to this host
      put16(out, 2, 1);            // ARPHRD_ETHER
      put16(out, 4, 6);            // link-layer address length
      out.set(frame.subarray(6, 12), 6);
      put16(out, 14, etherType);
      out.set(ip, 16);
      return out;
    }
    case LinkType.LINUX_SLL2: {
      const out = new Uint8Array(20 + ip.length);
      put16(out, 0, etherType);
      put32(out, 4, 1);            // interface index
      put16(out, 8, 1);            // ARPHRD_ETHER
      out[10] = 0;                 // packet type: addressed to this host
      out[11] = 6;
      out.set(frame.subarray(6, 12), 12);
      out.set(ip, 20);
      return out;
    }
    case LinkType.NULL:
    case LinkType.LOOP: {
      // NULL as macOS writes it (little-endian, AF_INET6 30); LOOP as OpenBSD does (big-endian, AF_INET6 24).
      const out = new Uint8Array(4 + ip.length);
      const family = p.ipVersion === 4 ? 2 : linkType === LinkType.NULL ? 30 : 24;
      if (linkType === LinkType.NULL) out[0] = family;
      else out[3] = family;
      out.set(ip, 4);
      return out;
    }
    default:
      throw usage('linkType', linkType, 'unsupported', 'use 0, 1, 101, 108, 113, 228, 229 or 276');
  }
}
