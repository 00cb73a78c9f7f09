// `secuxflow rule add|list|delete|clear`. Every change runs under the state
// lock as: read state -> build the new set -> validate -> push it to the
// kernel (if attached) -> write the state file; when the write fails the
// kernel gets the old set back, so kernel and state never disagree for long.
import type { Command } from 'commander';
import { shadowOf, shadowedRules } from '../../host/rules/shadow.js';
import { SecuxflowError } from '../../host/errors.js';
import { applyRulesIfAttached, reconcileFlowsWithRuleChange, kernelRulesOutOfStep, readRuleHits, type RuleHits } from '../../host/kernel/apply.js';
import { listAttachments } from '../../host/kernel/attach.js';
import { flowsRestoredLine } from './attach.js';
import { notifyDaemon, requestDaemon } from '../../host/control/client.js';
import { describeRule, rulePortText, ruleDstText, ruleSrcText } from '../../host/rules/describe.js';
import {
  checkRuleConsistency, DEFAULT_PRIORITY, parseAction, parseComment, parseModuleName, parsePortRange,
  parsePriority, parseProto, parseRuleCidr, parseRuleId, parseVlan, type FieldLabels,
} from '../../host/rules/fields.js';
import { sortRules } from '../../host/rules/match.js';
import { nextRuleId, ruleSetToJson, ruleToJson, validateRuleSet } from '../../host/rules/parse.js';
import type { Cidr, Rule, RuleSet } from '../../host/rules/types.js';
import { RULES_FILE, StateStore } from '../../host/state/store.js';
import { moduleNameKnown, unknownModuleHint } from '../../host/modules/resolve.js';
import { action, printJson } from '../action.js';
import { isV4Mapped, parseIp } from '../../host/packet/addr.js';
import { registerRuleFile } from './rule-file.js';

type Scalar = string | number;

export interface StateDirOption {
  /** Overrides $SECUXFLOW_STATE_DIR and /var/lib/secuxflow. */
  stateDir?: string;
}

export interface AddRuleOptions extends StateDirOption {
  src?: string;
  dst?: string;
  /** Destination port or range. */
  port?: Scalar;
  /** Source port or range. */
  sport?: Scalar;
  proto?: string;
  action?: string;
  module?: string[];
  vlan?: Scalar;
  priority?: Scalar;
  id?: Scalar;
  comment?: string;
}

export interface RuleChangeResult {
  stateDir: string;
  /** Interfaces whose kernel maps took the change; empty when nothing is attached. */
  appliedTo: string[];
  /** Whether a running daemon picked the change up for its engine (error: it is stored, the daemon refused or failed). */
  daemon?: { running: boolean; error: string | null };
  /** Interfaces whose maps took the change though no live secuxflow program reads them, and why. */
  notLive?: { iface: string; problem: string }[];
  /** Interfaces whose program passes everything until `run` or `attach` (a daemon stopped fail-open). */
  passAll?: string[];
  /** Flows the kernel had allowed that the new rules drop, now blocked; and interfaces where that failed. */
  flowsBlocked?: number;
  flowsRestored?: number;
  flowsBlockedFailed?: { iface: string; error: string }[];
}

export interface AddRuleResult extends RuleChangeResult {
  rule: Rule;
  /** An earlier rule that matches every packet the new one would: the new one never matches. */
  shadowedBy: Rule | null;
  /** Rules that matched before and now never do: the new one comes first and matches all their packets. */
  hides: Rule[];
}

export interface DeleteRuleResult extends RuleChangeResult {
  deleted: Rule;
}

export interface ClearRulesResult extends RuleChangeResult {
  removed: number;
}

export interface ListedRule {
  rule: Rule;
  /** Null when nothing is attached, so no counter exists. */
  hits: RuleHits | null;
  /** The id of an earlier rule that matches every packet this one would (so it never matches), or null. */
  shadowedBy: number | null;
}

export interface ListRulesResult {
  stateDir: string;
  defaultPolicy: RuleSet['defaultPolicy'];
  attached: boolean;
  rules: ListedRule[];
  /** Attached interfaces whose kernel holds another rule set than the stored one (an interrupted rule command). */
  outOfStep: string[];
}

const CLI_LABELS: FieldLabels = {
  src: '--src', dst: '--dst', srcPort: '--sport', dstPort: '--port', proto: '--proto', action: '--action', modules: '--module',
};

/** Builds and checks the rule from flags; id 0 when --id was not given. */
export function ruleFromOptions(opts: AddRuleOptions): Rule {
  if (opts.action === undefined) {
    throw new SecuxflowError('E_USAGE', '--action is required', 'use --action pass, --action drop or --action inspect');
  }
  const modules: string[] = [];
  for (const name of opts.module ?? []) {
    const checked = parseModuleName(name, '--module');
    if (modules.includes(checked)) throw new SecuxflowError('E_RULE_INVALID', `--module: ${JSON.stringify(checked)} is given twice`);
    modules.push(checked);
  }
  const rule: Rule = {
    id: opts.id !== undefined ? parseRuleId(opts.id, '--id') : 0,
    priority: opts.priority !== undefined ? parsePriority(opts.priority, '--priority') : DEFAULT_PRIORITY,
    src: opts.src !== undefined ? parseRuleCidr(opts.src, '--src') : null,
    dst: opts.dst !== undefined ? parseRuleCidr(opts.dst, '--dst') : null,
    srcPort: opts.sport !== undefined ? parsePortRange(opts.sport, '--sport') : null,
    dstPort: opts.port !== undefined ? parsePortRange(opts.port, '--port') : null,
    proto: parseProto(opts.proto ?? 'any', '--proto'),
    action: parseAction(opts.action, '--action'),
    modules,
    vlan: opts.vlan !== undefined ? parseVlan(opts.vlan, '--vlan') : null,
    comment: opts.comment !== undefined ? parseComment(opts.comment, '--comment') : '',
  };
  checkRuleConsistency(rule, '', CLI_LABELS);
  return rule;
}

/**
 * Pushes `next` to the kernel, then stores it. Called under the state lock.
 * The round trip through validateRuleSet guarantees the file we write reads back.
 */
export async function commitRuleChange(store: StateStore, previous: RuleSet, next: RuleSet): Promise<RuleChangeResult> {
  validateRuleSet(ruleSetToJson(next), 'new rule set');
  await refuseModulesTheDaemonLacks(store, previous, next);
  const applied = await applyRulesIfAttached(store.dir, next);
  try {
    store.writeRules(next);
  } catch (e) {
    if (applied.appliedTo.length > 0) {
      try {
        await applyRulesIfAttached(store.dir, previous);
      } catch (restoreError) {
        const why = restoreError instanceof Error ? restoreError.message : String(restoreError);
        throw new SecuxflowError('E_STATE',
          `${e instanceof Error ? e.message : String(e)}; restoring the previous rules in the kernel also failed: ${why}`,
          'the kernel holds the new rules but the state file the old ones: fix the state directory and re-run the command');
      }
    }
    throw e;
  }
  // Stored: flows already allowed that the new rules drop end now (not before, so a failed write leaves none
  // blocked), and flows an earlier change ended that these rules no longer drop run again.
  const flows = applied.appliedTo.length > 0 ? reconcileFlowsWithRuleChange(store.dir, next) : { flowsBlocked: 0, flowsRestored: 0, failed: [] };
  // The kernel already has the rules; a running daemon's engine must match them.
  const daemon = await notifyDaemon(store.dir, 'rules.reload');
  return {
    stateDir: store.dir, appliedTo: applied.appliedTo, daemon, notLive: notLiveAttachments(store.dir, applied.appliedTo),
    passAll: applied.passAll, flowsBlocked: flows.flowsBlocked, flowsRestored: flows.flowsRestored, flowsBlockedFailed: flows.failed,
  };
}

/** E_MODULE_NOT_FOUND (message: where the name was given) for a module neither registered nor shipped. */
export function refuseUnknownModule(name: string, stateDir: string, message: string): void {
  if (moduleNameKnown(name, stateDir)) return;
  throw new SecuxflowError('E_MODULE_NOT_FOUND', message, unknownModuleHint(name, stateDir));
}

function inspectModules(set: RuleSet): Set<string> {
  return new Set(set.rules.filter((r) => r.action === 'inspect').flatMap((r) => r.modules));
}

/**
 * A running daemon inspects only with the modules it loaded. A rule naming
 * another one would be stored and put in the kernel, then refused by the
 * daemon, leaving the three out of step (and the next start failing), so it
 * is refused first. Only modules the change newly names are checked: a rule
 * set that already names a missing module must still be editable. When the
 * daemon cannot say (no queue running, no reply), the daemon's own answer
 * after the change is reported as before.
 */
async function refuseModulesTheDaemonLacks(store: StateStore, previous: RuleSet, next: RuleSet): Promise<void> {
  const before = inspectModules(previous);
  const added = [...inspectModules(next)].filter((m) => !before.has(m));
  if (added.length === 0) return;
  let listed: unknown;
  try {
    listed = await requestDaemon(store.dir, 'modules.list');
  } catch {
    return;
  }
  if (!Array.isArray(listed) || listed.length === 0) return;
  const loaded = listed.map((m) => (m as { name?: unknown }).name).filter((n): n is string => typeof n === 'string');
  const missing = added.find((m) => !loaded.includes(m));
  if (missing === undefined) return;
  throw new SecuxflowError('E_MODULE_NOT_FOUND', `the running daemon has not loaded module ${missing} (it runs ${loaded.join(', ')}): a rule inspecting with it would be refused`,
    `load it into the daemon first (secuxflow module load FILE --name ${missing}, or list it under modules: in the daemon config and send SIGHUP), then add the rule`);
}

export async function addRule(opts: AddRuleOptions): Promise<AddRuleResult> {
  const candidate = ruleFromOptions(opts);
  const store = new StateStore(opts.stateDir);
  return store.withLock(async () => {
    const previous = store.readRules();
    // Checked under the lock: `module unload` checks the rules under the same lock.
    for (const name of candidate.modules) refuseUnknownModule(name, store.dir, `--module ${name}: no module of that name is registered or shipped`);
    if (candidate.id !== 0 && previous.rules.some((r) => r.id === candidate.id)) {
      throw new SecuxflowError('E_RULE_DUPLICATE', `--id: rule id ${candidate.id} already exists`,
        `choose another id, leave --id out to get one, or remove the old rule first: secuxflow rule delete --id ${candidate.id}`);
    }
    const rule: Rule = { ...candidate, id: candidate.id !== 0 ? candidate.id : nextRuleId(previous.rules) };
    const next: RuleSet = { defaultPolicy: previous.defaultPolicy, rules: [...previous.rules, rule] };
    const result = await commitRuleChange(store, previous, next);
    const hiddenBefore = new Set(shadowedRules(previous).map((x) => x.rule.id));
    const hides = shadowedRules(next).filter((x) => x.by.id === rule.id && !hiddenBefore.has(x.rule.id)).map((x) => x.rule);
    return { ...result, rule, shadowedBy: shadowOf(rule, next), hides };
  });
}

/** The warning `rule list` and `rule import` give for a rule that can never match (`rule add` says more). */
export function neverMatchesWarning(id: number, by: number): string {
  return `warning: rule ${id} never matches: rule ${by} comes first and matches every packet it does`;
}

/** Warnings for rules that can never match, as `rule add` and `rule list` give them. */
export function shadowWarnings(r: Pick<AddRuleResult, 'rule' | 'shadowedBy' | 'hides'>): string {
  let out = '';
  if (r.shadowedBy !== null) {
    const by = r.shadowedBy;
    // At priority 0 nothing sorts before it by priority alone: the earlier rule must move instead.
    const fix = by.priority > 0
      ? `give it a --priority below ${by.priority} (secuxflow rule delete --id ${r.rule.id}, then add it again)`
      : `rule ${by.id} has the lowest priority, 0: give rule ${by.id} a higher one (secuxflow rule delete --id ${by.id}, then add it again with --priority 1 or more)`;
    out += `\n  warning: rule ${r.rule.id} never matches: rule ${by.id} (priority ${by.priority}: ${describeRule(by)}) comes first and matches every packet it does;` +
      ` to have it decide first, ${fix}`;
  }
  for (const h of r.hides) {
    out += `\n  warning: rule ${h.id} (${describeRule(h)}) no longer matches: rule ${r.rule.id} comes first and matches every packet it did`;
  }
  return out;
}

export async function listRules(opts: StateDirOption = {}): Promise<ListRulesResult> {
  const store = new StateStore(opts.stateDir);
  const set = store.readRules();
  const hits = await readRuleHits(store.dir);
  return {
    stateDir: store.dir,
    defaultPolicy: set.defaultPolicy,
    attached: hits.size > 0,
    rules: sortRules(set.rules).map((rule) => ({ rule, hits: hits.get(rule.id) ?? null, shadowedBy: shadowOf(rule, set)?.id ?? null })),
    outOfStep: hits.size > 0 ? kernelRulesOutOfStep(store.dir, set) : [],
  };
}

export async function deleteRule(opts: StateDirOption & { id?: Scalar }): Promise<DeleteRuleResult> {
  if (opts.id === undefined) throw new SecuxflowError('E_USAGE', '--id is required', 'see the ids with: secuxflow rule list');
  const id = parseRuleId(opts.id, '--id');
  const store = new StateStore(opts.stateDir);
  return store.withLock(async () => {
    const previous = store.readRules();
    const deleted = previous.rules.find((r) => r.id === id);
    if (!deleted) {
      throw new SecuxflowError('E_RULE_NOT_FOUND', `--id: no rule has id ${id} (in ${store.path(RULES_FILE)})`, 'see the ids with: secuxflow rule list');
    }
    const next: RuleSet = { defaultPolicy: previous.defaultPolicy, rules: previous.rules.filter((r) => r.id !== id) };
    const result = await commitRuleChange(store, previous, next);
    return { ...result, deleted };
  });
}

export async function clearRules(opts: StateDirOption = {}): Promise<ClearRulesResult> {
  const store = new StateStore(opts.stateDir);
  return store.withLock(async () => {
    const previous = store.readRules();
    const next: RuleSet = { defaultPolicy: previous.defaultPolicy, rules: [] };
    const result = await commitRuleChange(store, previous, next);
    return { ...result, removed: previous.rules.length };
  });
}

export interface DefaultPolicyResult extends RuleChangeResult {
  previous: RuleSet['defaultPolicy'];
  defaultPolicy: RuleSet['defaultPolicy'];
}

/** Sets what packets no rule matches get, in the kernel (every attached interface) and the engine alike. */
export async function setDefaultPolicy(opts: StateDirOption & { policy?: string }): Promise<DefaultPolicyResult> {
  if (opts.policy === undefined) throw new SecuxflowError('E_USAGE', 'the policy is required: pass, drop or inspect');
  const policy = parseAction(opts.policy, 'policy');
  const store = new StateStore(opts.stateDir);
  return store.withLock(async () => {
    const previous = store.readRules();
    const next: RuleSet = { defaultPolicy: policy, rules: previous.rules };
    const result = await commitRuleChange(store, previous, next);
    return { ...result, previous: previous.defaultPolicy, defaultPolicy: policy };
  });
}

/**
 * "applied to A" is only half true when the program on A is no longer ours
 * (another tool replaced it, the interface went away): its maps took the
 * rules, but nothing reads them.
 */
function notLiveAttachments(stateDir: string, appliedTo: string[]): { iface: string; problem: string }[] {
  if (appliedTo.length === 0) return [];
  try {
    return listAttachments(stateDir).filter((a) => !a.live && appliedTo.includes(a.iface)).map((a) => ({ iface: a.iface, problem: a.problem ?? 'not live' }));
  } catch {
    return []; // the change is made; a failed check must not turn it into an error
  }
}

/** Where a change went, as --json gives it for every rule command that changes rules. */
function changeJson(r: RuleChangeResult): Record<string, unknown> {
  return {
    applied_to: r.appliedTo, flows_blocked: r.flowsBlocked ?? 0, flows_restored: r.flowsRestored ?? 0, state_dir: r.stateDir,
    daemon: r.daemon ?? { running: false, error: null },
  };
}

export function whereApplied(r: RuleChangeResult): string {
  let where = r.appliedTo.length > 0
    ? `applied to ${r.appliedTo.join(', ')}${r.daemon?.running && !r.daemon.error ? ' and the running daemon' : ''}`
    : 'not attached: takes effect at the next `secuxflow attach`';
  if (r.flowsBlocked) where += `\n  ${r.flowsBlocked} running flow${r.flowsBlocked === 1 ? '' : 's'} the kernel had allowed and the new rules drop ${r.flowsBlocked === 1 ? 'is' : 'are'} now blocked`;
  if (r.flowsRestored) where += `\n  ${flowsRestoredLine(r.flowsRestored)}`;
  for (const n of r.notLive ?? []) {
    where += `\n  warning: ${n.iface} is not live (${n.problem}): its maps took the change, but no secuxflow program reads them; secuxflow detach --iface ${n.iface}, then attach, puts it back`;
  }
  for (const iface of r.passAll ?? []) {
    where += `\n  warning: ${iface} passes everything (a daemon stopped fail-open left it so): the rules apply from the next \`secuxflow run --iface ${iface}\` or \`secuxflow attach --iface ${iface}\``;
  }
  for (const f of r.flowsBlockedFailed ?? []) {
    where += `\n  warning: could not bring the running flows on ${f.iface} in line with the new rules (${f.error}): allowed flows they drop run until idle, and flows an earlier change blocked stay blocked until idle`;
  }
  if (r.daemon?.error) where += `\n  warning: the running daemon did not take the change: ${r.daemon.error}`;
  return where;
}

function formatTable(rows: string[][]): string {
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => r[col]!.length)));
  return rows.map((r) => r.map((cell, col) => (col === r.length - 1 ? cell : cell.padEnd(widths[col]!))).join('  ').trimEnd()).join('\n');
}

function outOfStepWarning(list: ListRulesResult): string {
  return list.outOfStep.map((iface) => `\nwarning: the kernel on ${iface} holds another rule set than this one (a rule command was interrupted?); `
    + `the next rule change puts the stored rules back, or now: secuxflow attach --iface ${iface}`).join('');
}

export function formatRuleList(list: ListRulesResult): string {
  if (list.rules.length === 0) return `no rules (default policy: ${list.defaultPolicy})${outOfStepWarning(list)}`;
  const header = ['ID', 'PRIO', 'ACTION', 'PROTO', 'SRC', 'SPORT', 'DST', 'DPORT', 'VLAN', 'MODULES', 'HITS', 'COMMENT'];
  const rows = list.rules.map(({ rule: r, hits }) => [
    String(r.id), String(r.priority), r.action, r.proto, ruleSrcText(r), rulePortText(r.srcPort), ruleDstText(r),
    rulePortText(r.dstPort), r.vlan === null ? 'any' : String(r.vlan),
    r.action !== 'inspect' ? '-' : r.modules.length > 0 ? r.modules.join(',') : 'all',
    hits ? String(hits.packets) : '-', r.comment,
  ]);
  const dead = list.rules.map((x) => (x.shadowedBy === null ? '' : `\n${neverMatchesWarning(x.rule.id, x.shadowedBy)}`)).join('');
  return `${formatTable([header, ...rows])}\ndefault policy: ${list.defaultPolicy}${list.attached ? '' : ' (not attached: no hit counters)'}${dead}${outOfStepWarning(list)}`;
}

/** What a CIDR as typed may not do as the user meant; '' when nothing. */
function cidrNote(flag: string, text: string, cidr: Cidr): string {
  if (hostBitsCleared(text, cidr.addr)) return `\n  note: ${flag} ${text} has host bits set; the rule matches the network ${cidr.text}`;
  // ::ffff:a.b.c.d appears inside sockets, not on the wire: IPv4 traffic carries a.b.c.d in an IPv4 header.
  const a = cidr.addr;
  if (cidr.prefixLen >= 96 && isV4Mapped(a)) {
    return `\n  note: ${flag} ${text} is an IPv4-mapped IPv6 address; IPv4 packets carry ${a.subarray(12).join('.')} in an IPv4 header and never match it: write that address for IPv4 traffic`;
  }
  return '';
}

/** Whether the address part of `text` differs from the network it was masked to, as iptables masks 10.0.0.1/24 silently. */
function hostBitsCleared(text: string, network: Uint8Array): boolean {
  try {
    const given = parseIp(text.split('/')[0]!);
    return given.some((b, i) => b !== network[i]);
  } catch {
    return false;
  }
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function registerRule(program: Command): void {
  const rule = program.command('rule').description('manage the rules the XDP program and the engine apply');

  rule.command('add')
    .description('add a rule (example: rule add --src 192.168.1.0/24 --dst 10.0.0.5 --port 80 --proto tcp --action drop)')
    .option('--src <cidr>', 'source CIDR or address (IPv4 or IPv6)')
    .option('--dst <cidr>', 'destination CIDR or address (IPv4 or IPv6)')
    .option('--port <port>', 'destination port or range, e.g. 80 or 1024-65535')
    .option('--sport <port>', 'source port or range')
    .option('--proto <proto>', 'tcp, udp, icmp or any', 'any')
    .option('--action <action>', 'pass, drop or inspect (required)')
    .option('--module <name>', 'module to run for inspect (repeatable; default: every loaded module)', collect, [] as string[])
    .option('--vlan <id>', 'outermost VLAN id 0-4095 the packet must carry')
    .option('--priority <n>', `0-65535, lower is evaluated first (default ${DEFAULT_PRIORITY})`)
    .option('--id <n>', 'rule id 1-2147483647 (default: highest id + 1)')
    .option('--comment <text>', 'free text shown by rule list')
    .option('--state-dir <dir>', 'state directory (default $SECUXFLOW_STATE_DIR or /var/lib/secuxflow)')
    .option('--json', 'print the added rule as JSON')
    .action(action('rule add', async (opts: AddRuleOptions & { json?: boolean }) => {
      const result = await addRule(opts);
      if (opts.json) {
        printJson({ rule: ruleToJson(result.rule), ...changeJson(result), shadowed_by: result.shadowedBy?.id ?? null, hides: result.hides.map((h) => h.id) });
      }
      else {
        const given: [string, string | undefined, Cidr | null][] = [['--src', opts.src, result.rule.src], ['--dst', opts.dst, result.rule.dst]];
        const notes = given.map(([flag, text, cidr]) => (text !== undefined && cidr ? cidrNote(flag, text, cidr) : '')).join('');
        process.stdout.write(`added rule ${result.rule.id} (priority ${result.rule.priority}): ${describeRule(result.rule)}\n  ${whereApplied(result)}${notes}${shadowWarnings(result)}\n`);
      }
    }));

  rule.command('list')
    .description('show the rules in evaluation order with their hit counters')
    .option('--json', 'print JSON')
    .option('--state-dir <dir>', 'state directory (default $SECUXFLOW_STATE_DIR or /var/lib/secuxflow)')
    .action(action('rule list', async (opts: StateDirOption & { json?: boolean }) => {
      const list = await listRules(opts);
      if (opts.json) {
        printJson({
          default_policy: list.defaultPolicy,
          attached: list.attached,
          kernel_out_of_step: list.outOfStep,
          rules: list.rules.map(({ rule: r, hits, shadowedBy }) => ({ ...ruleToJson(r), hits, shadowed_by: shadowedBy })),
        });
      } else {
        process.stdout.write(`${formatRuleList(list)}\n`);
      }
    }));

  rule.command('delete')
    .description('remove one rule')
    .option('--id <n>', 'id of the rule to remove (required)')
    .option('--state-dir <dir>', 'state directory (default $SECUXFLOW_STATE_DIR or /var/lib/secuxflow)')
    .option('--json', 'print the removed rule and where the change went as JSON')
    .action(action('rule delete', async (opts: StateDirOption & { id?: string; json?: boolean }) => {
      const result = await deleteRule(opts);
      if (opts.json) printJson({ deleted: ruleToJson(result.deleted), ...changeJson(result) });
      else process.stdout.write(`deleted rule ${result.deleted.id}: ${describeRule(result.deleted)}\n  ${whereApplied(result)}\n`);
    }));

  rule.command('default')
    .description('set the default policy: what packets no rule matches get (pass, drop or inspect)')
    .argument('<policy>', 'pass, drop or inspect')
    .option('--state-dir <dir>', 'state directory (default $SECUXFLOW_STATE_DIR or /var/lib/secuxflow)')
    .option('--json', 'print the policy before and after and where the change went as JSON')
    .action(action('rule default', async (policy: string, opts: StateDirOption & { json?: boolean }) => {
      const result = await setDefaultPolicy({ ...opts, policy });
      if (opts.json) printJson({ previous: result.previous, default_policy: result.defaultPolicy, ...changeJson(result) });
      else process.stdout.write(`default policy: ${result.previous} -> ${result.defaultPolicy}\n  ${whereApplied(result)}\n`);
    }));

  registerRuleFile(rule);

  rule.command('clear')
    .description('remove every rule (the default policy stays)')
    .option('--state-dir <dir>', 'state directory (default $SECUXFLOW_STATE_DIR or /var/lib/secuxflow)')
    .option('--json', 'print how many rules were removed and where the change went as JSON')
    .action(action('rule clear', async (opts: StateDirOption & { json?: boolean }) => {
      const result = await clearRules(opts);
      if (opts.json) printJson({ removed: result.removed, ...changeJson(result) });
      else process.stdout.write(`removed ${result.removed} rule${result.removed === 1 ? '' : 's'}\n  ${whereApplied(result)}\n`);
    }));
}
