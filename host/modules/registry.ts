// modules.json in the state directory: every module registered with
// `secuxflow module load`, pinned by the sha256 of its file. Written only
// under the state lock, replaced atomically.
import { existsSync } from 'node:fs';
import { SecuxflowError } from '../errors.js';
import { readConfigFile } from '../fs/read-config.js';
import { recoverHint, type StateStore } from '../state/store.js';
import { MODULE_POLICIES, resolveLimits, type SandboxLimits, type ModulePolicy } from '../sandbox/limits.js';
import type { RunnerCounters } from '../sandbox/governor.js';
import { readModuleBytes, sha256Hex, type ModuleKind } from './load.js';

export const MODULES_FILE = 'modules.json';

export interface ModuleCounters extends Pick<RunnerCounters, 'packets' | 'batches' | 'meanBatchUs' | 'p99BatchUs' | 'traps' | 'alerts' | 'status' | 'quarantineReason'> {
  /** Where the numbers come from: the validation run of `module load`, or a daemon. */
  origin: 'validation' | 'daemon';
  at: string;
}

export interface ModuleRecord {
  name: string;
  kind: ModuleKind;
  /** Absolute path of the module file. */
  source: string;
  sha256: string;
  abiVersion: number;
  policy: ModulePolicy;
  /** Absolute path of the config file handed to on_init, or null. */
  config: string | null;
  limits: SandboxLimits;
  loadedAt: string;
  counters: ModuleCounters | null;
}

interface RegistryDoc {
  modules: ModuleRecord[];
}

export type RegisteredStatus = 'ok' | 'quarantined' | 'changed-on-disk' | 'missing' | 'config-missing' | 'config-unreadable';

export function readRegistry(store: StateStore): ModuleRecord[] {
  const doc = store.readJson<RegistryDoc | null>(MODULES_FILE, null);
  if (doc === null) return [];
  if (!Array.isArray(doc.modules)) {
    throw new SecuxflowError('E_STATE', `state file ${store.path(MODULES_FILE)} is corrupt: "modules" is not a list`,
      `move it away (mv ${store.path(MODULES_FILE)} ${store.path(MODULES_FILE)}.bad) and register the modules again`);
  }
  doc.modules.forEach((m: unknown, i) => {
    const problem = recordProblem(m);
    if (problem !== null) {
      throw new SecuxflowError('E_STATE', `state file ${store.path(MODULES_FILE)} is corrupt: module entry ${i + 1} ${problem}`, recoverHint(store.path(MODULES_FILE)));
    }
  });
  return doc.modules;
}

const KINDS: readonly unknown[] = ['core', 'wat', 'component'];
const COUNTER_NUMBERS = ['packets', 'batches', 'meanBatchUs', 'p99BatchUs', 'traps'] as const;

/** What is wrong with one registry entry, or null: a hand-edited entry must not reach the code that trusts it. */
function recordProblem(m: unknown): string | null {
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return 'is not an object';
  const r = m as Record<string, unknown>;
  if (typeof r.name !== 'string' || !/^[a-z][a-z0-9_-]{0,63}$/.test(r.name)) return `has no valid "name" (found ${JSON.stringify(r.name) ?? 'none'})`;
  const of = `(${r.name})`;
  if (!KINDS.includes(r.kind)) return `${of}: "kind" must be one of ${KINDS.join(', ')}`;
  if (typeof r.source !== 'string' || r.source === '') return `${of}: "source" must be the module file's path`;
  if (typeof r.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(r.sha256)) return `${of}: "sha256" must be 64 hex digits`;
  if (!Number.isInteger(r.abiVersion)) return `${of}: "abiVersion" must be an integer`;
  if (!(MODULE_POLICIES as readonly unknown[]).includes(r.policy)) return `${of}: "policy" must be one of ${MODULE_POLICIES.join(', ')}`;
  if (r.config !== undefined && r.config !== null && typeof r.config !== 'string') return `${of}: "config" must be a path or null`;
  if (typeof r.loadedAt !== 'string') return `${of}: "loadedAt" must be a date`;
  if (typeof r.limits !== 'object' || r.limits === null || Array.isArray(r.limits)) return `${of}: "limits" must be an object`;
  try {
    resolveLimits(r.limits as Partial<SandboxLimits>);
  } catch (e) {
    return `${of}: "limits": ${e instanceof Error ? e.message : String(e)}`;
  }
  const c = r.counters;
  if (c === undefined || c === null) return null;
  if (typeof c !== 'object' || Array.isArray(c)) return `${of}: "counters" must be an object or null`;
  const counters = c as Record<string, unknown>;
  const bad = COUNTER_NUMBERS.find((k) => counters[k] !== undefined && typeof counters[k] !== 'number');
  if (bad) return `${of}: "counters.${bad}" must be a number`;
  if (counters.quarantineReason !== undefined && counters.quarantineReason !== null && typeof counters.quarantineReason !== 'string') return `${of}: "counters.quarantineReason" must be a string or null`;
  return null;
}

export function writeRegistry(store: StateStore, modules: ModuleRecord[]): void {
  store.writeJson(MODULES_FILE, { modules: [...modules].sort((a, b) => a.name.localeCompare(b.name)) });
}

/** The registry entry named `name`, or null; a missing registry file is an empty registry. */
export function findRegistered(store: StateStore, name: string): ModuleRecord | null {
  if (!existsSync(store.path(MODULES_FILE))) return null;
  return readRegistry(store).find((m) => m.name === name) ?? null;
}

/** Whether the file on disk still is what was registered. */
export function registeredStatus(rec: ModuleRecord): RegisteredStatus {
  if (!existsSync(rec.source)) return 'missing';
  let bytes: Uint8Array;
  try {
    bytes = readRegisteredBytes(rec);
  } catch (e) {
    return e instanceof SecuxflowError && e.code === 'E_MODULE_CHANGED' ? 'changed-on-disk' : 'missing';
  }
  if (sha256Hex(bytes) !== rec.sha256) return 'changed-on-disk';
  // A module whose registered config is gone is refused by inspect and run (E_IO) as surely as a missing module.
  if (registeredConfigProblem(rec) !== null) return existsSync(rec.config!) ? 'config-unreadable' : 'config-missing';
  return rec.counters?.status === 'quarantined' ? 'quarantined' : 'ok';
}

/**
 * Why the config file a module was registered with cannot be used now (gone,
 * not a regular file, unreadable), with what to do about it; null when it can
 * be read or there is none. The same read as inspect's and the daemon's.
 */
export function registeredConfigProblem(rec: ModuleRecord): { message: string; hint: string } | null {
  if (rec.config === null || rec.config === undefined) return null;
  const hint = `restore it, or register the module again with another config (secuxflow module load ${rec.source} --name ${rec.name} --config NEW, or --no-config)`;
  if (!existsSync(rec.config)) return { message: `its config ${rec.config} no longer exists`, hint };
  try {
    readConfigFile(rec.config, 'its config', hint);
    return null;
  } catch (e) {
    return { message: e instanceof Error ? e.message : String(e), hint };
  }
}

/**
 * The registered file's bytes, read no further than the size limit it was
 * registered under: a file now past it cannot be the one that was validated.
 */
function readRegisteredBytes(rec: ModuleRecord): Uint8Array {
  try {
    return readModuleBytes(rec.source, rec.limits.maxModuleMiB * 1024 * 1024);
  } catch (e) {
    if (!(e instanceof SecuxflowError && e.code === 'E_MODULE_LIMIT')) throw e;
    throw new SecuxflowError('E_MODULE_CHANGED',
      `registered module ${rec.name}: ${rec.source} changed on disk (it is now above the ${rec.limits.maxModuleMiB} MiB it was registered under); it is refused until registered again`,
      `if the change is yours, re-register it: secuxflow module load ${rec.source} --name ${rec.name} (with --max-module-mib if it really is that large)`);
  }
}

/** The file's bytes when they match the pinned sha256; E_MODULE_CHANGED otherwise. */
export function readPinned(rec: ModuleRecord): Uint8Array {
  if (!existsSync(rec.source)) {
    throw new SecuxflowError('E_MODULE_NOT_FOUND', `registered module ${rec.name}: its file ${rec.source} no longer exists`,
      `register it again from its new place (secuxflow module load FILE --name ${rec.name}) or remove it (secuxflow module unload ${rec.name})`);
  }
  const bytes = readRegisteredBytes(rec);
  const sha = sha256Hex(bytes);
  if (sha !== rec.sha256) {
    throw new SecuxflowError('E_MODULE_CHANGED',
      `registered module ${rec.name}: ${rec.source} changed on disk (sha256 ${sha.slice(0, 12)}…, registered ${rec.sha256.slice(0, 12)}…); it is refused until registered again`,
      `if the change is yours, re-register it: secuxflow module load ${rec.source} --name ${rec.name}`);
  }
  return bytes;
}
