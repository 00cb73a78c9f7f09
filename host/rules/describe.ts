// Short human text for rules, shared by `rule add`/`rule list` and the
// inspect decision path so a rule reads the same everywhere.
import { cidrToText } from './cidr.js';
import { portRangeToText } from './fields.js';
import type { Rule } from './types.js';

export function ruleSrcText(r: Rule): string {
  return r.src ? cidrToText(r.src) : 'any';
}

export function ruleDstText(r: Rule): string {
  return r.dst ? cidrToText(r.dst) : 'any';
}

export function rulePortText(p: Rule['srcPort']): string {
  return p ? portRangeToText(p) : 'any';
}

/** "drop tcp 192.168.1.0/24 -> 10.0.0.5 port 80", fields left out when they match anything. */
export function describeRule(r: Rule): string {
  const parts: string[] = [r.action];
  if (r.action === 'inspect' && r.modules.length > 0) parts.push(`[${r.modules.join(',')}]`);
  parts.push(r.proto);
  if (r.vlan !== null) parts.push(`vlan ${r.vlan}`);
  let from = ruleSrcText(r);
  if (r.srcPort) from += ` sport ${rulePortText(r.srcPort)}`;
  let to = ruleDstText(r);
  if (r.dstPort) to += ` port ${rulePortText(r.dstPort)}`;
  parts.push(`${from} -> ${to}`);
  return parts.join(' ');
}
