// Chooses how a module runs: in a sandbox worker (the default) or, for
// benchmarks and trusted modules, in the host's thread (--unsafe-in-thread).
import type { ModuleRunner } from '../engine/engine.js';
import type { LoadedModule } from '../modules/load.js';
import { InspectorInstance } from '../wasm/instance.js';
import { describeModule, type CompiledInspector } from '../wasm/loader.js';
import { ComponentInspector } from '../wasm/component.js';
import type { RunnerCounters } from './governor.js';
import type { OutputDrops } from '../wasm/types.js';
import { InThreadInspector } from './in-thread.js';
import { memoryCeilingPages, resolveLimits, WASM_PAGE, type ModulePolicy } from './limits.js';
import { SandboxedInspector, type RunnerOptions } from './sandboxed.js';

export interface ManagedRunner extends ModuleRunner {
  readonly name: string;
  readonly policy: ModulePolicy;
  readonly memoryBytes: number;
  stats(): RunnerCounters;
  outputDrops(): OutputDrops;
  verdictErrors(): number;
  close(): void;
}

export interface CreateRunnerOptions extends RunnerOptions {
  /** Run in the host's thread: no CPU budget. Default false (sandboxed). */
  unsafeInThread?: boolean;
}

export async function createModuleRunner(mod: LoadedModule | CompiledInspector, opts: CreateRunnerOptions = {}): Promise<ManagedRunner> {
  const loaded: Pick<LoadedModule, 'name' | 'compiled' | 'component' | 'source'> = 'source' in mod ? mod
    : { name: mod.name, compiled: mod, component: null, source: { name: mod.name, kind: 'core', module: mod.module } };
  if (loaded.compiled !== null && opts.memoryMaxBytes === undefined) {
    const declared = describeModule(loaded.compiled).memory?.maxPages ?? null;
    const ceiling = memoryCeilingPages(resolveLimits(opts.limits));
    opts = { ...opts, memoryMaxBytes: Math.min(declared ?? ceiling, ceiling) * WASM_PAGE };
  }
  if (!opts.unsafeInThread) return SandboxedInspector.create(loaded.source, opts);
  const { unsafeInThread: _u, policy: _p, limits: _l, ...instanceOpts } = opts;
  const factory = loaded.component !== null
    ? () => ComponentInspector.create(loaded.component!, { ...instanceOpts, maxMemoryPages: memoryCeilingPages(resolveLimits(opts.limits)) })
    : () => InspectorInstance.create(loaded.compiled!, instanceOpts);
  return InThreadInspector.create(loaded.name, factory, opts);
}
