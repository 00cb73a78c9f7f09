// Hostile and malformed Ethernet frames for the live-daemon tests, built by
// hand (not with host/packet/build.ts, which only makes well-formed packets)
// from a seeded generator, so a failing run can be replayed frame for frame.
import { mulberry32 } from '../../support/random.js';

export interface HostileTarget {
  srcMac: Uint8Array;
  dstMac: Uint8Array;
  /** IPv4 addresses as 4 bytes. */
  src4: Uint8Array;
  dst4: Uint8Array;
  /** IPv6 addresses as 16 bytes. */
  src6: Uint8Array;
  dst6: Uint8Array;
  /** A TCP port the daemon's inspect rule covers. */
  port: number;
  /** Largest frame the link takes (MTU + 14). */
  maxFrame: number;
}

export interface HostileSet {
  /** Every frame, grouped by kind, in sending order. */
  kinds: Record<string, Uint8Array[]>;
  all: Uint8Array[];
}

const ETH_IP4 = 0x0800;
const ETH_IP6 = 0x86dd;

function eth(t: HostileTarget, type: number, body: Uint8Array, tags: Array<[number, number]> = []): Uint8Array {
  const f = new Uint8Array(14 + 4 * tags.length + body.length);
  f.set(t.dstMac, 0);
  f.set(t.srcMac, 6);
  let at = 12;
  for (const [tpid, vid] of tags) {
    f[at] = tpid >> 8; f[at + 1] = tpid & 0xff; f[at + 2] = vid >> 8; f[at + 3] = vid & 0xff;
    at += 4;
  }
  f[at] = type >> 8; f[at + 1] = type & 0xff;
  f.set(body, at + 2);
  return f;
}

function u16(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >> 8) & 0xff;
  b[at + 1] = v & 0xff;
}

/** TCP header (20 bytes unless doff says more, options zero) with payload; checksum left 0: the stack will drop it, the daemon must not care. */
function tcp(sport: number, dport: number, flags: number, doff: number, payload: Uint8Array = new Uint8Array(0), seq = 1): Uint8Array {
  const hlen = Math.max(20, doff * 4);
  const b = new Uint8Array(hlen + payload.length);
  u16(b, 0, sport); u16(b, 2, dport);
  b[4] = seq >>> 24; b[5] = (seq >>> 16) & 0xff; b[6] = (seq >>> 8) & 0xff; b[7] = seq & 0xff;
  b[12] = (doff & 0x0f) << 4;
  b[13] = flags;
  u16(b, 14, 65535);
  b.set(payload, hlen);
  return b;
}

function udp(sport: number, dport: number, payload: Uint8Array): Uint8Array {
  const b = new Uint8Array(8 + payload.length);
  u16(b, 0, sport); u16(b, 2, dport); u16(b, 4, 8 + payload.length);
  b.set(payload, 8);
  return b;
}

interface Ip4Opts { ihl?: number; totalLen?: number; proto: number; id?: number; fragOff?: number; mf?: boolean; src?: Uint8Array; dst?: Uint8Array }

function ip4(t: HostileTarget, o: Ip4Opts, l4: Uint8Array): Uint8Array {
  const ihl = o.ihl ?? 5;
  const hlen = Math.max(20, ihl * 4);
  const b = new Uint8Array(hlen + l4.length);
  b[0] = 0x40 | (ihl & 0x0f);
  u16(b, 2, o.totalLen ?? hlen + l4.length);
  u16(b, 4, o.id ?? 1);
  u16(b, 6, ((o.mf ? 1 : 0) << 13) | ((o.fragOff ?? 0) & 0x1fff));
  b[8] = 64;
  b[9] = o.proto;
  b.set(o.src ?? t.src4, 12);
  b.set(o.dst ?? t.dst4, 16);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  u16(b, 10, ~sum & 0xffff);
  b.set(l4, hlen);
  return b;
}

function ip6(t: HostileTarget, next: number, rest: Uint8Array, payloadLen?: number): Uint8Array {
  const b = new Uint8Array(40 + rest.length);
  b[0] = 0x60;
  u16(b, 4, payloadLen ?? rest.length);
  b[6] = next;
  b[7] = 64;
  b.set(t.src6, 8);
  b.set(t.dst6, 24);
  b.set(rest, 40);
  return b;
}

/** An IPv6 extension header (hop-by-hop, routing or destination options) of (len + 1) * 8 bytes. */
function ext6(next: number, len: number): Uint8Array {
  const b = new Uint8Array((len + 1) * 8);
  b[0] = next;
  b[1] = len;
  return b;
}

function frag6(next: number, offset8: number, mf: boolean, id: number): Uint8Array {
  const b = new Uint8Array(8);
  b[0] = next;
  u16(b, 2, (offset8 << 3) | (mf ? 1 : 0));
  b[4] = id >>> 24; b[5] = (id >>> 16) & 0xff; b[6] = (id >>> 8) & 0xff; b[7] = id & 0xff;
  return b;
}

function cat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/**
 * Builds the hostile set: about `scale` thousand frames in all, every kind
 * addressed to the target (its MAC, and its IPv4/IPv6 address where the kind
 * has one), so the inspect rules punt whatever XDP can parse.
 */
export function hostileFrames(t: HostileTarget, seed = 1): HostileSet {
  const r = mulberry32(seed);
  const int = (n: number): number => Math.floor(r() * n);
  const bytes = (n: number): Uint8Array => { const b = new Uint8Array(n); for (let i = 0; i < n; i++) b[i] = int(256); return b; };
  const sport = (): number => 1024 + int(60000);
  const SYN = 0x02, ACK = 0x10, PSH = 0x08;
  const k: Record<string, Uint8Array[]> = {};
  const add = (kind: string, f: Uint8Array): void => { (k[kind] ??= []).push(f.length > t.maxFrame ? f.subarray(0, t.maxFrame) : f); };
  const tcp4 = (l4: Uint8Array, o: Partial<Ip4Opts> = {}): Uint8Array => eth(t, ETH_IP4, ip4(t, { proto: 6, ...o }, l4));

  // Runts: an Ethernet header and a few bytes, claiming every type we parse.
  for (let i = 0; i < 150; i++) {
    const type = [ETH_IP4, ETH_IP6, 0x8100, 0x88a8, 0x0806][i % 5]!;
    add('runt', eth(t, type, bytes(int(47))));
  }
  // Truncated IPv4/IPv6 headers, cut anywhere inside the header.
  for (let i = 0; i < 100; i++) {
    const full4 = ip4(t, { proto: 6 }, tcp(sport(), t.port, SYN, 5));
    add('truncated-ip', eth(t, ETH_IP4, full4.subarray(0, 1 + int(19))));
    const full6 = ip6(t, 6, tcp(sport(), t.port, SYN, 5));
    add('truncated-ip', eth(t, ETH_IP6, full6.subarray(0, 1 + int(39))));
  }
  // IHL below 5, or pointing past the frame.
  for (let i = 0; i < 100; i++) {
    const l4 = tcp(sport(), t.port, SYN, 5);
    const f = ip4(t, { proto: 6 }, l4);
    f[0] = 0x40 | (i % 2 === 0 ? int(5) : 15);
    add('bad-ihl', eth(t, ETH_IP4, f.subarray(0, i % 2 === 0 ? f.length : 20 + int(20))));
  }
  // Total length lies: larger than the frame, smaller than its headers, zero, 0xffff.
  for (let i = 0; i < 200; i++) {
    const l4 = i % 2 ? tcp(sport(), t.port, PSH | ACK, 5, bytes(int(200))) : udp(sport(), t.port, bytes(int(200)));
    const totalLen = [l4.length + 20 + 1 + int(1000), 20 + int(8), 20, 0xffff][i % 4]!;
    add('ip4-total-length', eth(t, ETH_IP4, ip4(t, { proto: i % 2 ? 6 : 17, totalLen }, l4)));
  }
  // IPv6 payload length lies.
  for (let i = 0; i < 200; i++) {
    const l4 = tcp(sport(), t.port, PSH | ACK, 5, bytes(int(200)));
    const plen = [l4.length + 1 + int(2000), int(20), 0, 0xffff][i % 4]!;
    add('ip6-payload-length', eth(t, ETH_IP6, ip6(t, 6, l4, plen)));
  }
  // Extension header chains: long, past the frame, fragment headers in a row, lengths to the end.
  for (let i = 0; i < 200; i++) {
    const l4 = tcp(sport(), t.port, SYN, 5);
    let chain: Uint8Array;
    switch (i % 5) {
      case 0: { // many hop-by-hop/destination options, then TCP, as long as the frame takes
        const n = 8 + int(150);
        const parts: Uint8Array[] = [];
        for (let j = 0; j < n; j++) parts.push(ext6(j === n - 1 ? 6 : [0, 60, 43][j % 3]!, 0));
        chain = cat(...parts, l4);
        break;
      }
      case 1: chain = cat(ext6(6, 255).subarray(0, 16), l4); break; // a length far past the frame
      case 2: { // fragment headers chained to each other, never ending
        const parts: Uint8Array[] = [];
        for (let j = 0; j < 40; j++) parts.push(frag6(44, 0, true, i));
        chain = cat(...parts);
        break;
      }
      case 3: { const a = ext6(51, 1); a[1] = 255; chain = cat(a, l4); break; } // AH with a huge length
      default: chain = cat(ext6(60, 0), ext6(0, 0), ext6(60, 0)); // ends in an extension header with nothing after
    }
    add('ip6-ext-chain', eth(t, ETH_IP6, ip6(t, i % 5 === 2 ? 44 : i % 5 === 3 ? 51 : 0, chain)));
  }
  // TCP data offset below 5, or past the frame.
  for (let i = 0; i < 200; i++) {
    const doff = i % 2 ? int(5) : 15;
    const seg = tcp(sport(), t.port, PSH | ACK, doff, bytes(int(30)));
    const cut = i % 2 ? seg : seg.subarray(0, 20 + int(20));
    if (i % 4 < 2) add('tcp-doff', tcp4(cut));
    else add('tcp-doff', eth(t, ETH_IP6, ip6(t, 6, cut)));
  }
  // Fragments: overlapping, tiny, first missing, and one datagram in a thousand pieces.
  for (let i = 0; i < 50; i++) {
    const id = 0x1000 + i;
    const data = udp(sport(), t.port, bytes(64));
    add('frag-overlap', eth(t, ETH_IP4, ip4(t, { proto: 17, id, fragOff: 0, mf: true }, data.subarray(0, 48))));
    add('frag-overlap', eth(t, ETH_IP4, ip4(t, { proto: 17, id, fragOff: 2, mf: true }, bytes(48))));
    add('frag-overlap', eth(t, ETH_IP4, ip4(t, { proto: 17, id, fragOff: 1, mf: false }, bytes(64))));
    add('frag-tiny', eth(t, ETH_IP4, ip4(t, { proto: 6, id: id + 0x100, fragOff: 0, mf: true }, tcp(sport(), t.port, SYN, 5).subarray(0, 8))));
    add('frag-tiny', eth(t, ETH_IP4, ip4(t, { proto: 6, id: id + 0x100, fragOff: 1, mf: false }, bytes(1))));
    add('frag-no-first', eth(t, ETH_IP4, ip4(t, { proto: 17, id: id + 0x200, fragOff: 100 + int(8000), mf: int(2) === 0 }, bytes(8 + int(100)))));
    add('frag-no-first', eth(t, ETH_IP6, ip6(t, 44, cat(frag6(17, 100 + int(8000), true, id + 0x200), bytes(8 + int(100))))));
    add('frag-ip6-overlap', eth(t, ETH_IP6, ip6(t, 44, cat(frag6(17, 0, true, id + 0x300), udp(sport(), t.port, bytes(16))))));
    add('frag-ip6-overlap', eth(t, ETH_IP6, ip6(t, 44, cat(frag6(17, 1, false, id + 0x300), bytes(40)))));
  }
  const big = 0x7777;
  for (let off = 0; off < 1000; off++) {
    const piece = off === 0 ? udp(40000, t.port, bytes(0)) : bytes(8);
    add('frag-thousand', eth(t, ETH_IP4, ip4(t, { proto: 17, id: big, fragOff: off, mf: off < 999 }, piece)));
  }
  // VLAN and QinQ stacks, with a third tag past what XDP parses, and a tag cut short.
  for (let i = 0; i < 150; i++) {
    const body = ip4(t, { proto: 6 }, tcp(sport(), t.port, SYN, 5));
    const tags: Array<[number, number]> = [[0x8100, int(4096)], [0x88a8, int(4096)], [0x8100, int(4096)], [0x8100, int(4096)]];
    const n = 1 + (i % 4);
    const stacked = n === 2 ? [[0x88a8, tags[1]![1]], tags[0]!] as Array<[number, number]> : tags.slice(0, n);
    const f = eth(t, ETH_IP4, body, stacked);
    add('vlan', i % 10 === 9 ? f.subarray(0, 16) : f);
  }
  // Frames as large as the link takes, with random payloads.
  for (let i = 0; i < 50; i++) {
    const room = t.maxFrame - 14 - 20;
    if (i % 2) add('jumbo', tcp4(tcp(sport(), t.port, PSH | ACK, 5, bytes(room - 20))));
    else add('jumbo', eth(t, ETH_IP4, ip4(t, { proto: 17 }, udp(sport(), t.port, bytes(room - 8)))));
  }
  // Random bytes after a valid Ethernet header; half keep a plausible IPv4 first byte and our address.
  for (let i = 0; i < 300; i++) {
    const b = bytes(20 + int(t.maxFrame - 34));
    if (i % 2 === 0) { b[0] = 0x45; b.set(t.dst4, 16); }
    add('random', eth(t, i % 3 === 2 ? ETH_IP6 : ETH_IP4, b));
  }
  // SYNs from spoofed sources (10.0.0.0/8 and random IPv4).
  for (let i = 0; i < 1000; i++) {
    const src = new Uint8Array([10, int(256), int(256), 1 + int(254)]);
    add('syn-flood', tcp4(tcp(sport(), t.port, SYN, 5, new Uint8Array(0), int(0xffffffff)), { src, id: int(65536) }));
  }
  return { kinds: k, all: Object.values(k).flat() };
}
