// Rules that can never match: an earlier rule (lower priority, then lower id)
// matches every packet they would. The first match decides, so such a rule
// is dead, usually a mistake (a drop added below a broader pass). Firewall
// users expect to be told, as iptables-style linters and ASA do.
import { cidrContains } from './cidr.js';
import type { Cidr, PortRange, Rule, RuleSet } from './types.js';

/** a before b in evaluation order. */
function before(a: Rule, b: Rule): boolean {
  return a.priority < b.priority || (a.priority === b.priority && a.id < b.id);
}

function cidrCovers(outer: Cidr | null, inner: Cidr | null): boolean {
  if (outer === null) return true;
  return inner !== null && inner.version === outer.version && inner.prefixLen >= outer.prefixLen && cidrContains(outer, inner.addr);
}

function portsCover(outer: PortRange | null, inner: PortRange | null): boolean {
  if (outer === null) return true;
  return inner !== null && inner.lo >= outer.lo && inner.hi <= outer.hi;
}

/** Whether every packet `inner` matches, `outer` matches too. */
export function covers(outer: Rule, inner: Rule): boolean {
  return (outer.proto === 'any' || outer.proto === inner.proto)
    && (outer.vlan === null || outer.vlan === inner.vlan)
    && cidrCovers(outer.src, inner.src) && cidrCovers(outer.dst, inner.dst)
    && portsCover(outer.srcPort, inner.srcPort) && portsCover(outer.dstPort, inner.dstPort);
}

/** The first rule of `set` evaluated before `rule` that matches everything it does, or null. */
export function shadowOf(rule: Rule, set: RuleSet): Rule | null {
  let first: Rule | null = null;
  for (const r of set.rules) {
    if (r.id !== rule.id && before(r, rule) && covers(r, rule) && (first === null || before(r, first))) first = r;
  }
  return first;
}

/** Every rule of `set` that can never match, with the rule that hides it. */
export function shadowedRules(set: RuleSet): { rule: Rule; by: Rule }[] {
  const out: { rule: Rule; by: Rule }[] = [];
  for (const r of set.rules) {
    const by = shadowOf(r, set);
    if (by !== null) out.push({ rule: r, by });
  }
  return out;
}
