// Which modules the daemon runs, and building one worker's instances of them.
// The set comes from the config file, then every module registered in the
// state directory (so `module load` survives a restart), and when both are
// empty the shipped default. Each worker builds its own runners: instances are
// never shared between threads.
import { SecuxflowError } from '../errors.js';
import { existsSync } from 'node:fs';
import { readConfigFile } from '../fs/read-config.js';
import { DEFAULT_MODULES, loadModules } from '../engine/setup.js';
import type { EngineModule } from '../engine/engine.js';
import { resolveModuleRef, shippedModuleNames } from '../modules/resolve.js';
import { MODULES_FILE, readRegistry } from '../modules/registry.js';
import { StateStore } from '../state/store.js';
import type { ModulePolicy } from '../sandbox/limits.js';
import type { DaemonConfig, ModuleIsolation } from './config.js';

/** What a worker needs to build one module: plain data, so it crosses postMessage. */
export interface ModuleSpec {
  /** The name rules and status use (a path's file name for module files). */
  name: string;
  /** What to load: a registered or shipped name, or a .wasm/.wat path. */
  ref: string;
  /** The module's config text (read by the main thread, so every worker gets the same). */
  configText: string | null;
  /** The file configText came from, for the hint when the module refuses it. */
  configPath?: string | null;
  policy: ModulePolicy | null;
  /** Set by the daemon for each queue: in the queue's thread (watched), or in a sandbox worker. Absent: worker. */
  isolation?: ModuleIsolation;
}

export function readModuleConfig(path: string, name: string, from = 'the daemon config file'): string {
  return readConfigFile(path, `module ${name}: its config`, `fix the path in ${from}`);
}

export function moduleSpecsFor(config: DaemonConfig, stateDir: string): ModuleSpec[] {
  // A module the file names that does not resolve is the file's error: say which file.
  const fromConfig = (name: string): { name: string; ref: string } => {
    try {
      return specRef(name, stateDir);
    } catch (e) {
      if (!(e instanceof SecuxflowError) || config.source === null) throw e;
      throw new SecuxflowError(e.code, `${config.source}: modules: ${e.message}`, e.hint);
    }
  };
  const specs: ModuleSpec[] = config.modules.map((m) => ({
    ...fromConfig(m.name),
    configText: m.config === null ? null : readModuleConfig(m.config, m.name),
    configPath: m.config,
    policy: m.policy,
  }));
  const store = new StateStore(stateDir);
  if (existsSync(store.path(MODULES_FILE))) {
    for (const rec of readRegistry(store)) {
      if (!specs.some((s) => s.name === rec.name)) specs.push({ name: rec.name, ref: rec.name, configText: null, policy: null });
    }
  }
  if (specs.length === 0) {
    for (const name of DEFAULT_MODULES) if (shippedModuleNames().includes(name)) specs.push({ name, ref: name, configText: null, policy: null });
  }
  return specs;
}

/** Resolves a module argument to its name (checks a named file exists, or the name is known). */
export function specRef(arg: string, stateDir: string): { name: string; ref: string } {
  return { name: resolveModuleRef(arg, stateDir).name, ref: arg };
}

/** Builds one spec's runner (undefined when the name resolves to nothing to run). */
export async function buildModule(spec: ModuleSpec, stateDir: string): Promise<EngineModule | undefined> {
  const [mod] = await loadModules([spec.ref], {
    stateDir,
    clock: 'wall',
    unsafeInThread: spec.isolation === 'thread',
    ...(spec.policy !== null ? { policy: spec.policy } : {}),
    ...(spec.configText !== null ? { configs: new Map([[spec.name, spec.configText]]) } : {}),
    ...(spec.configPath ? { configFiles: new Map([[spec.name, spec.configPath]]) } : {}),
    giveConfig: (name) => `the daemon config file (modules: - name: ${name}, config: FILE), or secuxflow module load FILE --config CONFIG`,
  });
  return mod;
}

/**
 * Builds runners for specs, closing what was built when one fails (nothing
 * half-loaded). `buildOne` lets a caller wrap each build (the queue thread
 * stamps it for the watchdog).
 */
export async function buildModules(
  specs: readonly ModuleSpec[],
  stateDir: string,
  buildOne: (spec: ModuleSpec, stateDir: string) => Promise<EngineModule | undefined> = buildModule,
): Promise<EngineModule[]> {
  const out: EngineModule[] = [];
  try {
    for (const spec of specs) {
      const mod = await buildOne(spec, stateDir);
      if (mod) out.push(mod);
    }
  } catch (e) {
    closeModules(out);
    throw e;
  }
  return out;
}

export function closeModules(mods: readonly EngineModule[]): void {
  for (const m of mods) {
    const r = m.instance as { close?: () => void };
    try {
      r.close?.();
    } catch {
      // closing is best effort
    }
  }
}
