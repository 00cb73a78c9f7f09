// `secuxflow module load|list|unload|info|new`: custom inspectors, validated
// in the sandbox before they are registered (pinned by sha256) in the state
// directory. The same functions back the CLI and programmatic use.
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { readConfigFile } from '../../host/fs/read-config.js';
import { join, resolve } from 'node:path';
import { shippedModulesDir } from '../../host/paths.js';
import { shippedModuleNames } from '../../host/modules/resolve.js';
import { SecuxflowError } from '../../host/errors.js';
import { printable } from '../../host/text.js';
import { StateStore } from '../../host/state/store.js';
import { RULES_FILE } from '../../host/state/store.js';
import { parsePolicy, resolveLimits, type ModulePolicy, type SandboxLimits } from '../../host/sandbox/limits.js';
import { validateModule } from '../../host/modules/validate.js';
import { nameFromPath, readModuleBytes, sha256Hex } from '../../host/modules/load.js';
import { describeModuleFile, type ModuleFileDescription } from '../../host/modules/describe.js';
import { readRegistry, registeredConfigProblem, registeredStatus, writeRegistry, type ModuleRecord, type RegisteredStatus } from '../../host/modules/registry.js';
import { scaffoldModule, type ScaffoldResult } from '../../host/modules/scaffold.js';
import { action, printJson } from '../action.js';
import { table, thousands } from '../format.js';
import { requestDaemon } from '../../host/control/client.js';
import { selfCommand } from '../self-command.js';

const NAME_RE = /^[a-z][a-z0-9_-]{0,63}$/;

export interface LimitFlags {
  memoryMib?: string;
  cpuBudgetMs?: string;
  initBudgetMs?: string;
  maxModuleMib?: string;
}

export interface LoadModuleOptions extends LimitFlags {
  name?: string;
  /** false (--no-config): register without one, even when the previous registration had one. */
  config?: string | false;
  policy?: string;
  stateDir?: string;
}

export interface LoadModuleResult {
  record: ModuleRecord;
  /** The registration this one replaced (same name), if any. */
  replaced: ModuleRecord | null;
  /** Settings of the replaced registration that were not given again and carried over, as flags (`--policy fail-open`). */
  kept: string[];
  /** True when a shipped inspector has this name and another file now answers to it. */
  shadowsShipped: boolean;
  stateDir: string;
  /** True when a running daemon hot-loaded it into every worker. */
  hotLoaded: boolean;
}

function usage(message: string, hint?: string): SecuxflowError {
  return new SecuxflowError('E_USAGE', message, hint);
}

function intFlag(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  // A negative or huge integer is a range problem, which resolveLimits names with the range (15 digits stay exact).
  if (/^-?\d{16,}$/.test(v)) throw usage(`${flag} "${v}" is out of range`, `leave ${flag} out for its default`);
  if (!/^-?\d{1,15}$/.test(v)) throw usage(`${flag} "${v}" is not a whole number`);
  return Number(v);
}

export function limitsFromFlags(f: LimitFlags): Partial<SandboxLimits> {
  const out: Partial<SandboxLimits> = {};
  const pairs: [keyof SandboxLimits, string, string | undefined][] = [
    ['memoryMiB', '--memory-mib', f.memoryMib], ['cpuBudgetMs', '--cpu-budget-ms', f.cpuBudgetMs],
    ['initBudgetMs', '--init-budget-ms', f.initBudgetMs], ['maxModuleMiB', '--max-module-mib', f.maxModuleMib],
  ];
  for (const [key, flag, v] of pairs) {
    const n = intFlag(flag, v);
    if (n !== undefined) out[key] = n;
  }
  try {
    resolveLimits(out);
  } catch (e) {
    const m = e instanceof Error ? e.message : String(e);
    throw usage(pairs.reduce((msg, [key, flag]) => msg.replace(`sandbox limit ${key}`, flag), m));
  }
  return out;
}

/** A name as the user typed it, safe to print: control characters escaped (no terminal escapes), long ones cut. */
function shown(name: string): string {
  return name.length > 80 ? `${JSON.stringify(name.slice(0, 80))}… (${name.length} characters)` : JSON.stringify(name);
}

const NAME_HINT = "use lower-case letters, digits, '_' and '-', starting with a letter (at most 64)";

function checkName(name: string, flag: string, hint = NAME_HINT): string {
  if (!NAME_RE.test(name)) throw usage(`${flag} ${shown(name)} is not a module name`, hint);
  return name;
}

function readConfig(path: string | undefined): { text: string | undefined; abs: string | null } {
  if (path === undefined) return { text: undefined, abs: null };
  const abs = resolve(path);
  if (!existsSync(abs)) throw new SecuxflowError('E_USAGE', `--config ${path}: no such file`);
  return { text: readConfigFile(abs, '--config', 'give the path of the module\'s configuration file'), abs };
}

const LIMIT_FLAGS: [keyof SandboxLimits, string][] = [
  ['memoryMiB', '--memory-mib'], ['cpuBudgetMs', '--cpu-budget-ms'], ['initBudgetMs', '--init-budget-ms'], ['maxModuleMiB', '--max-module-mib'],
];

/**
 * What a re-registration takes over from the registration it replaces: a
 * rebuilt module registered again (as the E_MODULE_CHANGED hint says) must not
 * quietly lose the config, policy and limits it runs with.
 */
function carryOver(prev: ModuleRecord | null, opts: LoadModuleOptions, limits: Partial<SandboxLimits>): {
  configPath: string | undefined; policy: ModulePolicy; limits: Partial<SandboxLimits>; kept: string[];
} {
  const kept: string[] = [];
  let configPath = opts.config === false ? undefined : opts.config;
  if (prev && opts.config === undefined && prev.config) {
    if (!existsSync(prev.config)) {
      throw usage(`module ${prev.name} was registered with the config ${prev.config}, which no longer exists; nothing was registered`,
        'pass --config FILE, or --no-config to register it without one');
    }
    configPath = prev.config;
    kept.push(`--config ${prev.config}`);
  }
  let policy: ModulePolicy = opts.policy === undefined ? 'fail-closed' : parsePolicy(opts.policy);
  if (prev && opts.policy === undefined && prev.policy !== policy) {
    policy = prev.policy;
    kept.push(`--policy ${policy}`);
  }
  const merged = { ...limits };
  const defaults = resolveLimits({});
  for (const [key, flag] of LIMIT_FLAGS) {
    const old = prev?.limits?.[key];
    if (merged[key] === undefined && typeof old === 'number' && old !== defaults[key]) {
      merged[key] = old;
      kept.push(`${flag} ${old}`);
    }
  }
  return { configPath, policy, limits: merged, kept };
}

/**
 * `module load http_waf` reads as "load the shipped http_waf into the daemon",
 * as `inspect --module` and the daemon config take names; it is a file
 * argument here, so say how a shipped inspector gets into the daemon.
 */
function missingModuleFile(file: string): SecuxflowError {
  const message = `module file ${resolve(file)} does not exist`;
  if (!shippedModuleNames().includes(file)) {
    return new SecuxflowError('E_MODULE_NOT_FOUND', message, 'give the path of a .wasm (core module or component) or .wat file; secuxflow module new NAME scaffolds one');
  }
  return new SecuxflowError('E_MODULE_NOT_FOUND', `${message}: module load registers a module FILE, and ${file} is the name of a shipped inspector`,
    `a daemon runs ${file} when its config file lists it (modules: [${file}]; then systemctl reload secuxflow@IFACE, or kill -HUP the daemon), ` +
    `and inspect when given --module ${file}; to register the shipped build under a name of your own: secuxflow module load ${join(shippedModulesDir(), `${file}.wasm`)} --name NAME`);
}

/** Validates FILE completely in the sandbox, then registers it (replacing a registration of the same name, whose settings carry over). */
export async function loadModule(file: string, opts: LoadModuleOptions = {}): Promise<LoadModuleResult> {
  if (!file) throw usage('module load needs a FILE (.wasm core module or component, or .wat)');
  if (!existsSync(resolve(file))) throw missingModuleFile(file);
  if (opts.policy !== undefined) parsePolicy(opts.policy);
  const flagLimits = limitsFromFlags(opts);
  // A name taken from the file name is checked before the (possibly slow) validation too.
  const name = opts.name !== undefined ? checkName(opts.name, '--name')
    : checkName(nameFromPath(resolve(file)), 'the module name taken from the file name', `give one with --name (${NAME_HINT})`);
  const store = new StateStore(opts.stateDir);
  const prev = readRegistry(store).find((m) => m.name === name) ?? null;
  if (prev && opts.name === undefined && prev.source !== resolve(file)) {
    throw usage(`the name ${name} (taken from the file name) is registered for another file, ${prev.source}; nothing was registered`,
      `to replace that module with this file, say so: --name ${name}; to keep both, give this one another --name`);
  }
  const { configPath, policy, limits, kept } = carryOver(prev, opts, flagLimits);
  const config = readConfig(configPath);
  // Validation runs before the lock: it may take a moment, and nothing is written until it passed.
  const result = await validateModule(file, {
    name, ...(config.text !== undefined ? { config: config.text, configPath: config.abs! } : {}), policy, limits,
  }).catch((e: unknown) => {
    // The user did not give this config on this command line: say where it came from.
    if (e instanceof SecuxflowError && e.code === 'E_MODULE_CONFIG' && prev?.config && configPath === prev.config && opts.config === undefined) {
      throw new SecuxflowError(e.code, e.message,
        `that config (${prev.config}) was kept from the previous registration of ${name}: give this module its own with --config FILE, or none with --no-config`);
    }
    throw e;
  });
  const mod = result.module;
  const c = result.counters;
  const record: ModuleRecord = {
    name: mod.name,
    kind: mod.kind,
    source: mod.path,
    sha256: mod.sha256,
    abiVersion: mod.abiVersion,
    policy,
    config: config.abs,
    limits: resolveLimits(limits),
    loadedAt: new Date().toISOString(),
    counters: {
      origin: 'validation', at: new Date().toISOString(), packets: c.packets, batches: c.batches, meanBatchUs: c.meanBatchUs,
      p99BatchUs: c.p99BatchUs, traps: c.traps, alerts: c.alerts, status: c.status, quarantineReason: c.quarantineReason,
    },
  };
  let replaced: ModuleRecord | null = null;
  let hotLoaded = false;
  await store.withLock(async () => {
    const all = readRegistry(store);
    replaced = all.find((m) => m.name === record.name) ?? null;
    writeRegistry(store, [...all.filter((m) => m.name !== record.name), record]);
    // A running daemon loads it into every worker (or swaps the old one) between
    // batches; if it cannot, the registration is taken back so the two agree.
    try {
      hotLoaded = (await requestDaemon(store.dir, 'modules.load', {
        name: record.name, policy, ...(record.config ? { config: record.config } : {}),
      })) !== null;
    } catch (e) {
      writeRegistry(store, all);
      throw e;
    }
  });
  const shipped = join(shippedModulesDir(), `${record.name}.wasm`);
  const shadowsShipped = shippedModuleNames().includes(record.name) && record.source !== shipped;
  return { record, replaced, kept, shadowsShipped, stateDir: store.dir, hotLoaded };
}

export interface ListedModule {
  name: string;
  kind: string;
  abiVersion: number;
  sha256: string;
  status: RegisteredStatus;
  /** What is wrong with the registration when status is changed-on-disk, missing, config-missing or config-unreadable, and how to fix it; else null. */
  problem: { message: string; hint: string } | null;
  policy: ModulePolicy;
  source: string;
  packets: number;
  meanBatchUs: number;
  p99BatchUs: number;
  traps: number;
  quarantine: string | null;
  countersFrom: string | null;
  loadedAt: string;
}

export async function listModules(opts: { stateDir?: string; onWarning?: (message: string) => void } = {}): Promise<ListedModule[]> {
  const store = new StateStore(opts.stateDir);
  // With a daemon running, its live counters replace those of the validation run.
  const live = new Map<string, DaemonModuleStatus>();
  // A daemon that fails to answer only costs the live counters: the registry is still listed, with a warning.
  let status: unknown = null;
  try {
    status = await requestDaemon(store.dir, 'status');
  } catch (e) {
    opts.onWarning?.(`the running daemon's counters could not be read (${e instanceof SecuxflowError ? `${e.code}: ` : ''}${e instanceof Error ? e.message : String(e)}); showing the counters of the validation run`);
  }
  const modules = (status as { modules?: unknown } | null)?.modules;
  if (status !== null && !Array.isArray(modules)) opts.onWarning?.('the running daemon\'s status has no module list; showing the counters of the validation run');
  for (const m of Array.isArray(modules) ? modules as DaemonModuleStatus[] : []) if (typeof m?.name === 'string') live.set(m.name, m);
  const at = new Date().toISOString();
  return readRegistry(store).map((m) => {
    const status = registeredStatus(m);
    const d = live.get(m.name);
    const base = {
      name: m.name, kind: m.kind, abiVersion: m.abiVersion, sha256: m.sha256, status, policy: m.policy, source: m.source, loadedAt: m.loadedAt,
      problem: fileProblem(m, status),
    };
    if (d) {
      return {
        ...base, packets: d.packets, meanBatchUs: d.meanBatchUs, p99BatchUs: d.p99BatchUs, traps: d.traps,
        quarantine: d.quarantineReason, countersFrom: `daemon ${at}`,
      };
    }
    return {
      ...base, packets: m.counters?.packets ?? 0, meanBatchUs: m.counters?.meanBatchUs ?? 0, p99BatchUs: m.counters?.p99BatchUs ?? 0,
      traps: m.counters?.traps ?? 0, quarantine: m.counters?.quarantineReason ?? null,
      countersFrom: m.counters ? `${m.counters.origin} ${m.counters.at}` : null,
    };
  });
}

/** What keeps inspect and run from using a registration, with the fix; null when nothing does. */
function fileProblem(m: ModuleRecord, status: RegisteredStatus): { message: string; hint: string } | null {
  const again = `secuxflow module load ${m.source} --name ${m.name}`;
  if (status === 'changed-on-disk') return { message: `its file ${m.source} changed since it was registered`, hint: `if the change is yours, re-register it: ${again}` };
  if (status === 'missing') return { message: `its file ${m.source} is gone`, hint: `rebuild or restore it and register it again (${again}), or remove it: secuxflow module unload ${m.name}` };
  if (status === 'config-missing' || status === 'config-unreadable') return registeredConfigProblem(m);
  return null;
}

/** The per-module part of the daemon's status reply. */
interface DaemonModuleStatus {
  name: string;
  packets: number;
  meanBatchUs: number;
  p99BatchUs: number;
  traps: number;
  quarantineReason: string | null;
}

/**
 * How to take `name` out of a running daemon that runs it without a
 * registration (from its config file, or as a shipped default); null when
 * no daemon answers or it does not run `name`. "No module is registered"
 * alone left the operator looking at the module in `status`.
 */
async function runsUnregistered(stateDir: string, name: string): Promise<string | null> {
  let s: { daemon?: { pid?: unknown; config?: unknown }; modules?: unknown } | null;
  try {
    s = await requestDaemon(stateDir, 'status') as typeof s;
  } catch {
    return null;
  }
  if (!Array.isArray(s?.modules) || !s.modules.some((m: { name?: unknown } | null) => m?.name === name)) return null;
  const config = typeof s.daemon?.config === 'string' ? s.daemon.config : null;
  const pid = typeof s.daemon?.pid === 'number' ? ` ${s.daemon.pid}` : '';
  return `the running daemon runs ${name}, but not as a registered module: ` + (config !== null
    ? `remove it from modules: in its config file ${config}, then reload the daemon (systemctl reload secuxflow@IFACE, or kill -HUP${pid})`
    : `it is one of the shipped inspectors a daemon runs when neither a config file nor module load names any; list the ones you want under modules: in a config file and restart the daemon with --config FILE`);
}

/** Removes a registration; refused while a stored rule names the module. */
export async function unloadModule(name: string, opts: { stateDir?: string } = {}): Promise<ModuleRecord> {
  if (!name) throw usage('module unload needs a NAME', 'secuxflow module list shows the registered modules');
  const store = new StateStore(opts.stateDir);
  return store.withLock(async () => {
    const all = readRegistry(store);
    const rec = all.find((m) => m.name === name);
    if (!rec) {
      throw new SecuxflowError('E_MODULE_NOT_FOUND', `no registered module named ${shown(name)}`,
        (await runsUnregistered(store.dir, name)) ?? (all.length ? `registered modules: ${all.map((m) => m.name).join(', ')}` : 'no module is registered (secuxflow module load FILE)'));
    }
    if (existsSync(store.path(RULES_FILE))) {
      const users = store.readRules().rules.filter((r) => r.modules.includes(name)).map((r) => r.id);
      if (users.length > 0) {
        throw new SecuxflowError('E_MODULE_IN_USE', `module ${name} is used by rule${users.length > 1 ? 's' : ''} ${users.join(', ')}; it stays registered`,
          `delete or change those rules first (secuxflow rule delete --id ${users[0]})`);
      }
    }
    // The running daemon drops it first: it refuses while a rule it holds still uses it.
    try {
      await requestDaemon(store.dir, 'modules.unload', { name });
    } catch (e) {
      if (!(e instanceof SecuxflowError && e.code === 'E_MODULE_NOT_FOUND')) throw e;
    }
    writeRegistry(store, all.filter((m) => m.name !== name));
    return rec;
  });
}

export interface ModuleInfo extends Omit<ModuleFileDescription, 'kind'> {
  /** 'unknown' when the file is no module of any kind (its reason says why). */
  kind: ModuleFileDescription['kind'] | 'unknown';
  wouldLoad: boolean;
  /** Why not, when wouldLoad is false. */
  reason: { code: string; message: string; hint?: string } | null;
  validation: { verdicts: number[]; meanBatchUs: number; memoryBytes: number | null } | null;
}

/** Interface, limits and a full validation of FILE, without registering anything. */
export async function moduleInfo(file: string, opts: LimitFlags & { config?: string } = {}): Promise<ModuleInfo> {
  if (!file) throw usage('module info needs a FILE');
  const limits = limitsFromFlags(opts);
  const config = readConfig(opts.config);
  let desc: ModuleFileDescription;
  try {
    desc = await describeModuleFile(file, limits);
  } catch (e) {
    // Unreadable as a module at all (bad magic, WAT syntax): say so as the reason it would not load.
    if (!(e instanceof SecuxflowError) || e.code === 'E_MODULE_NOT_FOUND' || e.code === 'E_IO') throw e;
    // The file's own facts still hold: its size and hash are what a user compares. A path that is no file at all (a directory) fails here.
    const bytes = readModuleBytes(file);
    const kind = /\.wa(t|st)$/i.test(file) ? 'wat' as const : 'unknown' as const;
    return { path: resolve(file), kind, size: bytes.length, sha256: sha256Hex(bytes), abiVersion: null, imports: [], exports: [], memory: null, wouldLoad: false, reason: e.toJSON(), validation: null };
  }
  try {
    const v = await validateModule(file, { limits, ...(config.text !== undefined ? { config: config.text, configPath: config.abs! } : {}) });
    return { ...desc, wouldLoad: true, reason: null, validation: { verdicts: v.verdicts, meanBatchUs: v.counters.meanBatchUs, memoryBytes: null } };
  } catch (e) {
    if (!(e instanceof SecuxflowError)) throw e;
    return { ...desc, wouldLoad: false, reason: e.toJSON(), validation: null };
  }
}

export async function newModule(name: string, opts: { dir?: string } = {}): Promise<ScaffoldResult> {
  if (!name) throw usage('module new needs a NAME');
  return scaffoldModule(checkName(name, 'NAME'), opts.dir);
}

function short(sha: string): string {
  return sha.slice(0, 12);
}

function printList(list: ListedModule[]): void {
  if (list.length === 0) {
    process.stdout.write('no modules registered (secuxflow module load FILE)\n');
    return;
  }
  const rows = [['NAME', 'KIND', 'ABI', 'SHA256', 'STATUS', 'POLICY', 'PACKETS', 'MEAN µs', 'P99 µs', 'TRAPS', 'QUARANTINE']];
  for (const m of list) {
    rows.push([m.name, m.kind, String(m.abiVersion), short(m.sha256), m.status, m.policy, thousands(m.packets),
      m.meanBatchUs.toFixed(1), m.p99BatchUs.toFixed(1), String(m.traps), m.quarantine ?? '-']);
  }
  const problems = list.filter((m) => m.problem !== null)
    .map((m) => `${m.name}: ${printable(m.problem!.message)}; inspect and run refuse it\n  hint: ${printable(m.problem!.hint)}\n`);
  // Where the numbers come from: the note said "from each module's last validation run" also under a daemon's live counters.
  const live = list.filter((m) => m.countersFrom?.startsWith('daemon ')).length;
  const from = live === 0 ? "from each module's last validation run; a running daemon reports live ones"
    : live === list.length ? 'live, from the running daemon'
      : 'live from the running daemon for the modules it runs, else from the last validation run';
  process.stdout.write(`${table(rows, '')}\n(counters: ${from})\n${problems.join('')}`);
}

// Import and export names are any UTF-8 the file's author chose, and the
// reason may quote them: all of it is escaped before it reaches the terminal.
function printInfo(i: ModuleInfo): void {
  const lines = [`module   ${printable(i.path)}`, `kind     ${i.kind}, ${thousands(i.size)} bytes, sha256 ${i.sha256}`, `abi      ${i.abiVersion ?? 'none'}`];
  if (i.memory) {
    lines.push(`memory   initial ${i.memory.initialPages} pages (${i.memory.initialPages * 64} KiB), declared maximum ${i.memory.maxPages === null ? 'none' : `${i.memory.maxPages} pages (${i.memory.maxPages * 64} KiB)`}; the sandbox caps it at ${i.memory.sandboxMaxPages} pages`);
  }
  lines.push('imports');
  for (const imp of i.imports) lines.push(`  ${printable(imp.name)} ${imp.signature ?? imp.kind}${imp.allowed ? '' : '   <- not allowed'}`);
  if (i.imports.length === 0) lines.push('  (none)');
  lines.push('exports');
  for (const ex of i.exports) lines.push(`  ${printable(ex.name)} ${ex.signature ?? ex.kind}`);
  const hint = i.reason?.hint ? `\n  hint: ${i.reason.hint.split('\n').map(printable).join('\n')}` : '';
  lines.push(i.wouldLoad ? 'loads    yes (validated in the sandbox: instantiated, on_init, one probe batch)' : `loads    no: [${i.reason!.code}] ${printable(i.reason!.message)}${hint}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

function collectLimitOptions(cmd: Command): Command {
  return cmd
    .option('--memory-mib <n>', 'memory ceiling of the module in MiB (default 64)')
    .option('--cpu-budget-ms <n>', 'time budget per batch in ms; past it the module is stopped (default 100)')
    .option('--init-budget-ms <n>', 'time budget of instantiation and on_init in ms (default 2000)')
    .option('--max-module-mib <n>', 'largest module file accepted, in MiB (default 16)');
}

export function registerModule(program: Command): void {
  const mod = program.command('module').description('custom inspectors: load (validate and register), list, unload, info, new (scaffold)');

  collectLimitOptions(mod.command('load')
    .description('validate FILE in the sandbox and register it (pinned by sha256) under NAME')
    .argument('<file>', 'a core .wasm (ABI v1), a .wat text module, or a component built against modules/wit')
    .option('--name <name>', 'the name rules use (default: from the file name)')
    .option('--config <file>', 'configuration handed to on_init (JSON by convention); registering a name again keeps its config unless given')
    .option('--no-config', 'register without a configuration, even when the registration it replaces had one')
    .option('--policy <policy>', 'on failure: fail-open (pass its packets), fail-closed (drop them, the default) or reload (drop, recreate with backoff); registering a name again keeps its policy unless given')
    .option('--state-dir <dir>', 'state directory (default $SECUXFLOW_STATE_DIR or /var/lib/secuxflow)')
    .option('--json', 'print the registration as JSON'))
    .action(action('module load', async (file: string, opts: LoadModuleOptions & { json?: boolean }) => {
      const r = await loadModule(file, opts);
      if (opts.json) { printJson({ module: r.record, replaced: r.replaced !== null, kept: r.kept, shadows_shipped: r.shadowsShipped, hot_loaded: r.hotLoaded, state_dir: r.stateDir }); return; }
      const m = r.record;
      const shadow = r.shadowsShipped
        ? `  note: ${m.name} is also the name of a shipped inspector: inspect (its default set, and --module ${m.name}), run and rules that name it now run this module instead (module unload ${m.name} gives the name back)\n`
        : '';
      const kept = r.kept.length ? `  kept from the previous registration: ${r.kept.join(', ')} (give a flag to change it${m.config ? '; --no-config drops the config' : ''})\n` : '';
      // A name registered again with other bytes now runs other code: said, as rules that name it change behaviour.
      const prev = r.replaced;
      const changed = prev === null ? '' : prev.sha256 === m.sha256 ? '  the same file as before (sha256 unchanged)\n'
        : `  replaces sha256 ${short(prev.sha256)}${prev.source !== m.source ? ` from ${printable(prev.source)}` : ''}: rules and runs that name ${m.name} now use this file\n`;
      process.stdout.write(`${r.replaced ? 're-registered' : 'registered'} module ${m.name} (${m.kind}, ABI ${m.abiVersion}, sha256 ${short(m.sha256)}, policy ${m.policy})\n  from ${printable(m.source)}\n${m.config ? `  config ${printable(m.config)} (handed to on_init whenever it runs)\n` : ''}${changed}${kept}${shadow}` +
        `  ${r.hotLoaded ? 'hot-loaded into the running daemon' : 'no daemon running: used by the next secuxflow run or inspect'}\n`);
    }));

  mod.command('list')
    .description('registered modules: kind, ABI, sha256, status, packets, batch times, traps, quarantine')
    .option('--json', 'print JSON')
    .option('--state-dir <dir>', 'state directory (default $SECUXFLOW_STATE_DIR or /var/lib/secuxflow)')
    .action(action('module list', async (opts: { json?: boolean; stateDir?: string }) => {
      const list = await listModules({ ...opts, onWarning: (m) => process.stderr.write(`secuxflow module list: warning: ${m}\n`) });
      if (opts.json) printJson({ modules: list });
      else printList(list);
    }));

  mod.command('unload')
    .description('remove a registered module (refused while a rule uses it)')
    .argument('<name>', 'the module name')
    .option('--state-dir <dir>', 'state directory (default $SECUXFLOW_STATE_DIR or /var/lib/secuxflow)')
    .action(action('module unload', async (name: string, opts: { stateDir?: string }) => {
      const rec = await unloadModule(name, opts);
      process.stdout.write(`unloaded module ${rec.name} (${printable(rec.source)} is left in place)\n`);
    }));

  collectLimitOptions(mod.command('info')
    .description('exports, imports, memory limits, ABI version of FILE, and whether it would load (and why not)')
    .argument('<file>', 'a module file')
    .option('--config <file>', 'validate with this configuration')
    .option('--json', 'print JSON'))
    .action(action('module info', async (file: string, opts: LimitFlags & { config?: string; json?: boolean }) => {
      const info = await moduleInfo(file, opts);
      if (opts.json) printJson(info);
      else printInfo(info);
      if (!info.wouldLoad) process.exitCode = 1;
    }));

  mod.command('new')
    .description('scaffold an AssemblyScript inspector project (npm install && npm run build && npm test)')
    .argument('<name>', 'module name')
    .option('--dir <dir>', 'where to create it (default ./<name>)')
    .action(action('module new', async (name: string, opts: { dir?: string }) => {
      const r = await newModule(name, opts);
      // Caught here, before any work, rather than at module load after the build.
      const shadows = shippedModuleNames().includes(name) ? `note: ${name} is the name of a shipped inspector: registered under it, yours replaces that one everywhere (inspect's default set, run, rules); load it with --name OTHER to keep both\n` : '';
      process.stdout.write(`created ${r.dir} (${r.files.length} files)\n${shadows}next:\n  cd ${r.dir}\n  npm install\n  npm test\n  ${selfCommand()} module load build/${name}.wasm --config config.json\n`);
    }));
}

