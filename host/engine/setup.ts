// Assembles what an inspection run needs: the rule set (a file, the stored
// rules, or inspect-everything), and the module instances.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadRuleFile } from '../rules/parse.js';
import type { RuleSet } from '../rules/types.js';
import { StateStore } from '../state/store.js';
import { compileModuleRef, resolveModuleRef, shippedModuleNames } from '../modules/resolve.js';
import { InspectorInstance } from '../wasm/instance.js';
import { SecuxflowError } from '../errors.js';
import type { EngineModule, FailurePolicy } from './engine.js';

/** Modules a run uses when none are named: every shipped inspector except test twins. */
export const DEFAULT_MODULES = ['basic_inspect'];

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
  policy?: FailurePolicy;
  /** 'packet' for captures (module time follows the capture), 'wall' for live traffic. */
  clock?: 'packet' | 'wall';
}

export async function loadModules(args: string[], opts: ModuleOptions = {}): Promise<EngineModule[]> {
  const wanted = args.length > 0 ? args : DEFAULT_MODULES.filter((n) => shippedModuleNames().includes(n));
  if (args.length === 0 && wanted.length === 0) {
    throw new SecuxflowError('E_MODULE_NOT_FOUND', 'no inspector modules are built', 'run npm run build');
  }
  const out: EngineModule[] = [];
  const seen = new Set<string>();
  for (const arg of wanted) {
    const ref = resolveModuleRef(arg);
    if (seen.has(ref.name)) throw new SecuxflowError('E_USAGE', `--module ${arg}: a module named "${ref.name}" is already loaded`);
    seen.add(ref.name);
    const compiled = await compileModuleRef(ref);
    const config = opts.configs?.get(ref.name);
    const instance = await InspectorInstance.create(compiled, { ...(config !== undefined ? { config } : {}), clock: opts.clock ?? 'packet' });
    out.push({ name: ref.name, instance, policy: opts.policy ?? 'fail-closed' });
  }
  return out;
}
