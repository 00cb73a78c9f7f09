// Rule documents (JSON/YAML files, the state file) -> validated Rule objects,
// and back. Field spellings are fixed by docs/rules.md.
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseAllDocuments, parseDocument, stringify as stringifyYaml, YAMLError } from 'yaml';
import { SecuxflowError } from '../errors.js';
import {
  checkRuleConsistency, DEFAULT_PRIORITY, FILE_FIELD_LABELS, invalid, MAX_RULE_ID, parseAction, parseComment,
  parseModules, parsePortRange, parsePriority, parseProto, parseRuleCidr, parseRuleId, parseVlan, portRangeToText,
} from './fields.js';
import { suggestName } from './suggest.js';
import { STATE_FILE_VERSION } from '../state/version.js';
import type { Rule, RuleSet } from './types.js';

export { parsePortRange } from './fields.js';

export const RULE_FIELDS = [
  'id', 'priority', 'src', 'dst', 'src_port', 'dst_port', 'proto', 'action', 'modules', 'vlan', 'comment',
] as const;
const RULE_SET_FIELDS = ['default_policy', 'rules'] as const;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function rejectUnknownFields(obj: Record<string, unknown>, known: readonly string[], where: string, what: string): void {
  for (const key of Object.keys(obj)) {
    if (known.includes(key)) continue;
    const guess = suggestName(key, known);
    throw new SecuxflowError('E_RULE_INVALID',
      `${where}: unknown ${what} ${JSON.stringify(key)}${guess ? ` (did you mean ${JSON.stringify(guess)}?)` : ''}`,
      `known fields: ${known.join(', ')}`);
  }
}

/**
 * Validates one rule as written in a file or JSON. A missing `id` comes back
 * as 0, meaning "not assigned yet": validateRuleSet and the CLI assign it.
 */
export function validateRule(input: unknown, where: string): Rule {
  if (!isPlainObject(input)) {
    throw new SecuxflowError('E_RULE_INVALID', `${where}: expected a rule (an object with fields such as "action"), got ${JSON.stringify(input) ?? String(input)}`);
  }
  rejectUnknownFields(input, RULE_FIELDS, where, 'field');
  const label = (f: string): string => `${where}: field "${f}"`;
  const given = (f: string): boolean => input[f] !== undefined && input[f] !== null;
  if (!given('action')) throw invalid(label('action'), 'is required (use pass, drop or inspect)');
  const rule: Rule = {
    id: given('id') ? parseRuleId(input.id, label('id')) : 0,
    priority: given('priority') ? parsePriority(input.priority, label('priority')) : DEFAULT_PRIORITY,
    src: given('src') ? parseRuleCidr(input.src, label('src')) : null,
    dst: given('dst') ? parseRuleCidr(input.dst, label('dst')) : null,
    srcPort: given('src_port') ? parsePortRange(input.src_port as string | number, label('src_port')) : null,
    dstPort: given('dst_port') ? parsePortRange(input.dst_port as string | number, label('dst_port')) : null,
    proto: given('proto') ? parseProto(input.proto, label('proto')) : 'any',
    action: parseAction(input.action, label('action')),
    modules: given('modules') ? parseModules(input.modules, label('modules')) : [],
    vlan: given('vlan') ? parseVlan(input.vlan, label('vlan')) : null,
    comment: given('comment') ? parseComment(input.comment, label('comment')) : '',
  };
  checkRuleConsistency(rule, where, FILE_FIELD_LABELS);
  return rule;
}

/** The line (1-based) where rule #index starts in its file, when known. */
export type RuleLineLocator = (index: number) => number | undefined;

function ruleWhere(source: string, index: number, raw: unknown, lineOf?: RuleLineLocator): string {
  const id = isPlainObject(raw) ? raw.id : undefined;
  const idText = typeof id === 'number' || typeof id === 'string' ? ` (id ${String(id)})` : '';
  const line = lineOf?.(index);
  return `${source}${line !== undefined ? `:${line}` : ''}: rule #${index + 1}${idText}`;
}

/** The id a new rule gets: one above the largest, or 1 for an empty set. */
export function nextRuleId(rules: readonly Pick<Rule, 'id'>[]): number {
  let max = 0;
  for (const r of rules) if (r.id > max) max = r.id;
  if (max < MAX_RULE_ID) return max + 1;
  // The top id is taken (someone chose it): the lowest free one, as there are far fewer rules than ids.
  const taken = new Set(rules.map((r) => r.id));
  let id = 1;
  while (taken.has(id)) id++;
  return id;
}

/**
 * `{ default_policy?, rules: [...] }` or a bare array of rules. Rules without
 * an id get the next ids above every id in the document and in `taken` (the
 * rules they will join, when merged into a stored set).
 */
export function validateRuleSet(input: unknown, source: string, lineOf?: RuleLineLocator, taken: readonly Pick<Rule, 'id'>[] = []): RuleSet {
  let rawRules: unknown;
  let defaultPolicy: RuleSet['defaultPolicy'] = 'pass';
  if (Array.isArray(input)) {
    rawRules = input;
  } else if (isPlainObject(input)) {
    rejectUnknownFields(input, RULE_SET_FIELDS, source, 'top-level field');
    if (input.default_policy !== undefined && input.default_policy !== null) {
      defaultPolicy = parseAction(input.default_policy, `${source}: field "default_policy"`);
    }
    rawRules = input.rules ?? [];
    if (!Array.isArray(rawRules)) {
      throw new SecuxflowError('E_RULE_INVALID', `${source}: field "rules" must be a list of rules, got ${JSON.stringify(rawRules)}`);
    }
  } else {
    throw new SecuxflowError('E_RULE_INVALID',
      `${source}: expected a list of rules or an object with "rules", got ${input === null || input === undefined ? 'an empty document' : JSON.stringify(input)}`);
  }
  const list = rawRules as unknown[];
  const rules = list.map((raw, i) => validateRule(raw, ruleWhere(source, i, raw, lineOf)));
  const seenAt = new Map<number, number>();
  rules.forEach((r, i) => {
    if (r.id === 0) return;
    const first = seenAt.get(r.id);
    if (first !== undefined) {
      const at = (k: number): string => { const line = lineOf?.(k); return `rule #${k + 1}${line !== undefined ? ` (line ${line})` : ''}`; };
      throw new SecuxflowError('E_RULE_DUPLICATE', `${source}: ${at(i)} and ${at(first)} both have id ${r.id}`,
        'give each rule its own id, or leave "id" out to have one assigned');
    }
    seenAt.set(r.id, i);
  });
  let used: Set<number> | null = null;
  let next = 0;
  for (const r of rules) {
    if (r.id !== 0) continue;
    if (used === null) {
      used = new Set([...rules, ...taken].map((x) => x.id));
      next = nextRuleId([...rules, ...taken]);
    }
    // Past the top id, wrap to the lowest free ones (there are far fewer rules than ids).
    while (next > MAX_RULE_ID || used.has(next)) next = next > MAX_RULE_ID ? 1 : next + 1;
    r.id = next;
    used.add(next);
  }
  return { defaultPolicy, rules };
}

/** The file/JSON form of a rule; validateRule(ruleToJson(r)) gives r back. */
export function ruleToJson(rule: Rule): Record<string, unknown> {
  return {
    id: rule.id,
    priority: rule.priority,
    src: rule.src ? rule.src.text : null,
    dst: rule.dst ? rule.dst.text : null,
    src_port: rule.srcPort ? portJson(rule.srcPort) : null,
    dst_port: rule.dstPort ? portJson(rule.dstPort) : null,
    proto: rule.proto,
    action: rule.action,
    modules: [...rule.modules],
    vlan: rule.vlan,
    comment: rule.comment,
  };
}

function portJson(r: { lo: number; hi: number }): number | string {
  return r.lo === r.hi ? r.lo : portRangeToText(r);
}

export function ruleSetToJson(set: RuleSet): { default_policy: string; rules: Record<string, unknown>[] } {
  return { default_policy: set.defaultPolicy, rules: set.rules.map(ruleToJson) };
}

export type RuleFileFormat = 'json' | 'yaml';

function formatOf(path: string, text: string): RuleFileFormat {
  const named = ruleFileFormatOf(path);
  if (named !== null) return named;
  const first = text.trimStart()[0];
  return first === '{' || first === '[' ? 'json' : 'yaml';
}

function lineOfPosition(text: string, pos: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < pos && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) { line++; lineStart = i + 1; }
  }
  return { line, col: pos - lineStart + 1 };
}

function parseJsonText(text: string, path: string): unknown {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const m = /position (\d+)/.exec(msg);
    const where = m ? lineOfPosition(text, Number(m[1])) : lineOfPosition(text, text.length);
    throw new SecuxflowError('E_RULEFILE', `${path}:${where.line}:${where.col}: invalid JSON: ${msg}`,
      'fix the JSON syntax at that line (or use a .yaml file)');
  }
  refuseDuplicateKeys(text, path);
  return doc;
}

/**
 * JSON.parse keeps the last of two equal keys ({"action":"drop","action":"pass"}
 * is a pass rule), where YAML refuses them. JSON is YAML 1.2, so the YAML
 * parser finds them, with their line.
 */
function refuseDuplicateKeys(text: string, path: string): void {
  const dup = parseDocument(text, { uniqueKeys: true }).errors.find((e) => e.code === 'DUPLICATE_KEY');
  if (dup === undefined) return;
  const pos = dup.linePos?.[0];
  const key = pos ? /^\s*"((?:[^"\\]|\\.)*)"/.exec(text.split('\n')[pos.line - 1]?.slice(pos.col - 1) ?? '')?.[1] : undefined;
  throw new SecuxflowError('E_RULEFILE', `${path}:${pos ? `${pos.line}:${pos.col}` : '?'}: invalid JSON: ${key !== undefined ? `key "${key}"` : 'a key'} repeats in one object`,
    'give each field once: with two, which one counts is a guess');
}

/**
 * parseDocument reads the first YAML document only. When that document opens
 * with `---`, it reports no error for the ones after it, so a file of
 * several documents (`---` between groups of rules) lost every rule past the
 * first, and `rule import` then removed them from the stored set. A rule
 * file is one document: any other one with content is refused, at its line.
 * (A trailing `---` or `...` with nothing after it is harmless.)
 */
function refuseMoreDocuments(text: string, path: string): void {
  const docs = parseAllDocuments(text, { logLevel: 'silent' });
  if (!Array.isArray(docs)) return; // no document at all: the first parse saw it
  for (let i = 1; i < docs.length; i++) {
    const extra = docs[i]!;
    if (extra.contents === null || (isScalar(extra.contents) && extra.contents.value === null)) continue;
    const at = lineOfPosition(text, extra.range[0]);
    throw new SecuxflowError('E_RULEFILE',
      `${path}:${at.line}:${at.col}: invalid YAML: another document starts here; a rule file is one YAML document, and the rules of any document after the first would be ignored`,
      'put all the rules in one list (remove the "---" lines between them)');
  }
}

function parseYamlText(text: string, path: string): unknown {
  let value: unknown;
  try {
    // Warnings too (an unknown tag such as !!js/function) are refused: the
    // parser would print them on stderr and go on with a guess.
    const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true, logLevel: 'silent' });
    const problem = doc.errors[0] ?? doc.warnings[0];
    if (problem !== undefined) throw problem;
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    if (e instanceof YAMLError) {
      const pos = e.linePos?.[0];
      const firstLine = (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, '');
      throw new SecuxflowError('E_RULEFILE', `${path}:${pos ? `${pos.line}:${pos.col}` : '?'}: invalid YAML: ${firstLine}`,
        'fix the YAML at that line');
    }
    throw new SecuxflowError('E_RULEFILE', `${path}: invalid YAML: ${e instanceof Error ? e.message : String(e)}`);
  }
  refuseMoreDocuments(text, path);
  return value;
}

const INTEGER_FIELDS = ['id', 'priority', 'src_port', 'dst_port', 'vlan'] as const;

/**
 * docs/rules.md allows only decimal digits in integer fields, but the parsers
 * turn `0x50`, `0o120`, `+80`, `1e2` and `80.0` into plain numbers, and
 * `0120` is 120 here (YAML 1.2) but 80 for YAML 1.1 tools. The parsed value
 * cannot tell how a number was written, so the source text of each number
 * is checked. JSON is YAML 1.2, so this serves both formats.
 */
function refuseNonDecimalNumbers(text: string, path: string): void {
  let doc;
  const counter = new LineCounter();
  try {
    doc = parseDocument(text, { lineCounter: counter, logLevel: 'silent' });
  } catch {
    return; // the format's own parse reports a broken file
  }
  const top = doc.contents;
  const rules = isMap(top) ? top.get('rules', true) : top;
  if (!isSeq(rules)) return;
  rules.items.forEach((item, index) => {
    if (!isMap(item)) return;
    for (const field of INTEGER_FIELDS) {
      let node: unknown = item.get(field, true);
      if (isAlias(node)) node = node.resolve(doc);
      if (!isScalar(node) || typeof node.value !== 'number' || !node.range) continue;
      const written = text.slice(node.range[0], node.range[1]).trim();
      // A negative number in decimal is left to the field's range check, which says what range it takes.
      if (/^-?(0|[1-9][0-9]*)$/.test(written)) continue;
      const n = node.value;
      const at = counter.linePos(node.range[0]);
      const octal = /^0[0-7]+$/.test(written) ? ` (YAML 1.1 tools read ${written} as octal ${parseInt(written, 8)})` : '';
      const fix = Number.isInteger(n) && Number.isFinite(n) ? `write ${n}${octal}` : 'write the number as decimal digits';
      throw new SecuxflowError('E_RULEFILE',
        `${path}:${at.line}:${at.col}: rule #${index + 1}: field "${field}" is written ${written}: a rule file takes integers as decimal digits only, as other tools read other forms differently`,
        fix);
    }
  });
}

/**
 * Maps rule positions to file lines, so validation errors point into the file.
 * JSON is valid YAML, so one locator serves both formats.
 */
function ruleLineLocator(text: string): RuleLineLocator {
  let lines: (number | undefined)[] | null = null;
  return (index) => {
    if (lines === null) {
      lines = [];
      try {
        const counter = new LineCounter();
        const doc = parseDocument(text, { lineCounter: counter });
        const rules = isMap(doc.contents) ? doc.contents.get('rules', true) : doc.contents;
        if (isSeq(rules)) lines = rules.items.map((n) => (n && typeof n === 'object' && 'range' in n && n.range ? counter.linePos(n.range[0]).line : undefined));
      } catch {
        // no line numbers then; the rule position still names it
      }
    }
    return lines[index];
  };
}

/** Reads a JSON or YAML rule file (by extension, else sniffed) and validates it. */
export function loadRuleFile(path: string): RuleSet {
  return readRuleFile(path).set;
}

export interface RuleFileContents {
  set: RuleSet;
  /** False when the file left default_policy out (set.defaultPolicy is then the built-in 'pass'). */
  declaresDefaultPolicy: boolean;
  /** False when the file is an object without "rules" (only a default_policy, say): set.rules is then empty by omission, not by choice. */
  declaresRules: boolean;
}

/** loadRuleFile, also saying whether the file chose a default policy; ids are assigned above `taken`. */
export function readRuleFile(path: string, taken: readonly Pick<Rule, 'id'>[] = []): RuleFileContents {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SecuxflowError('E_RULEFILE', `cannot read rule file ${path}: ${code === 'ENOENT' ? 'no such file' : code ?? String(e)}`,
      code === 'ENOENT' ? 'check the rule file path' : code === 'EISDIR' ? 'give the path of a .json or .yaml rule file, not a directory' : undefined);
  }
  // Editors on some systems save a byte order mark, which JSON.parse refuses.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const doc = withoutStateVersion(formatOf(path, text) === 'json' ? parseJsonText(text, path) : parseYamlText(text, path), path);
  refuseNonDecimalNumbers(text, path);
  const set = validateRuleSet(doc, path, ruleLineLocator(text), taken);
  const declaresDefaultPolicy = isPlainObject(doc) && doc.default_policy !== undefined && doc.default_policy !== null;
  const declaresRules = Array.isArray(doc) || (isPlainObject(doc) && doc.rules !== undefined);
  return { set, declaresDefaultPolicy, declaresRules };
}

/**
 * A copy of a state directory's rules.json (a backup) is a rule file with the
 * state file's "version": read as one, so restoring it is `rule import`.
 */
function withoutStateVersion(doc: unknown, path: string): unknown {
  if (!isPlainObject(doc) || !('version' in doc)) return doc;
  const { version, ...rest } = doc;
  if (version !== STATE_FILE_VERSION) {
    throw new SecuxflowError('E_RULEFILE', `${path}: field "version" is ${JSON.stringify(version)}: a rule file has none, and a copy of a state directory's rules.json has ${STATE_FILE_VERSION}`,
      typeof version === 'number' && version > STATE_FILE_VERSION ? 'a newer secuxflow wrote it: import it with that one' : 'remove the field');
  }
  return rest;
}

/** A rule set as a rule file (JSON, or YAML for .yaml/.yml): what readRuleFile and `inspect --rules` read back. */
export function ruleSetToFileText(set: RuleSet, format: RuleFileFormat): string {
  const doc = ruleSetToJson(set);
  return format === 'yaml' ? stringifyYaml(doc) : `${JSON.stringify(doc, null, 2)}\n`;
}

/** The format a path's extension names, or null when it names none. */
export function ruleFileFormatOf(path: string): RuleFileFormat | null {
  const ext = extname(path).toLowerCase();
  return ext === '.json' ? 'json' : ext === '.yaml' || ext === '.yml' ? 'yaml' : null;
}
