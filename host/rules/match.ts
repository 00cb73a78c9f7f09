// First-match rule evaluation, exactly as docs/rules.md defines it.
//
// The rules are compiled once per address family into parallel typed arrays
// (like the kernel's per-family rule arrays), so the per-packet loop is plain
// int32 compares with no allocation:
//  - an absent CIDR is net 0 / mask 0, which every address passes;
//  - an absent port range is -1..65535, and a packet without ports carries
//    port -1, so it passes only rules without a port constraint;
//  - results are preallocated per rule and shared.
import { dstAddrOffset, srcAddrOffset, type DecodedPacket } from '../packet/types.js';
import { addrWord } from '../packet/addr.js';
import type { Cidr, Rule, RuleMatch, RuleSet } from './types.js';

const ANY = -1;
const NO_PORT = -1;
const PROTO_V4: Record<Rule['proto'], number> = { tcp: 6, udp: 17, icmp: 1, any: ANY };
const PROTO_V6: Record<Rule['proto'], number> = { tcp: 6, udp: 17, icmp: 58, any: ANY };

/** Sorted copy: priority ascending, then id ascending. */
export function sortRules(rules: readonly Rule[]): Rule[] {
  return [...rules].sort((a, b) => a.priority - b.priority || a.id - b.id);
}

function maskWord(prefixLen: number, wordIndex: number): number {
  const bits = Math.max(0, Math.min(32, prefixLen - wordIndex * 32));
  return bits === 0 ? 0 : -1 << (32 - bits);
}

/** One family's rules in evaluation order, field by field. */
class FamilyTable {
  readonly count: number;
  readonly proto: Int32Array;
  readonly vlan: Int32Array;
  readonly sportLo: Int32Array;
  readonly sportHi: Int32Array;
  readonly dportLo: Int32Array;
  readonly dportHi: Int32Array;
  /** `words` int32 per rule: network and mask of src and dst. */
  readonly srcNet: Int32Array;
  readonly srcMask: Int32Array;
  readonly dstNet: Int32Array;
  readonly dstMask: Int32Array;
  readonly results: RuleMatch[];

  constructor(rules: readonly Rule[], results: readonly RuleMatch[], family: 4 | 6) {
    const n = rules.length;
    const words = family === 4 ? 1 : 4;
    const protoOf = family === 4 ? PROTO_V4 : PROTO_V6;
    this.count = n;
    this.proto = new Int32Array(n);
    this.vlan = new Int32Array(n);
    this.sportLo = new Int32Array(n);
    this.sportHi = new Int32Array(n);
    this.dportLo = new Int32Array(n);
    this.dportHi = new Int32Array(n);
    this.srcNet = new Int32Array(n * words);
    this.srcMask = new Int32Array(n * words);
    this.dstNet = new Int32Array(n * words);
    this.dstMask = new Int32Array(n * words);
    this.results = [...results];
    const putCidr = (c: Cidr | null, net: Int32Array, mask: Int32Array, at: number): void => {
      if (!c) return; // zeros: matches every address
      for (let w = 0; w < words; w++) {
        const m = maskWord(c.prefixLen, w);
        mask[at + w] = m;
        net[at + w] = addrWord(c.addr, w * 4) & m;
      }
    };
    rules.forEach((r, i) => {
      this.proto[i] = protoOf[r.proto];
      this.vlan[i] = r.vlan ?? ANY;
      this.sportLo[i] = r.srcPort ? r.srcPort.lo : NO_PORT;
      this.sportHi[i] = r.srcPort ? r.srcPort.hi : 65535;
      this.dportLo[i] = r.dstPort ? r.dstPort.lo : NO_PORT;
      this.dportHi[i] = r.dstPort ? r.dstPort.hi : 65535;
      putCidr(r.src, this.srcNet, this.srcMask, i * words);
      putCidr(r.dst, this.dstNet, this.dstMask, i * words);
    });
  }
}

/** Rules that can match a packet of this family: no CIDR, or CIDRs of this family only. */
function rulesOfFamily(rules: readonly Rule[], results: readonly RuleMatch[], family: 4 | 6): FamilyTable {
  const keep: Rule[] = [];
  const keptResults: RuleMatch[] = [];
  rules.forEach((r, i) => {
    if (r.src && r.src.version !== family) return;
    if (r.dst && r.dst.version !== family) return;
    keep.push(r);
    keptResults.push(results[i]!);
  });
  return new FamilyTable(keep, keptResults, family);
}

const NON_IP: RuleMatch = Object.freeze({ rule: null, action: 'pass' });
/** A packet the decoder marked `invalid`: dropped before any rule, as the XDP program does. */
const INVALID: RuleMatch = Object.freeze({ rule: null, action: 'drop' });

export class RuleMatcher {
  /** The rules in evaluation order (priority, then id). */
  readonly rules: Rule[];
  readonly defaultPolicy: RuleSet['defaultPolicy'];
  private readonly v4: FamilyTable;
  private readonly v6: FamilyTable;
  private readonly defaultResult: RuleMatch;

  constructor(set: RuleSet) {
    this.rules = sortRules(set.rules);
    this.defaultPolicy = set.defaultPolicy;
    const results = this.rules.map((rule): RuleMatch => Object.freeze({ rule, action: rule.action }));
    this.v4 = rulesOfFamily(this.rules, results, 4);
    this.v6 = rulesOfFamily(this.rules, results, 6);
    this.defaultResult = Object.freeze({ rule: null, action: set.defaultPolicy });
  }

  /**
   * The first matching rule's decision, the default policy, pass for non-IP
   * frames, or drop for `invalid` packets. The result is shared: do not mutate it.
   */
  match(pkt: DecodedPacket): RuleMatch {
    const version = pkt.ipVersion;
    if (version === 0) return NON_IP;
    if (pkt.invalid !== null) return INVALID;
    const proto = pkt.proto;
    const hasPorts = (proto === 6 || proto === 17) && pkt.l4Offset >= 0;
    const sport = hasPorts ? pkt.srcPort : NO_PORT;
    const dport = hasPorts ? pkt.dstPort : NO_PORT;
    const vlan = pkt.vlans.length > 0 ? pkt.vlans[0]! : -2; // -2: untagged, equal to no rule's vlan
    // Addresses are read in place: no view is made per match.
    const data = pkt.data;
    const src = srcAddrOffset(pkt), dst = dstAddrOffset(pkt);
    return version === 4
      ? this.match4(addrWord(data, src), addrWord(data, dst), proto, sport, dport, vlan)
      : this.match6(data, src, dst, proto, sport, dport, vlan);
  }

  /**
   * The decision for a flow's addresses (4 or 16 bytes each, of one family),
   * protocol, ports (used for TCP and UDP only) and outermost VLAN id (null:
   * untagged), as for a packet that carries them.
   */
  matchTuple(src: Uint8Array, dst: Uint8Array, proto: number, sport: number, dport: number, vlan: number | null): RuleMatch {
    const hasPorts = proto === 6 || proto === 17;
    const sp = hasPorts ? sport : NO_PORT;
    const dp = hasPorts ? dport : NO_PORT;
    const v = vlan ?? -2;
    if (src.length === 4 && dst.length === 4) return this.match4(addrWord(src, 0), addrWord(dst, 0), proto, sp, dp, v);
    if (src.length === 16 && dst.length === 16) {
      const both = new Uint8Array(32);
      both.set(src, 0);
      both.set(dst, 16);
      return this.match6(both, 0, 16, proto, sp, dp, v);
    }
    return NON_IP;
  }

  private match4(s: number, d: number, proto: number, sport: number, dport: number, vlan: number): RuleMatch {
    const t = this.v4;
    const { proto: rp, vlan: rv, sportLo, sportHi, dportLo, dportHi, srcNet, srcMask, dstNet, dstMask } = t;
    for (let i = 0; i < t.count; i++) {
      const p = rp[i]!;
      if (p !== ANY && p !== proto) continue;
      const v = rv[i]!;
      if (v !== ANY && v !== vlan) continue;
      if (sport < sportLo[i]! || sport > sportHi[i]! || dport < dportLo[i]! || dport > dportHi[i]!) continue;
      if ((s & srcMask[i]!) !== srcNet[i]! || (d & dstMask[i]!) !== dstNet[i]!) continue;
      return t.results[i]!;
    }
    return this.defaultResult;
  }

  /** `src` and `dst`: where the 16-byte addresses start in `data`. */
  private match6(data: Uint8Array, src: number, dst: number, proto: number, sport: number, dport: number, vlan: number): RuleMatch {
    const s0 = addrWord(data, src), s1 = addrWord(data, src + 4), s2 = addrWord(data, src + 8), s3 = addrWord(data, src + 12);
    const d0 = addrWord(data, dst), d1 = addrWord(data, dst + 4), d2 = addrWord(data, dst + 8), d3 = addrWord(data, dst + 12);
    const t = this.v6;
    const { proto: rp, vlan: rv, sportLo, sportHi, dportLo, dportHi, srcNet, srcMask, dstNet, dstMask } = t;
    for (let i = 0; i < t.count; i++) {
      const p = rp[i]!;
      if (p !== ANY && p !== proto) continue;
      const v = rv[i]!;
      if (v !== ANY && v !== vlan) continue;
      if (sport < sportLo[i]! || sport > sportHi[i]! || dport < dportLo[i]! || dport > dportHi[i]!) continue;
      const w = i << 2;
      if ((s0 & srcMask[w]!) !== srcNet[w]! || (s1 & srcMask[w + 1]!) !== srcNet[w + 1]!
        || (s2 & srcMask[w + 2]!) !== srcNet[w + 2]! || (s3 & srcMask[w + 3]!) !== srcNet[w + 3]!) continue;
      if ((d0 & dstMask[w]!) !== dstNet[w]! || (d1 & dstMask[w + 1]!) !== dstNet[w + 1]!
        || (d2 & dstMask[w + 2]!) !== dstNet[w + 2]! || (d3 & dstMask[w + 3]!) !== dstNet[w + 3]!) continue;
      return t.results[i]!;
    }
    return this.defaultResult;
  }
}
