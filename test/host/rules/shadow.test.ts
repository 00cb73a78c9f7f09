// Rules that can never match. The check is held to the matcher itself: over
// random rule sets and random packets, no packet is ever decided by a rule
// the check calls shadowed.
import { describe, expect, it } from 'vitest';
import { RuleMatcher } from '../../../host/rules/match.js';
import { parseCidr } from '../../../host/rules/cidr.js';
import { covers, shadowOf, shadowedRules } from '../../../host/rules/shadow.js';
import type { Rule, RuleProto } from '../../../host/rules/types.js';
import { parseIp } from '../../../host/packet/addr.js';

function rule(id: number, r: Partial<Omit<Rule, 'src' | 'dst'>> & { src?: string; dst?: string } = {}): Rule {
  return {
    id, priority: r.priority ?? 1000, proto: r.proto ?? 'any', action: r.action ?? 'drop', modules: [], vlan: r.vlan ?? null, comment: '',
    src: r.src ? parseCidr(r.src) : null, dst: r.dst ? parseCidr(r.dst) : null, srcPort: r.srcPort ?? null, dstPort: r.dstPort ?? null,
  };
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

describe('shadowed rules', () => {
  it('a broader earlier rule hides a narrower later one; order, family, ports, protocol and VLAN all count', () => {
    const broad = rule(1, { dst: '10.0.0.0/8' });
    expect(covers(broad, rule(2, { dst: '10.1.0.0/16', proto: 'tcp', dstPort: { lo: 22, hi: 22 } }))).toBe(true);
    expect(covers(broad, rule(2, { dst: '2001:db8::/32' }))).toBe(false);
    expect(covers(broad, rule(2))).toBe(false);
    expect(covers(rule(1, { proto: 'tcp' }), rule(2))).toBe(false);
    expect(covers(rule(1, { dstPort: { lo: 1, hi: 1024 } }), rule(2, { dstPort: { lo: 22, hi: 22 } }))).toBe(true);
    expect(covers(rule(1, { dstPort: { lo: 1, hi: 1024 } }), rule(2, { dstPort: { lo: 1000, hi: 2000 } }))).toBe(false);
    // A rule with ports matches only packets with ports: it does not hide a rule without.
    expect(covers(rule(1, { dstPort: { lo: 0, hi: 65535 } }), rule(2, { proto: 'icmp' }))).toBe(false);
    expect(covers(rule(1, { vlan: 10 }), rule(2))).toBe(false);
    expect(covers(rule(1), rule(2, { vlan: 10 }))).toBe(true);
    // Evaluation order: priority, then id.
    const set = { defaultPolicy: 'pass' as const, rules: [rule(5, { dst: '10.1.0.0/16' }), rule(3, { dst: '10.0.0.0/8', priority: 2000 })] };
    expect(shadowOf(set.rules[0]!, set)).toBeNull();
    expect(shadowOf(set.rules[1]!, set)).toBeNull();
    const tie = { defaultPolicy: 'pass' as const, rules: [rule(7, { dst: '10.1.0.0/16' }), rule(4, { dst: '10.0.0.0/8' })] };
    expect(shadowedRules(tie).map((x) => [x.rule.id, x.by.id])).toEqual([[7, 4]]);
  });

  it('no packet is ever decided by a rule called shadowed (random rule sets, the matcher as judge)', () => {
    const r = rng(7);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
    const nets = ['10.0.0.0/8', '10.1.0.0/16', '10.1.2.0/24', '10.1.2.3/32', '10.2.0.0/16', '2001:db8::/32', '2001:db8:1::/48', null];
    const ports = [null, { lo: 22, hi: 22 }, { lo: 1, hi: 1024 }, { lo: 80, hi: 90 }, { lo: 0, hi: 65535 }];
    const protos: RuleProto[] = ['any', 'tcp', 'udp', 'icmp'];
    const hosts = ['10.1.2.3', '10.1.2.9', '10.1.7.7', '10.2.3.4', '10.9.9.9', '192.0.2.1', '2001:db8:1::5', '2001:db8:2::5', '2001:db9::1'];
    let shadowedSeen = 0;
    for (let round = 0; round < 300; round++) {
      const rules = Array.from({ length: 2 + Math.floor(r() * 6) }, (_, i) => {
        const src = pick(nets), dst = pick(nets);
        return rule(i + 1, {
          priority: pick([10, 1000, 1000, 2000]), proto: pick(protos), vlan: pick([null, null, 10]),
          ...(src ? { src } : {}), ...(dst ? { dst } : {}), srcPort: pick([null, null, ...ports]), dstPort: pick(ports),
        });
      });
      const set = { defaultPolicy: 'pass' as const, rules };
      const dead = new Set(shadowedRules(set).map((x) => x.rule.id));
      shadowedSeen += dead.size;
      const m = new RuleMatcher(set);
      for (let p = 0; p < 200; p++) {
        const v6 = r() < 0.3;
        const fam = hosts.filter((h) => h.includes(':') === v6);
        const proto = pick([6, 17, v6 ? 58 : 1, 47]);
        const hit = m.matchTuple(parseIp(pick(fam)), parseIp(pick(fam)), proto, pick([22, 80, 85, 443, 5000]), pick([22, 80, 85, 443, 5000]), pick([null, 10, 20]));
        if (hit.rule !== null) expect(dead.has(hit.rule.id), `rule ${hit.rule.id} was called shadowed yet decided a packet`).toBe(false);
      }
    }
    expect(shadowedSeen).toBeGreaterThan(20);
  });
});
