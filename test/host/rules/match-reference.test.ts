// The fast matcher against a deliberately naive reading of docs/rules.md on
// random rule sets and random packets: the compiled masks, word splits and
// port short-cuts must never change a decision.
import { describe, expect, it } from 'vitest';
import { formatIp } from '../../../host/packet/addr.js';
import { buildPacket, fragmentIp } from '../../../host/packet/build.js';
import { decodePacket } from '../../../host/packet/decode.js';
import { LinkType, type DecodedPacket } from '../../../host/packet/types.js';
import { cidrContains } from '../../../host/rules/cidr.js';
import { RuleMatcher } from '../../../host/rules/match.js';
import { validateRuleSet } from '../../../host/rules/parse.js';
import type { Rule, RuleMatch, RuleSet } from '../../../host/rules/types.js';
import { mulberry32 as rng } from '../../support/random.js';


function referenceMatch(set: RuleSet, p: DecodedPacket): RuleMatch {
  if (p.ipVersion !== 4 && p.ipVersion !== 6) return { rule: null, action: 'pass' };
  if (p.invalid !== null) return { rule: null, action: 'drop' };
  const ordered = [...set.rules].sort((a, b) => (a.priority !== b.priority ? a.priority - b.priority : a.id - b.id));
  const hasPorts = (p.proto === 6 || p.proto === 17) && p.l4Offset >= 0;
  const fits = (r: Rule): boolean => {
    if (r.vlan !== null && (p.vlans.length === 0 || p.vlans[0] !== r.vlan)) return false;
    if (r.src !== null && (r.src.version !== p.ipVersion || !cidrContains(r.src, p.src))) return false;
    if (r.dst !== null && (r.dst.version !== p.ipVersion || !cidrContains(r.dst, p.dst))) return false;
    if (r.proto === 'tcp' && p.proto !== 6) return false;
    if (r.proto === 'udp' && p.proto !== 17) return false;
    if (r.proto === 'icmp' && p.proto !== (p.ipVersion === 4 ? 1 : 58)) return false;
    if (r.srcPort !== null && !(hasPorts && p.srcPort >= r.srcPort.lo && p.srcPort <= r.srcPort.hi)) return false;
    if (r.dstPort !== null && !(hasPorts && p.dstPort >= r.dstPort.lo && p.dstPort <= r.dstPort.hi)) return false;
    return true;
  };
  const hit = ordered.find(fits);
  return hit ? { rule: hit, action: hit.action } : { rule: null, action: set.defaultPolicy };
}

// Addresses come from a small per-seed pool (plus near neighbours), so
// random CIDRs of every length, up to /32 and /128, actually hit and miss.
interface Pool { v4: Uint8Array[]; v6: Uint8Array[] }

function makePool(r: () => number): Pool {
  const addr = (v6: boolean): Uint8Array => {
    const a = new Uint8Array(v6 ? 16 : 4);
    if (v6) a.set([0x20, 0x01, 0x0d, 0xb8]);
    else a.set([198, 18 + (r() < 0.5 ? 0 : 1)]);
    for (let i = v6 ? 4 : 2; i < a.length; i++) a[i] = r() < 0.3 ? 0 : Math.floor(r() * 256);
    return a;
  };
  return { v4: Array.from({ length: 6 }, () => addr(false)), v6: Array.from({ length: 6 }, () => addr(true)) };
}

function randomAddr(r: () => number, pool: Pool, v6: boolean): Uint8Array {
  const a = pick(r, v6 ? pool.v6 : pool.v4).slice();
  // Sometimes flip one bit, so prefixes that end anywhere see a near miss.
  if (r() < 0.4) {
    const bit = Math.floor(r() * a.length * 8);
    a[bit >> 3] = a[bit >> 3]! ^ (0x80 >> (bit & 7));
  }
  return a;
}

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

function randomPort(r: () => number): number {
  return pick(r, [0, 1, 22, 53, 80, 443, 1023, 1024, 8080, 65535, Math.floor(r() * 65536)]);
}

function randomRange(r: () => number): string | number | null {
  if (r() < 0.6) return null;
  const a = randomPort(r), b = randomPort(r);
  return r() < 0.4 ? a : `${Math.min(a, b)}-${Math.max(a, b)}`;
}

function randomCidr(r: () => number, pool: Pool, v6: boolean): string {
  const a = formatIp(randomAddr(r, pool, v6));
  const max = v6 ? 128 : 32;
  const len = r() < 0.3 ? max - Math.floor(r() * 4) : Math.floor(r() * (max + 1));
  return `${a}/${len}`;
}

function randomRule(r: () => number, pool: Pool, id: number): Record<string, unknown> {
  const fam = r();
  const v6 = fam < 0.4;
  const proto = pick(r, ['tcp', 'udp', 'icmp', 'any'] as const);
  const rule: Record<string, unknown> = {
    id,
    priority: pick(r, [0, 10, 10, 100, 1000, 65535]),
    action: pick(r, ['pass', 'drop', 'inspect']),
    proto,
  };
  if (fam < 0.8) {
    if (r() < 0.6) rule.src = randomCidr(r, pool, v6);
    if (r() < 0.6) rule.dst = randomCidr(r, pool, v6);
  }
  if (proto !== 'icmp') {
    rule.src_port = randomRange(r);
    rule.dst_port = randomRange(r);
  }
  if (r() < 0.2) rule.vlan = pick(r, [0, 5, 100, 4095]);
  return rule;
}

function randomPackets(r: () => number, pool: Pool): DecodedPacket[] {
  const v6 = r() < 0.45;
  // Not 47: GRE is a tunnel the decoder opens, and random bytes make a malformed one that fragmentIp refuses.
  const proto = pick(r, ['tcp', 'udp', 'icmp', 50, 132] as const);
  const vlanDraw = r();
  const vlans = vlanDraw < 0.6 ? [] : vlanDraw < 0.85 ? [pick(r, [0, 5, 100, 4095])] : [pick(r, [5, 100]), pick(r, [0, 5, 100])];
  const frame = buildPacket({
    src: formatIp(randomAddr(r, pool, v6)), dst: formatIp(randomAddr(r, pool, v6)), proto,
    srcPort: randomPort(r), dstPort: randomPort(r), vlans, payload: 'x'.repeat(Math.floor(r() * 40)),
  });
  const mode = r();
  if (mode < 0.15) return fragmentIp(frame, pick(r, [8, 16, 24])).map((f) => decodePacket(f, LinkType.ETHERNET));
  if (mode < 0.3) return [decodePacket(frame.subarray(0, Math.floor(r() * frame.length)), LinkType.ETHERNET)];
  if (mode < 0.35) {
    const bad = frame.slice();
    bad[Math.floor(r() * bad.length)] = Math.floor(r() * 256);
    return [decodePacket(bad, LinkType.ETHERNET)];
  }
  return [decodePacket(frame, LinkType.ETHERNET)];
}

describe('RuleMatcher agrees with a naive reading of docs/rules.md', () => {
  it('on 300 random rule sets x 40 random packets', () => {
    let compared = 0;
    let matchedByRule = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const r = rng(seed);
      const pool = makePool(r);
      const count = 1 + Math.floor(r() * 30);
      const set = validateRuleSet({
        default_policy: pick(r, ['pass', 'drop', 'inspect']),
        rules: Array.from({ length: count }, (_, i) => randomRule(r, pool, 1 + Math.floor(r() * 5) * 1000 + i)),
      }, `seed ${seed}`);
      const matcher = new RuleMatcher(set);
      for (let n = 0; n < 40; n++) {
        for (const p of randomPackets(r, pool)) {
          const want = referenceMatch(set, p);
          const got = matcher.match(p);
          if (got.rule?.id !== want.rule?.id || got.action !== want.action) {
            throw new Error(`seed ${seed}: packet ${Buffer.from(p.data).toString('hex')} -> rule ${got.rule?.id ?? '-'} ${got.action}, expected ${want.rule?.id ?? '-'} ${want.action}`);
          }
          compared++;
          if (want.rule) matchedByRule++;
        }
      }
    }
    expect(compared).toBeGreaterThan(12_000);
    // The generator must exercise rule hits, not just the default policy.
    expect(matchedByRule).toBeGreaterThan(compared / 5);
  });
});
