// What the sandbox allows a module, with safe defaults. Every limit can be
// changed per module (module load --memory-mib/--cpu-budget-ms, or options).
import { SecuxflowError } from '../errors.js';

export type ModulePolicy = 'fail-open' | 'fail-closed' | 'reload';
export const MODULE_POLICIES: readonly ModulePolicy[] = ['fail-open', 'fail-closed', 'reload'];

export interface SandboxLimits {
  /** Ceiling on the module's linear memory, in MiB. Default 64. */
  memoryMiB: number;
  /** Wall-clock budget of one batch (or flow-end delivery), in ms. Past it the worker is terminated. Default 100. */
  cpuBudgetMs: number;
  /** Budget of instantiation (start function) plus on_init, in ms. Default 2000. */
  initBudgetMs: number;
  /** Traps within trapWindowMs that quarantine a fail-open/fail-closed module. Default 5. */
  trapThreshold: number;
  trapWindowMs: number;
  /** First delay before a `reload` module is recreated; doubles per consecutive failure up to backoffMaxMs. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Largest module file accepted, in MiB. Default 16. */
  maxModuleMiB: number;
}

export const DEFAULT_SANDBOX_LIMITS: Readonly<SandboxLimits> = {
  memoryMiB: 64,
  cpuBudgetMs: 100,
  initBudgetMs: 2000,
  trapThreshold: 5,
  trapWindowMs: 60_000,
  backoffBaseMs: 100,
  backoffMaxMs: 30_000,
  maxModuleMiB: 16,
};

export const WASM_PAGE = 65536;

export function memoryCeilingPages(limits: SandboxLimits): number {
  return Math.floor((limits.memoryMiB * 1024 * 1024) / WASM_PAGE);
}

const BOUNDS: Record<keyof SandboxLimits, [number, number]> = {
  memoryMiB: [1, 4096],
  cpuBudgetMs: [1, 60_000],
  initBudgetMs: [10, 600_000],
  trapThreshold: [1, 1_000_000],
  trapWindowMs: [1, 86_400_000],
  backoffBaseMs: [0, 3_600_000],
  backoffMaxMs: [0, 86_400_000],
  maxModuleMiB: [1, 1024],
};

/** Defaults overlaid with `over`; a value out of range is an E_USAGE naming the field. */
export function resolveLimits(over: Partial<SandboxLimits> = {}): SandboxLimits {
  const out: SandboxLimits = { ...DEFAULT_SANDBOX_LIMITS };
  for (const key of Object.keys(over) as (keyof SandboxLimits)[]) {
    const v = over[key];
    if (v === undefined) continue;
    const range = BOUNDS[key];
    if (!range) throw new SecuxflowError('E_USAGE', `unknown sandbox limit "${key}"`, `known limits: ${Object.keys(BOUNDS).join(', ')}`);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < range[0] || v > range[1]) {
      throw new SecuxflowError('E_USAGE', `sandbox limit ${key} must be an integer in ${range[0]}..${range[1]}, got ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
    }
    out[key] = v;
  }
  return out;
}

export function parsePolicy(value: unknown, what = '--policy'): ModulePolicy {
  if (typeof value === 'string' && (MODULE_POLICIES as readonly string[]).includes(value)) return value as ModulePolicy;
  // Control requests can carry any JSON: show it as JSON ("[object Object]" says nothing).
  const shown = typeof value === 'string' ? `"${value}"` : JSON.stringify(value) ?? String(value);
  throw new SecuxflowError('E_USAGE', `${what} ${shown} is not a failure policy`, `use one of ${MODULE_POLICIES.join(', ')}`);
}

/** What the engine does with the packets of a failed batch: reload drops them, as fail-closed. */
export function inFlightPolicy(p: ModulePolicy): 'fail-open' | 'fail-closed' {
  return p === 'fail-open' ? 'fail-open' : 'fail-closed';
}
