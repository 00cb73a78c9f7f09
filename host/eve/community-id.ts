// Community ID v1 (https://github.com/corelight/community-id-spec): the flow
// hash Suricata writes as `community_id` (community-id: true) and Zeek with
// its community-id package, so our EVE records join theirs on one string.
//
// The hash input, network byte order throughout:
//   seed (u16) . addrA . addrB . proto (u8) . 0 (u8) [. portA (u16) . portB (u16)]
// where A is the smaller endpoint (address bytes first, then port) so both
// directions of a flow hash alike. Ports are present for TCP, UDP, SCTP, ICMP
// and ICMPv6 only; the pad byte always is (the input stays 32-bit aligned).
// ICMP's "ports" are Zeek's: the type, and the counterpart type for a
// request/response type (echo 8 <-> reply 0...), else the code, and a type
// without a counterpart is one-way: never reordered.
//
// The seed is 0, the default of Suricata, Zeek and Wireshark.
import * as crypto from 'node:crypto';
import { addrLength, dstAddrOffset, srcAddrOffset, type DecodedPacket } from '../packet/types.js';
import type { Flow } from '../flow/types.js';

export const COMMUNITY_ID_SEED = 0;

/** ICMPv4 request/response counterparts (the spec's icmp.py, from Zeek's ICMP4_counterpart). */
const ICMP4_PAIRS: readonly (readonly [number, number])[] = [
  [8, 0],   // echo request / echo reply
  [13, 14], // timestamp / timestamp reply
  [15, 16], // information request / reply
  [10, 9],  // router solicitation / router advertisement
  [17, 18], // address mask request / reply
];

/** ICMPv6 counterparts (the spec's icmp6.py, from Zeek's ICMP6_counterpart). */
const ICMP6_PAIRS: readonly (readonly [number, number])[] = [
  [128, 129], // echo request / echo reply
  [130, 131], // multicast listener query / report
  [133, 134], // router solicitation / advertisement
  [135, 136], // neighbor solicitation / advertisement
  [139, 140], // node information query / response ("who are you")
  [144, 145], // home agent address discovery request / reply
];

function counterparts(pairs: readonly (readonly [number, number])[]): Int16Array {
  const t = new Int16Array(256).fill(-1);
  for (const [a, b] of pairs) {
    t[a] = b;
    t[b] = a;
  }
  return t;
}

const ICMP4_COUNTERPART = counterparts(ICMP4_PAIRS);
const ICMP6_COUNTERPART = counterparts(ICMP6_PAIRS);

/** The counterpart of an ICMP (proto 1) or ICMPv6 (58) type, -1 for a one-way type. */
export function icmpCounterpart(proto: number, type: number): number {
  if (type < 0 || type > 255) return -1;
  return (proto === 58 ? ICMP6_COUNTERPART : ICMP4_COUNTERPART)[type]!;
}

/** Protocols whose tuple has ports (or ICMP's type/code stand-ins). */
export function hasPorts(proto: number): boolean {
  return proto === 6 || proto === 17 || proto === 132 || proto === 1 || proto === 58;
}

// One buffer for the hash input: 2 + 16 + 16 + 2 + 4 bytes at most.
const input = Buffer.alloc(40);
// A view of the input for each length it can have (12, 16, 36, 40 bytes),
// made once. A flood of new flows computes an ID a packet, and the three
// Buffer views made per ID (Buffer.subarray runs in JavaScript) cost it
// 1.5 of 6 us a packet in the queue replay.
const inputViews: (Buffer | undefined)[] = [];

// crypto.hash (Node 20.12+) is a one-shot without a Hash object: about 2.5x
// faster than createHash for these 40 bytes.
const oneShot = typeof (crypto as { hash?: unknown }).hash === 'function' ? crypto.hash : null;

function digest(len: number): string {
  const bytes = inputViews[len] ??= input.subarray(0, len);
  return '1:' + (oneShot !== null ? oneShot('sha1', bytes, 'base64') : crypto.createHash('sha1').update(bytes).digest('base64'));
}

function copyAddr(from: Uint8Array, off: number, len: number, at: number): void {
  for (let i = 0; i < len; i++) input[at + i] = from[off + i]!;
}

/** -1, 0 or 1 as the address at aOff compares with the one at bOff, byte by byte. */
function compareAddr(a: Uint8Array, aOff: number, b: Uint8Array, bOff: number, len: number): number {
  for (let i = 0; i < len; i++) {
    const d = a[aOff + i]! - b[bOff + i]!;
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/**
 * The Community ID of a tuple whose addresses lie in byte arrays (4 or 16
 * bytes each, the same length). `srcPort`/`dstPort`: the ports, or for ICMP
 * and ICMPv6 the type and code; -1 for a protocol without ports. Returns
 * undefined when a protocol that has ports is given none (the tuple cannot
 * be known: a truncated header, a non-first fragment).
 */
export function communityIdOf(
  src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number, alen: number,
  proto: number, srcPort: number, dstPort: number, seed: number = COMMUNITY_ID_SEED,
): string | undefined {
  if ((alen !== 4 && alen !== 16) || proto < 0 || proto > 255) return undefined;
  const ports = hasPorts(proto);
  if (ports && (srcPort < 0 || dstPort < 0 || srcPort > 0xffff || dstPort > 0xffff)) return undefined;
  let sp = srcPort, dp = dstPort;
  let oneWay = false;
  if (proto === 1 || proto === 58) {
    const other = icmpCounterpart(proto, srcPort);
    if (other >= 0) dp = other;
    else oneWay = true; // (type, code) as they are, in the packet's direction
  }
  let swap = false;
  if (!oneWay) {
    const c = compareAddr(src, srcOff, dst, dstOff, alen);
    // Equal addresses: the ports decide (ordered when sp < dp, as the reference implementation).
    swap = c > 0 || (c === 0 && !(ports && sp < dp));
  }
  input.writeUInt16BE(seed & 0xffff, 0);
  let at = 2;
  if (swap) {
    copyAddr(dst, dstOff, alen, at);
    copyAddr(src, srcOff, alen, at + alen);
    const t = sp; sp = dp; dp = t;
  } else {
    copyAddr(src, srcOff, alen, at);
    copyAddr(dst, dstOff, alen, at + alen);
  }
  at += 2 * alen;
  input[at++] = proto;
  input[at++] = 0;
  if (ports) {
    input.writeUInt16BE(sp, at);
    input.writeUInt16BE(dp, at + 2);
    at += 4;
  }
  return digest(at);
}

/** The Community ID of addresses as byte arrays (tests, flows). */
export function communityId(src: Uint8Array, dst: Uint8Array, proto: number, srcPort = -1, dstPort = -1, seed: number = COMMUNITY_ID_SEED): string | undefined {
  if (src.length !== dst.length) return undefined;
  return communityIdOf(src, 0, dst, 0, src.length, proto, srcPort, dstPort, seed);
}

/**
 * A packet's own Community ID, or undefined when it has no IP layer or its
 * tuple cannot be read: TCP/UDP/ICMP without its header (a non-first
 * fragment, a truncated header), SCTP (the decoder does not read its ports),
 * an IPv6 header chain the decoder could not walk (protocol 0).
 */
export function packetCommunityId(pkt: DecodedPacket): string | undefined {
  const ver = pkt.ipVersion;
  if (ver === 0 || pkt.l3Offset < 0) return undefined;
  const proto = pkt.proto;
  let sp = -1, dp = -1;
  if (proto === 6 || proto === 17) {
    if (pkt.l4Offset < 0) return undefined;
    sp = pkt.srcPort;
    dp = pkt.dstPort;
  } else if (proto === 1 || proto === 58) {
    if (pkt.icmpType < 0) return undefined;
    sp = pkt.icmpType;
    dp = pkt.icmpCode;
  } else if (portsUnread(ver, proto)) {
    return undefined;
  }
  return communityIdOf(pkt.data, srcAddrOffset(pkt), pkt.data, dstAddrOffset(pkt), addrLength(pkt), proto, sp, dp);
}

/**
 * The flow's Community ID, computed once. An ICMP flow holds every ICMP
 * message between its two hosts, while the ID hashes a message's type: it is
 * that of the flow's first message (sent by the flow's client), undefined
 * when that message's header was cut. A TCP or UDP flow keyed without ports
 * (its packets' headers could not be read) and an SCTP flow have none.
 */
export function flowCommunityId(f: Flow): string | undefined {
  // Kept on the flow, not in a WeakMap beside the flow table: one field read
  // and nothing weak for the collector to track per flow.
  const known = f.communityId;
  if (known !== undefined) return known ?? undefined;
  const id = flowTupleId(f);
  f.communityId = id ?? null;
  return id;
}

function flowTupleId(f: Flow): string | undefined {
  const proto = f.proto;
  if (portsUnread(f.ipVersion, proto)) return undefined;
  if (proto === 1 || proto === 58) {
    return f.firstIcmpType < 0 ? undefined : communityId(f.clientAddr, f.serverAddr, proto, f.firstIcmpType, f.firstIcmpCode);
  }
  if (proto === 6 || proto === 17) {
    return f.clientPort === 0 && f.serverPort === 0 ? undefined : communityId(f.clientAddr, f.serverAddr, proto, f.clientPort, f.serverPort);
  }
  return communityId(f.clientAddr, f.serverAddr, proto);
}

/** SCTP (the decoder does not read its ports) and an IPv6 header chain it could not walk (protocol 0): the tuple is unknown. */
function portsUnread(ipVersion: number, proto: number): boolean {
  return proto === 132 || (ipVersion === 6 && proto === 0);
}

/**
 * The Community ID of a packet record: an ICMP message's own (its type may
 * not be that of the flow's first message), otherwise its flow's, computed
 * once per flow, or the packet's when it has no flow.
 */
export function decisionCommunityId(pkt: DecodedPacket, f: Flow | null): string | undefined {
  if (f === null || pkt.proto === 1 || pkt.proto === 58) return packetCommunityId(pkt);
  return flowCommunityId(f);
}
