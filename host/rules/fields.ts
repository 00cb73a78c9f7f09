// One validator per rule field. Each takes a `label` that names the field the
// way the user wrote it (`rules.yaml: rule #3 (id 12): field "dst_port"` for a
// file, `--port` on the CLI), so every error points at what to fix.
import { SecuxflowError } from '../errors.js';
import type { RuleAction } from '../verdict.js';
import { parseCidr } from './cidr.js';
import { RULE_ACTIONS, RULE_PROTOS, type Cidr, type PortRange, type Rule, type RuleProto } from './types.js';

export const MAX_RULE_ID = 2147483647;
export const MAX_PRIORITY = 65535;
export const DEFAULT_PRIORITY = 1000;
export const MAX_VLAN = 4095;
export const MAX_COMMENT = 256;
export const MODULE_NAME_RE = /^[a-z][a-z0-9_-]*$/;

export function invalid(label: string, message: string, hint?: string): SecuxflowError {
  return new SecuxflowError('E_RULE_INVALID', `${label}: ${message}`, hint);
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value); // JSON would say null
  if (value === undefined) return 'nothing';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** An integer in lo..hi given as a number or as decimal digits; anything else is an error. */
export function parseIntField(value: unknown, label: string, lo: number, hi: number, what: string): number {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && /^[0-9]{1,10}$/.test(value)) n = Number(value);
  else throw invalid(label, `${show(value)} is not ${what} (use an integer ${lo}-${hi})`);
  if (!Number.isInteger(n) || n < lo || n > hi) throw invalid(label, `${show(value)} is not ${what} (use an integer ${lo}-${hi})`);
  return n;
}

export function parseRuleId(value: unknown, label: string): number {
  return parseIntField(value, label, 1, MAX_RULE_ID, 'a rule id');
}

export function parsePriority(value: unknown, label: string): number {
  return parseIntField(value, label, 0, MAX_PRIORITY, 'a priority');
}

export function parseVlan(value: unknown, label: string): number {
  return parseIntField(value, label, 0, MAX_VLAN, 'a VLAN id');
}

const PORT_HINT = '(use 0-65535 or LO-HI)';

function portNumber(text: string): number | null {
  if (!/^[0-9]{1,5}$/.test(text)) return null;
  const n = Number(text);
  return n <= 65535 ? n : null;
}

/** "80", 80 or "1024-65535" (inclusive); a reversed range is an error, not swapped silently. */
export function parsePortRange(text: string | number, field: string): PortRange {
  if (typeof text === 'number') {
    if (Number.isInteger(text) && text >= 0 && text <= 65535) return { lo: text, hi: text };
    throw invalid(field, `${show(text)} is not a port or range ${PORT_HINT}`);
  }
  if (typeof text !== 'string') throw invalid(field, `${show(text)} is not a port or range ${PORT_HINT}`);
  const dash = text.indexOf('-');
  if (dash < 0) {
    const port = portNumber(text);
    if (port === null) throw invalid(field, `${show(text)} is not a port or range ${PORT_HINT}`, otherToolsPortHint(text));
    return { lo: port, hi: port };
  }
  const lo = portNumber(text.slice(0, dash));
  const hi = portNumber(text.slice(dash + 1));
  if (lo === null || hi === null) throw invalid(field, `${show(text)} is not a port or range ${PORT_HINT}`, otherToolsPortHint(text));
  if (lo > hi) throw invalid(field, `${show(text)} is a reversed range (LO must not exceed HI: did you mean "${hi}-${lo}"?)`);
  return { lo, hi };
}

/**
 * What ports written as Snort, Suricata or iptables write them mean here:
 * ranges LO:HI, lists [80,443], negations !22 and "any" are none of them a
 * secuxflow port, and each has a way to say it.
 */
function otherToolsPortHint(text: string): string | undefined {
  const t = text.trim();
  const colon = /^(\d{1,5})?:(\d{1,5})?$/.exec(t);
  if (colon && (colon[1] !== undefined || colon[2] !== undefined)) return `a range is written LO-HI here: "${colon[1] ?? '0'}-${colon[2] ?? '65535'}"`;
  if (/[,[\]]/.test(t)) return 'a rule takes one port or range: add a rule for each';
  if (t.startsWith('!')) return 'a rule cannot exclude a port: give the excluded port a rule of its own with a lower priority, which is evaluated first';
  if (/^any$/i.test(t)) return 'leave the port out (null in a rule file) to match any port';
  return undefined;
}

export function portRangeToText(r: PortRange): string {
  return r.lo === r.hi ? String(r.lo) : `${r.lo}-${r.hi}`;
}

export function parseRuleCidr(value: unknown, label: string): Cidr {
  if (typeof value !== 'string') throw invalid(label, `${show(value)} is not a CIDR (expected text such as "198.18.0.0/15")`);
  try {
    return parseCidr(value);
  } catch (e) {
    if (e instanceof SecuxflowError) throw invalid(label, e.message, e.hint);
    throw e;
  }
}

// Words other firewalls use, so the error can say which of ours is meant.
const SYNONYMS: Record<string, string> = {
  allow: 'pass', accept: 'pass', permit: 'pass', deny: 'drop', block: 'drop', reject: 'drop',
  icmpv6: 'icmp', 'ipv6-icmp': 'icmp', all: 'any', ip: 'any', '*': 'any',
};

function parseChoice<T extends string>(value: unknown, label: string, choices: readonly T[], what: string): T {
  let guess: string | undefined;
  if (typeof value === 'string') {
    const lower = value.toLowerCase();
    const found = choices.find((c) => c === lower);
    if (found !== undefined) return found;
    guess = choices.find((c) => c === SYNONYMS[lower]);
  }
  throw invalid(label, `${show(value)} is not ${what} (use ${choices.join(', ')})${guess ? `; did you mean "${guess}"?` : ''}`);
}

export function parseProto(value: unknown, label: string): RuleProto {
  return parseChoice(value, label, RULE_PROTOS, 'a protocol');
}

export function parseAction(value: unknown, label: string): RuleAction {
  return parseChoice(value, label, RULE_ACTIONS, 'an action');
}

export function parseModuleName(value: unknown, label: string): string {
  if (typeof value !== 'string' || !MODULE_NAME_RE.test(value)) {
    throw invalid(label, `${show(value)} is not a module name (lower-case letters, digits, '_' and '-', starting with a letter)`);
  }
  return value;
}

export function parseModules(value: unknown, label: string): string[] {
  if (!Array.isArray(value)) throw invalid(label, `${show(value)} is not a list of module names`);
  const names: string[] = [];
  for (let i = 0; i < value.length; i++) {
    const name = parseModuleName(value[i], `${label} entry #${i + 1}`);
    if (names.includes(name)) throw invalid(label, `module ${show(name)} is listed twice`);
    names.push(name);
  }
  return names;
}

export function parseComment(value: unknown, label: string): string {
  if (typeof value !== 'string') throw invalid(label, `${show(value)} is not text`);
  const length = [...value].length;
  if (length > MAX_COMMENT) throw invalid(label, `is ${length} characters long (at most ${MAX_COMMENT})`);
  // Control characters, line separators and invisible format characters (a
  // right-to-left override can make `rule list` show text that is not there)
  // would break or disguise the one-line-per-rule table.
  const bad = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.exec(value);
  if (bad) {
    const cp = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    throw invalid(label, `contains U+${cp}, a control or invisible formatting character`, 'use plain text on one line');
  }
  return value;
}

/** How the cross-field checks name each field: file field names or CLI flags. */
export interface FieldLabels {
  src: string;
  dst: string;
  srcPort: string;
  dstPort: string;
  proto: string;
  action: string;
  modules: string;
}

export const FILE_FIELD_LABELS: FieldLabels = {
  src: 'field "src"', dst: 'field "dst"', srcPort: 'field "src_port"', dstPort: 'field "dst_port"',
  proto: 'field "proto"', action: 'field "action"', modules: 'field "modules"',
};

/** Checks that need two fields at once; `where` prefixes the message ("" for the CLI). */
export function checkRuleConsistency(rule: Rule, where: string, names: FieldLabels): void {
  const at = (s: string): string => (where ? `${where}: ${s}` : s);
  if (rule.src && rule.dst && rule.src.version !== rule.dst.version) {
    throw new SecuxflowError('E_RULE_INVALID',
      at(`${names.src} ${show(rule.src.text)} is IPv${rule.src.version} but ${names.dst} ${show(rule.dst.text)} is IPv${rule.dst.version}; such a rule could never match`),
      'use two rules, one per address family');
  }
  if ((rule.srcPort || rule.dstPort) && rule.proto === 'icmp') {
    throw new SecuxflowError('E_RULE_INVALID',
      at(`${rule.dstPort ? names.dstPort : names.srcPort} is set but ${names.proto} is "icmp", which has no ports`),
      'use proto tcp, udp or any with ports, or drop the port');
  }
  if (rule.modules.length > 0 && rule.action !== 'inspect') {
    throw new SecuxflowError('E_RULE_INVALID',
      at(`${names.modules} ${show(rule.modules)} is only allowed with ${names.action} "inspect" (the action is "${rule.action}")`),
      'set the action to inspect, or remove the modules');
  }
}
