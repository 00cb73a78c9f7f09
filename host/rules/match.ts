// First-match rule evaluation, exactly as docs/rules.md defines it. The rules
// are compiled once into flat numeric fields so the per-packet loop only does
// integer compares and never allocates: results are preallocated per rule.
import type { DecodedPacket } from '../packet/types.js';
import type { Cidr, Rule, RuleMatch, RuleSet } from './types.js';

const ANY = -1;
const PROTO_V4: Record<Rule['proto'], number> = { tcp: 6, udp: 17, icmp: 1, any: ANY };
const PROTO_V6: Record<Rule['proto'], number> = { tcp: 6, udp: 17, icmp: 58, any: ANY };

/** Sorted copy: priority ascending, then id ascending. */
export function sortRules(rules: readonly Rule[]): Rule[] {
  return [...rules].sort((a, b) => a.priority - b.priority || a.id - b.id);
}

// A CIDR as four 32-bit words and masks (IPv4 uses word 0 only).
interface CompiledCidr {
  w0: number; w1: number; w2: number; w3: number;
  m0: number; m1: number; m2: number; m3: number;
}

interface CompiledRule {
  /** 0 = either family, else 4 or 6 (from the CIDRs). */
  family: number;
  hasSrc: boolean;
  hasDst: boolean;
  src: CompiledCidr;
  dst: CompiledCidr;
  protoV4: number;
  protoV6: number;
  needsPorts: boolean;
  sportLo: number; sportHi: number;
  dportLo: number; dportHi: number;
  vlan: number;
  result: RuleMatch;
}

function word(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}

function maskWord(prefixLen: number, wordIndex: number): number {
  const bits = Math.max(0, Math.min(32, prefixLen - wordIndex * 32));
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

const NO_CIDR: CompiledCidr = { w0: 0, w1: 0, w2: 0, w3: 0, m0: 0, m1: 0, m2: 0, m3: 0 };

function compileCidr(c: Cidr | null): CompiledCidr {
  if (!c) return NO_CIDR;
  const words = c.version === 4 ? 1 : 4;
  const w = [0, 0, 0, 0];
  const m = [0, 0, 0, 0];
  for (let i = 0; i < words; i++) {
    m[i] = maskWord(c.prefixLen, i);
    w[i] = (word(c.addr, i * 4) & m[i]!) >>> 0;
  }
  return { w0: w[0]!, w1: w[1]!, w2: w[2]!, w3: w[3]!, m0: m[0]!, m1: m[1]!, m2: m[2]!, m3: m[3]! };
}

function compileRule(rule: Rule): CompiledRule {
  const needsPorts = rule.srcPort !== null || rule.dstPort !== null;
  return {
    family: rule.src?.version ?? rule.dst?.version ?? 0,
    hasSrc: rule.src !== null,
    hasDst: rule.dst !== null,
    src: compileCidr(rule.src),
    dst: compileCidr(rule.dst),
    protoV4: PROTO_V4[rule.proto],
    protoV6: PROTO_V6[rule.proto],
    needsPorts,
    sportLo: rule.srcPort?.lo ?? 0, sportHi: rule.srcPort?.hi ?? 65535,
    dportLo: rule.dstPort?.lo ?? 0, dportHi: rule.dstPort?.hi ?? 65535,
    vlan: rule.vlan ?? ANY,
    result: Object.freeze({ rule, action: rule.action }),
  };
}

function v4In(c: CompiledCidr, a: number): boolean {
  return ((a & c.m0) >>> 0) === c.w0;
}

function v6In(c: CompiledCidr, a0: number, a1: number, a2: number, a3: number): boolean {
  return ((a0 & c.m0) >>> 0) === c.w0 && ((a1 & c.m1) >>> 0) === c.w1
    && ((a2 & c.m2) >>> 0) === c.w2 && ((a3 & c.m3) >>> 0) === c.w3;
}

const NON_IP: RuleMatch = Object.freeze({ rule: null, action: 'pass' });

export class RuleMatcher {
  /** The rules in evaluation order (priority, then id). */
  readonly rules: Rule[];
  readonly defaultPolicy: RuleSet['defaultPolicy'];
  private readonly compiled: CompiledRule[];
  private readonly defaultResult: RuleMatch;

  constructor(set: RuleSet) {
    this.rules = sortRules(set.rules);
    this.defaultPolicy = set.defaultPolicy;
    this.compiled = this.rules.map(compileRule);
    this.defaultResult = Object.freeze({ rule: null, action: set.defaultPolicy });
  }

  /** The first matching rule's decision, the default policy, or pass for non-IP frames. The result is shared: do not mutate it. */
  match(pkt: DecodedPacket): RuleMatch {
    const version = pkt.ipVersion;
    if (version === 0) return NON_IP;
    const v6 = version === 6;
    const s = pkt.src;
    const d = pkt.dst;
    const s0 = word(s, 0), d0 = word(d, 0);
    let s1 = 0, s2 = 0, s3 = 0, d1 = 0, d2 = 0, d3 = 0;
    if (v6) {
      s1 = word(s, 4); s2 = word(s, 8); s3 = word(s, 12);
      d1 = word(d, 4); d2 = word(d, 8); d3 = word(d, 12);
    }
    const proto = pkt.proto;
    const hasPorts = (proto === 6 || proto === 17) && pkt.l4Offset >= 0;
    const sport = pkt.srcPort;
    const dport = pkt.dstPort;
    const vlan = pkt.vlans.length > 0 ? pkt.vlans[0]! : ANY;
    const rules = this.compiled;
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i]!;
      if (r.family !== 0 && r.family !== version) continue;
      if (r.vlan !== ANY && r.vlan !== vlan) continue;
      const want = v6 ? r.protoV6 : r.protoV4;
      if (want !== ANY && want !== proto) continue;
      if (r.needsPorts) {
        if (!hasPorts) continue;
        if (sport < r.sportLo || sport > r.sportHi || dport < r.dportLo || dport > r.dportHi) continue;
      }
      if (v6) {
        if (r.hasSrc && !v6In(r.src, s0, s1, s2, s3)) continue;
        if (r.hasDst && !v6In(r.dst, d0, d1, d2, d3)) continue;
      } else {
        if (r.hasSrc && !v4In(r.src, s0)) continue;
        if (r.hasDst && !v4In(r.dst, d0)) continue;
      }
      return r.result;
    }
    return this.defaultResult;
  }
}
