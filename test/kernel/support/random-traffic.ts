// Seeded random rule sets and frames for the differential test. Addresses,
// ports and tags come from small pools so that rules and packets collide
// often; frames are then fragmented, truncated, padded or corrupted.
import { buildPacket, fragmentIp, type PacketSpec } from '../../../host/packet/build.js';
import type { RuleAction } from '../../../host/verdict.js';
import { mulberry32 } from '../../support/random.js';

export type Rng = () => number;

/** mulberry32, shared with the other randomized tests. */
export const seededRng = (seed: number): Rng => mulberry32(seed);

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
const int = (rng: Rng, lo: number, hi: number): number => lo + Math.floor(rng() * (hi - lo + 1));
const chance = (rng: Rng, p: number): boolean => rng() < p;

const V4 = ['198.18.0.1', '198.18.0.200', '198.18.1.10', '198.19.255.254', '198.18.128.7', '10.0.0.5', '192.168.1.77', '198.18.1.11'];
const V6 = ['2001:db8::1', '2001:db8:0:1::10', '2001:db8:ffff::2', '2001:db8::c612:1', '::ffff:198.18.0.1', '2001:db8:0:1::11', 'fe80::1'];
const V4_LENS = [0, 8, 15, 16, 17, 24, 25, 31, 32];
const V6_LENS = [0, 16, 32, 48, 64, 96, 112, 127, 128];
const PORTS = [0, 53, 80, 443, 1023, 1024, 8080, 40000, 65535];
const PORT_RANGES = ['80', '443', '0-1023', '1024-65535', '53-80', '80-80', '40000-40010', '65535', '0'];
const VLANS = [0, 1, 100, 4095];
const ACTIONS: readonly RuleAction[] = ['pass', 'drop', 'inspect'];

function cidr(rng: Rng, v6: boolean): string {
  return v6 ? `${pick(rng, V6)}/${pick(rng, V6_LENS)}` : `${pick(rng, V4)}/${pick(rng, V4_LENS)}`;
}

/**
 * A rule in rule-file form; about 35% CIDR-only, 13% port-only. indexOnly
 * draws only those two shapes (rules no scan needs), half each.
 */
export function randomRule(rng: Rng, id: number, indexOnly = false): Record<string, unknown> {
  const r: Record<string, unknown> = { id, priority: chance(rng, 0.6) ? int(rng, 0, 4) : int(rng, 0, 65535), action: pick(rng, ACTIONS) };
  const v6 = chance(rng, 0.4);
  if (chance(rng, indexOnly ? 0.5 : 0.35)) {
    r[chance(rng, 0.5) ? 'src' : 'dst'] = cidr(rng, v6);
    return r;
  }
  if (indexOnly || chance(rng, 0.2)) {
    // port-only: served by the port index
    const proto = pick(rng, ['any', 'tcp', 'udp'] as const);
    if (proto !== 'any') r.proto = proto;
    r[chance(rng, 0.7) ? 'dst_port' : 'src_port'] = pick(rng, PORTS);
    return r;
  }
  if (chance(rng, 0.4)) r.src = cidr(rng, v6);
  if (chance(rng, 0.4)) r.dst = cidr(rng, v6);
  const proto = pick(rng, ['any', 'any', 'tcp', 'udp', 'icmp'] as const);
  if (proto !== 'any') r.proto = proto;
  if (proto !== 'icmp') {
    if (chance(rng, 0.3)) r.src_port = pick(rng, PORT_RANGES);
    if (chance(rng, 0.4)) r.dst_port = pick(rng, PORT_RANGES);
  }
  if (chance(rng, 0.2)) r.vlan = pick(rng, VLANS);
  return r;
}

export function randomRuleSet(rng: Rng, indexOnly = false): { default_policy: RuleAction; rules: Record<string, unknown>[] } {
  const n = pick(rng, [0, 1, 3, 8, 20, 40, 80]);
  // Dense ids make (priority, id) ties between neighbouring rules common.
  const ids = new Set<number>();
  const maxId = chance(rng, 0.5) ? n : 5000;
  while (ids.size < n) ids.add(int(rng, 1, maxId));
  return { default_policy: pick(rng, ACTIONS), rules: [...ids].map((id) => randomRule(rng, id, indexOnly)) };
}

function put16(b: Uint8Array, at: number, v: number): void {
  b[at] = v >> 8;
  b[at + 1] = v & 0xff;
}

/** Rewrites the first IPv6 destination-options header into an AH header of the same size. */
function makeAh(frame: Uint8Array, l3: number): void {
  let nextAt = l3 + 6;
  let pos = l3 + 40;
  for (let i = 0; i < 9 && pos + 2 <= frame.length; i++) {
    const nh = frame[nextAt]!;
    if (nh === 60) {
      const len = (frame[pos + 1]! + 1) << 3;
      frame[nextAt] = 51;
      frame[pos + 1] = len / 4 - 2;
      return;
    }
    if (nh !== 0 && nh !== 43) return;
    nextAt = pos;
    pos += (frame[pos + 1]! + 1) << 3;
  }
}

function spec(rng: Rng): PacketSpec {
  const v6 = chance(rng, 0.4);
  const src = v6 ? pick(rng, V6) : pick(rng, V4);
  const dst = v6 ? pick(rng, V6) : pick(rng, V4);
  const proto = pick(rng, ['tcp', 'tcp', 'udp', 'udp', 'icmp', 47, 50] as const);
  const s: PacketSpec = { src, dst, proto, srcPort: pick(rng, PORTS), dstPort: pick(rng, PORTS) };
  if (typeof proto === 'number') s.payload = new Uint8Array(int(rng, 0, 24));
  else if (chance(rng, 0.5)) s.payload = new Uint8Array(int(rng, 1, 80)).map(() => int(rng, 0, 255));
  const tags = int(rng, 0, 9);
  if (tags >= 6) s.vlans = [pick(rng, VLANS)];
  if (tags >= 8) s.vlans = [pick(rng, VLANS), pick(rng, VLANS)];
  if (!v6 && chance(rng, 0.2)) s.ipv4Options = new Uint8Array(4 * int(rng, 1, 10)).fill(1);
  if (v6 && chance(rng, 0.35)) {
    const n = pick(rng, [1, 2, 3, 7, 8, 9]);
    s.ipv6ExtHeaders = Array.from({ length: n }, () => ({ type: pick(rng, [0, 43, 60] as const), length: 8 * int(rng, 1, 3) }));
  }
  return s;
}

function l3Offset(frame: Uint8Array): number {
  let off = 14;
  let type = (frame[12]! << 8) | frame[13]!;
  while ((type === 0x8100 || type === 0x88a8 || type === 0x9100) && off + 4 <= frame.length) {
    type = (frame[off + 2]! << 8) | frame[off + 3]!;
    off += 4;
  }
  return off;
}

/** One frame: valid, fragmented, then maybe truncated, padded or corrupted. */
export function randomFrame(rng: Rng): Uint8Array {
  for (;;) {
    let frame: Uint8Array;
    try {
      frame = buildPacket(spec(rng));
      const l3 = l3Offset(frame);
      if (frame[l3]! >> 4 === 6 && chance(rng, 0.3)) makeAh(frame, l3);
      if (chance(rng, 0.2)) {
        const parts = fragmentIp(frame, 8 * int(rng, 1, 6));
        if (parts.length === 0) continue;
        frame = pick(rng, parts);
      }
    } catch {
      continue; // a combination the builder refuses (e.g. fragmenting AH): draw again
    }
    // The pre-802.1ad QinQ tag (0x9100) on a tagged frame, outer or inner.
    const tagged = (l3Offset(frame) - 14) >> 2;
    if (tagged > 0 && chance(rng, 0.3)) put16(frame, 12 + 4 * int(rng, 0, tagged - 1), 0x9100);
    const l3 = l3Offset(frame);
    const m = rng();
    if (m < 0.12) {
      frame = frame.slice(0, int(rng, 0, frame.length)); // truncated, sometimes below 14 bytes
    } else if (m < 0.2) {
      const pad = new Uint8Array(frame.length + int(rng, 1, 33));
      pad.set(frame);
      frame = pad; // Ethernet padding / odd lengths after the IP layer
    } else if (m < 0.3) {
      const at = int(rng, 12, Math.min(frame.length - 1, l3 + 60));
      frame[at] = int(rng, 0, 255); // one corrupted header byte
    } else if (m < 0.35 && l3 + 4 <= frame.length) {
      put16(frame, l3 + 2, int(rng, 0, 200)); // IPv4 total length / IPv6 payload length bits
    } else if (m < 0.38 && l3 < frame.length) {
      frame[l3] = (frame[l3]! & 0xf0) | int(rng, 0, 15); // IPv4 IHL
    } else if (m < 0.41) {
      put16(frame, 12, pick(rng, [0x0806, 0x88cc, 0x86dd, 0x0800, 0x8100, 0x9100])); // another ethertype
    } else if (m < 0.45 && l3 + 8 <= frame.length && frame[l3]! >> 4 === 4) {
      put16(frame, l3 + 6, pick(rng, [int(rng, 0, 0xffff), 0x1000, 0x3000, 0x4000, 0x2000, 0x0001, 0x8000])); // IPv4 flags and fragment offset, edge bits included
    }
    return frame;
  }
}
