// Assembles what an inspection run needs: the rule set (a file, the stored
// rules, or inspect-everything), and the module instances.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadRuleFile } from '../rules/parse.js';
import type { RuleSet } from '../rules/types.js';
import { StateStore } from '../state/store.js';
import { readConfigFile } from '../fs/read-config.js';
import { loadModuleRef, resolveModuleRef, shippedModuleNames } from '../modules/resolve.js';
import { explainStartRefusal } from '../modules/validate.js';
import { createModuleRunner } from '../sandbox/runner.js';
import { inFlightPolicy, type ModulePolicy } from '../sandbox/limits.js';
import { SecuxflowError } from '../errors.js';
import type { EngineModule, FailurePolicy } from './engine.js';

/**
 * Modules a run uses when none are named: every shipped inspector that works
 * without a configuration (ratelimit needs its rules, threat_intel its IOC lists).
 */
export const DEFAULT_MODULES = ['basic_inspect', 'http_waf', 'dns_guard', 'tls_inspect', 'ssh_guard', 'dlp', 'scan_flood'];

export interface RuleSource {
  set: RuleSet;
  /** Where the rules came from, for the decision path. */
  origin: string;
}

export function resolveRules(rulesFile: string | undefined, stateDir: string | undefined): RuleSource {
  if (rulesFile !== undefined) return { set: loadRuleFile(rulesFile), origin: rulesFile };
  const store = new StateStore(stateDir);
  if (existsSync(join(store.dir, 'rules.json'))) {
    return { set: store.readRules(), origin: join(store.dir, 'rules.json') };
  }
  return { set: { defaultPolicy: 'inspect', rules: [] }, origin: 'built-in (no rules stored: inspect everything)' };
}

export interface ModuleOptions {
  /** Module config text keyed by module name. */
  configs?: Map<string, string>;
  /** The files those configs came from (module name -> path), to name in a refusal's hint. */
  configFiles?: Map<string, string>;
  /** Overrides each module's registered policy (default fail-closed). */
  policy?: FailurePolicy | ModulePolicy;
  /** Where registered modules are looked up (default $SECUXFLOW_STATE_DIR or /var/lib/secuxflow). */
  stateDir?: string;
  /** Run modules in the host's thread instead of sandbox workers (no CPU budget). */
  unsafeInThread?: boolean;
  /** 'packet' for captures (module time follows the capture), 'wall' for live traffic. */
  clock?: 'packet' | 'wall';
  /** When no module is named: load the modules these rules inspect with too, not only the defaults. */
  forRules?: RuleSet;
  /** How the caller gives a module its config, for the hint when one starts only with a config (default inspect's flag). */
  giveConfig?: (name: string) => string;
}

export async function loadModules(args: string[], opts: ModuleOptions = {}): Promise<EngineModule[]> {
  const wanted = args.length > 0 ? args : defaultModulesFor(opts.forRules);
  if (args.length === 0 && wanted.length === 0) {
    throw new SecuxflowError('E_MODULE_NOT_FOUND', 'no inspector modules are built', 'run npm run build');
  }
  const out: EngineModule[] = [];
  /** Module name -> the --module argument that loaded it. */
  const seen = new Map<string, string>();
  for (const arg of wanted) {
    const ref = resolveModuleRef(arg, opts.stateDir);
    const first = seen.get(ref.name);
    if (first !== undefined) {
      throw new SecuxflowError('E_USAGE', `--module ${arg}: a module named "${ref.name}" is already loaded${first !== arg ? ` (from --module ${first})` : ''}`,
        first === arg ? 'give each module once' : `a file's module is named after the file: rename one of them, or register one under another name (secuxflow module load ${arg} --name OTHER) and give that name`);
    }
    seen.set(ref.name, arg);
    // Registered modules are checked against their pinned sha256 here.
    const loaded = await loadModuleRef(ref);
    const config = opts.configs?.get(ref.name) ?? registeredConfig(ref.registered?.config ?? null, ref.name);
    const policy: ModulePolicy = opts.policy ?? ref.registered?.policy ?? 'fail-closed';
    const configFile = opts.configFiles?.get(ref.name) ?? ref.registered?.config ?? undefined;
    const instance = await createModuleRunner(loaded, {
      ...(config !== undefined ? { config } : {}),
      clock: opts.clock ?? 'packet',
      policy,
      ...(ref.registered ? { limits: ref.registered.limits } : {}),
      unsafeInThread: opts.unsafeInThread ?? false,
    }).catch((e: unknown) => { throw explainStartRefusal(e, configFile, opts.giveConfig?.(ref.name) ?? `--module-config ${ref.name}=FILE`); });
    out.push({ name: ref.name, instance, policy: inFlightPolicy(policy) });
  }
  return out;
}

/**
 * The default modules, then any other module a rule inspects with (a
 * registered one, or a shipped one that needs a config): a stored rule set
 * that names ratelimit must run with ratelimit, not fail for want of it.
 */
function defaultModulesFor(rules: RuleSet | undefined): string[] {
  const names = DEFAULT_MODULES.filter((n) => shippedModuleNames().includes(n));
  for (const r of rules?.rules ?? []) {
    if (r.action !== 'inspect') continue;
    for (const m of r.modules) if (!names.includes(m)) names.push(m);
  }
  return names;
}

function registeredConfig(path: string | null, name: string): string | undefined {
  if (path === null) return undefined;
  return readConfigFile(path, `registered module ${name}: its config`,
    `register it again with another --config (secuxflow module load FILE --name ${name} --config NEW)`);
}
