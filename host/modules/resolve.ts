// Turns a --module argument (a registered or shipped module's name, or a
// .wasm/.wat path) into a compiled inspector. A registered name wins over a
// shipped one, and is only used while its file matches the pinned sha256.
import { existsSync, readdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { SecuxflowError } from '../errors.js';
import { shippedModulesDir } from '../paths.js';
import { loadInspectorFile, type CompiledInspector } from '../wasm/loader.js';
import { StateStore } from '../state/store.js';
import { findRegistered, MODULES_FILE, readPinned, readRegistry, type ModuleRecord } from './registry.js';
import { suggestName } from '../rules/suggest.js';
import { loadModuleFile, type LoadedModule } from './load.js';

const NAME_RE = /^[a-z][a-z0-9_-]*$/;

export function shippedModuleNames(): string[] {
  const dir = shippedModulesDir();
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith('.wasm')).map((f) => basename(f, '.wasm')).sort();
}

export interface ModuleRef {
  /** The name rules use to refer to the module. */
  name: string;
  path: string;
  /** Set when the name was found in the state directory's module registry. */
  registered?: ModuleRecord;
}

/** The registry of `stateDir`, or null when none is readable there (no registry is not an error). */
function registry(stateDir: string | undefined): StateStore | null {
  const store = new StateStore(stateDir);
  return existsSync(store.path(MODULES_FILE)) ? store : null;
}

/** Whether `name` is a registered or shipped module (what a rule may reference). */
export function moduleNameKnown(name: string, stateDir?: string): boolean {
  const store = registry(stateDir);
  if (store !== null && findRegistered(store, name) !== null) return true;
  return shippedModuleNames().includes(name);
}

export function resolveModuleRef(arg: string, stateDir?: string): ModuleRef {
  const looksLikePath = arg.includes('/') || /\.(wasm|wat)$/.test(arg);
  if (looksLikePath) {
    if (!existsSync(arg)) throw new SecuxflowError('E_MODULE_NOT_FOUND', `module file ${arg} does not exist`);
    return { name: basename(arg, extname(arg)).replace(/[^a-z0-9_-]/gi, '_').toLowerCase(), path: arg };
  }
  if (!NAME_RE.test(arg)) {
    throw new SecuxflowError('E_USAGE', `--module ${JSON.stringify(arg)} is neither a module name nor a .wasm/.wat file`);
  }
  const store = registry(stateDir);
  const rec = store !== null ? findRegistered(store, arg) : null;
  if (rec !== null) return { name: arg, path: rec.source, registered: rec };
  const path = join(shippedModulesDir(), `${arg}.wasm`);
  if (!existsSync(path)) {
    throw new SecuxflowError('E_MODULE_NOT_FOUND', `no shipped module named "${arg}", and none is registered under that name`, unknownModuleHint(arg, stateDir));
  }
  return { name: arg, path };
}

/** Names in the state directory's module registry (none when it has no registry). */
export function registeredModuleNames(stateDir?: string): string[] {
  const store = registry(stateDir);
  return store !== null ? readRegistry(store).map((m) => m.name) : [];
}

/** The hint for a module name neither registered nor shipped: the closest known name, then what there is. */
export function unknownModuleHint(name: string, stateDir?: string): string {
  const store = registry(stateDir);
  const names = shippedModuleNames();
  // A misspelt name of the user's own module is the likelier mistake than a module never registered.
  const registered = store !== null ? readRegistry(store).map((m) => m.name) : [];
  const guess = suggestName(name, [...registered, ...names]);
  const lists = [registered.length ? `registered modules: ${registered.join(', ')}` : '', names.length ? `shipped modules: ${names.join(', ')}` : ''].filter(Boolean).join('; ');
  if (guess !== undefined) return `did you mean ${guess}? ${lists}`;
  return names.length ? `${lists}; register your own with secuxflow module load FILE --name ${name}` : 'no modules are built: run npm run build';
}

export async function compileModuleRef(ref: ModuleRef): Promise<CompiledInspector> {
  if (ref.registered) {
    const loaded = await loadModuleFile(ref.path, { name: ref.name, bytes: readPinned(ref.registered), limits: ref.registered.limits });
    if (loaded.compiled === null) throw new SecuxflowError('E_MODULE_INVALID', `module ${ref.name} is a component; run it through loadModuleRef`);
    return loaded.compiled;
  }
  return loadInspectorFile(ref.path, ref.name);
}

/** Loads the module behind a ref for the sandbox; a registered module must still match its pinned sha256. */
export async function loadModuleRef(ref: ModuleRef): Promise<LoadedModule> {
  if (ref.registered) return loadModuleFile(ref.path, { name: ref.name, bytes: readPinned(ref.registered), limits: ref.registered.limits });
  return loadModuleFile(ref.path, { name: ref.name });
}
