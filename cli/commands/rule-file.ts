// `secuxflow rule import|export`: a rule set kept in a file (in version
// control, say) is applied as one change, the way iptables-restore and
// `nft -f` apply theirs: one kernel swap and one state write, or nothing.
import { shadowedRules } from '../../host/rules/shadow.js';
import type { Command } from 'commander';
import { SecuxflowError } from '../../host/errors.js';
import { sortRules } from '../../host/rules/match.js';
import { readRuleFile, ruleFileFormatOf, ruleSetToFileText, ruleToJson, type RuleFileFormat } from '../../host/rules/parse.js';
import type { Rule, RuleSet } from '../../host/rules/types.js';
import { writeFileAtomic } from '../../host/state/atomic.js';
import { StateStore } from '../../host/state/store.js';
import { action, printJson } from '../action.js';
import { commitRuleChange, neverMatchesWarning, refuseUnknownModule, whereApplied, type RuleChangeResult, type StateDirOption } from './rule.js';
import { refuseStateFileOutputs } from '../../host/state/own-files.js';

export interface ImportRulesOptions extends StateDirOption {
  file?: string;
  /** Add the file's rules to the stored ones instead of replacing them. */
  merge?: boolean;
  /** Validate and report the change without applying or storing it. */
  dryRun?: boolean;
}

export interface RuleSetDiff {
  added: number[];
  removed: number[];
  changed: number[];
  unchanged: number;
}

export interface ImportRulesResult extends Partial<RuleChangeResult> {
  stateDir: string;
  file: string;
  mode: 'replace' | 'merge';
  dryRun: boolean;
  rules: number;
  diff: RuleSetDiff;
  previousPolicy: RuleSet['defaultPolicy'];
  defaultPolicy: RuleSet['defaultPolicy'];
  /** False when the file did not name a default policy, so the stored one was kept. */
  policyFromFile: boolean;
  /** The stored rules already matched the file: nothing was applied or written. */
  upToDate: boolean;
  /** Rules of the new set that can never match, each with the earlier rule that matches all its packets. */
  shadowed: { id: number; by: number }[];
}

export interface ExportRulesOptions extends StateDirOption {
  output?: string;
  format?: string;
}

function sameRule(a: Rule, b: Rule): boolean {
  return JSON.stringify(ruleToJson(a)) === JSON.stringify(ruleToJson(b));
}

export function diffRuleSets(before: readonly Rule[], after: readonly Rule[]): RuleSetDiff {
  const old = new Map(before.map((r) => [r.id, r]));
  const diff: RuleSetDiff = { added: [], removed: [], changed: [], unchanged: 0 };
  const kept = new Set<number>();
  for (const r of after) {
    const o = old.get(r.id);
    if (!o) diff.added.push(r.id);
    else if (sameRule(o, r)) diff.unchanged++;
    else diff.changed.push(r.id);
    kept.add(r.id);
  }
  for (const r of before) if (!kept.has(r.id)) diff.removed.push(r.id);
  return diff;
}

function checkModulesKnown(rules: readonly Rule[], file: string, stateDir: string): void {
  // Counted as the file counts them (rule #N, as the field checks say): under --merge a rule's id may be one assigned, not written.
  rules.forEach((r, i) => {
    for (const name of r.modules) refuseUnknownModule(name, stateDir, `${file}: rule #${i + 1} names module ${JSON.stringify(name)}, which is neither registered nor shipped`);
  });
}

function checkNoClash(incoming: readonly Rule[], stored: readonly Rule[], file: string): void {
  const storedIds = new Set(stored.map((r) => r.id));
  const clash = incoming.filter((r) => storedIds.has(r.id)).map((r) => r.id);
  if (clash.length === 0) return;
  const shown = clash.slice(0, 10).join(', ') + (clash.length > 10 ? ` and ${clash.length - 10} more` : '');
  throw new SecuxflowError('E_RULE_DUPLICATE', `${file}: --merge would give two rules the same id: ${shown} already stored`,
    'leave "id" out in the file to have new ids assigned, or import without --merge to replace the stored rules');
}

/**
 * Applies a rule file as one change: every rule is checked first (fields,
 * ids, module names, kernel capacity), then the kernel swaps to the whole new
 * set at once and the state file is written, or nothing changes.
 */
export async function importRules(opts: ImportRulesOptions): Promise<ImportRulesResult> {
  const file = opts.file;
  if (file === undefined || file === '') throw new SecuxflowError('E_USAGE', 'the rule file is required', 'secuxflow rule import FILE (JSON or YAML, as docs/rules.md describes)');
  const mode = opts.merge ? 'merge' : 'replace';
  const store = new StateStore(opts.stateDir);
  return store.withLock(async () => {
    const previous = store.readRules();
    const { set: fromFile, declaresDefaultPolicy, declaresRules } = readRuleFile(file, mode === 'merge' ? previous.rules : []);
    // Replacing with a file that names no rules would delete every stored one on a file meant to set the policy.
    if (mode === 'replace' && !declaresRules) {
      throw new SecuxflowError('E_RULEFILE', `${file} has no "rules" field: importing it would remove all ${previous.rules.length} stored rule${previous.rules.length === 1 ? '' : 's'}`,
        'to set only the default policy, use secuxflow rule default; to remove every rule, write "rules": [] in the file (or secuxflow rule clear)');
    }
    if (mode === 'merge') checkNoClash(fromFile.rules, previous.rules, file);
    checkModulesKnown(fromFile.rules, file, store.dir);
    const defaultPolicy = declaresDefaultPolicy ? fromFile.defaultPolicy : previous.defaultPolicy;
    const rules = mode === 'merge' ? [...previous.rules, ...fromFile.rules] : fromFile.rules;
    const next: RuleSet = { defaultPolicy, rules };
    const diff = diffRuleSets(previous.rules, rules);
    const upToDate = diff.added.length + diff.changed.length + diff.removed.length === 0 && defaultPolicy === previous.defaultPolicy;
    const result: ImportRulesResult = {
      stateDir: store.dir, file, mode, dryRun: opts.dryRun === true, rules: rules.length,
      diff, previousPolicy: previous.defaultPolicy, defaultPolicy, policyFromFile: declaresDefaultPolicy, upToDate,
      shadowed: shadowedRules(next).map((x) => ({ id: x.rule.id, by: x.by.id })),
    };
    if (opts.dryRun || upToDate) return result;
    return { ...result, ...(await commitRuleChange(store, previous, next)) };
  });
}

/** The stored rules as a rule file, in evaluation order; stdout when no output path is given. */
export function exportRules(opts: ExportRulesOptions): { text: string; stateDir: string; rules: number; output: string | null } {
  const store = new StateStore(opts.stateDir);
  const set = store.readRules();
  let format: RuleFileFormat = 'json';
  if (opts.format !== undefined) {
    if (opts.format !== 'json' && opts.format !== 'yaml') {
      throw new SecuxflowError('E_USAGE', `--format: ${JSON.stringify(opts.format)} is not a rule file format`, 'use --format json or --format yaml');
    }
    format = opts.format;
  } else if (opts.output !== undefined) {
    format = ruleFileFormatOf(opts.output) ?? 'json';
  }
  const text = ruleSetToFileText({ defaultPolicy: set.defaultPolicy, rules: sortRules(set.rules) }, format);
  const output = opts.output ?? null;
  if (output !== null) {
    if (output === '') throw new SecuxflowError('E_USAGE', '--output needs a file name', 'leave it out to write the rules to stdout');
    refuseStateFileOutputs(store.dir, [{ flag: '--output', path: output }]);
    try {
      writeFileAtomic(output, text);
    } catch (e) {
      // writeFileAtomic says "cannot write PATH: CODE", worded for the state directory.
      throw new SecuxflowError('E_IO', `--output: ${e instanceof Error ? e.message : String(e)}`, 'give a writable file path (its directory must exist)');
    }
  }
  return { text, stateDir: store.dir, rules: set.rules.length, output };
}

function idList(ids: number[]): string {
  return ids.length <= 8 ? ids.join(', ') : `${ids.slice(0, 8).join(', ')} and ${ids.length - 8} more`;
}

export function formatImport(r: ImportRulesResult): string {
  const d = r.diff;
  const parts = [`${d.added.length} added`, `${d.changed.length} changed`, `${d.removed.length} removed`, `${d.unchanged} unchanged`];
  const policy = r.defaultPolicy === r.previousPolicy
    ? `default policy ${r.defaultPolicy}${r.policyFromFile ? '' : ' (kept: the file names none)'}`
    : `default policy ${r.previousPolicy} -> ${r.defaultPolicy}`;
  const lines = [`${r.dryRun ? 'would import' : 'imported'} ${r.file} (${r.mode}): ${r.rules} rule${r.rules === 1 ? '' : 's'}, ${parts.join(', ')}; ${policy}`];
  if (d.added.length) lines.push(`  added: ${idList(d.added)}`);
  if (d.changed.length) lines.push(`  changed: ${idList(d.changed)}`);
  if (d.removed.length) lines.push(`  removed: ${idList(d.removed)}`);
  for (const x of r.shadowed) lines.push(`  ${neverMatchesWarning(x.id, x.by)}`);
  if (r.dryRun) lines.push('  dry run: nothing was applied or stored');
  else if (r.upToDate) lines.push('  nothing to change: the stored rules already match the file');
  else lines.push(`  ${whereApplied(r as ImportRulesResult & RuleChangeResult)}`);
  return `${lines.join('\n')}\n`;
}

export function registerRuleFile(rule: Command): void {
  rule.command('import')
    .description('apply a JSON or YAML rule file as one change (replaces the stored rules; --merge adds to them)')
    .argument('<file>', 'rule file, as `secuxflow rule export` writes and `inspect --rules` reads')
    .option('--merge', 'add the file\'s rules to the stored ones (ids must not clash) instead of replacing them')
    .option('--dry-run', 'check the file and show what would change, without applying or storing anything')
    .option('--json', 'print the result as JSON')
    .option('--state-dir <dir>', 'state directory (default $SECUXFLOW_STATE_DIR or /var/lib/secuxflow)')
    .action(action('rule import', async (file: string, opts: ImportRulesOptions & { json?: boolean }) => {
      const r = await importRules({ ...opts, file });
      if (!opts.json) {
        process.stdout.write(formatImport(r));
        return;
      }
      printJson({
        file: r.file, mode: r.mode, dry_run: r.dryRun, rules: r.rules, added: r.diff.added, changed: r.diff.changed, removed: r.diff.removed,
        unchanged: r.diff.unchanged, up_to_date: r.upToDate, default_policy: r.defaultPolicy, previous_default_policy: r.previousPolicy,
        applied_to: r.appliedTo ?? [], flows_blocked: r.flowsBlocked ?? 0, flows_restored: r.flowsRestored ?? 0, state_dir: r.stateDir,
      });
    }));

  rule.command('export')
    .description('write the stored rules as a rule file that `rule import` and `inspect --rules` read')
    .option('--output <file>', 'write to this file (atomically) instead of stdout; .yaml/.yml gives YAML')
    .option('--format <format>', 'json or yaml (default: from --output, else json)')
    .option('--state-dir <dir>', 'state directory (default $SECUXFLOW_STATE_DIR or /var/lib/secuxflow)')
    .action(action('rule export', async (opts: ExportRulesOptions) => {
      const r = exportRules(opts);
      if (r.output === null) process.stdout.write(r.text);
      else process.stdout.write(`exported ${r.rules} rule${r.rules === 1 ? '' : 's'} to ${r.output}\n`);
    }));
}
