// Turns a --module argument (a shipped module's name, or a .wasm/.wat path)
// into a compiled inspector.
import { existsSync, readdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { SecuxflowError } from '../errors.js';
import { shippedModulesDir } from '../paths.js';
import { loadInspectorFile, type CompiledInspector } from '../wasm/loader.js';

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
}

export function resolveModuleRef(arg: string): ModuleRef {
  const looksLikePath = arg.includes('/') || /\.(wasm|wat)$/.test(arg);
  if (looksLikePath) {
    if (!existsSync(arg)) throw new SecuxflowError('E_MODULE_NOT_FOUND', `module file ${arg} does not exist`);
    return { name: basename(arg, extname(arg)).replace(/[^a-z0-9_-]/gi, '_').toLowerCase(), path: arg };
  }
  if (!NAME_RE.test(arg)) {
    throw new SecuxflowError('E_USAGE', `--module "${arg}" is neither a module name nor a .wasm/.wat file`);
  }
  const path = join(shippedModulesDir(), `${arg}.wasm`);
  if (!existsSync(path)) {
    const names = shippedModuleNames();
    throw new SecuxflowError('E_MODULE_NOT_FOUND', `no shipped module named "${arg}"`,
      names.length ? `shipped modules: ${names.join(', ')}` : 'no modules are built: run npm run build');
  }
  return { name: arg, path };
}

export async function compileModuleRef(ref: ModuleRef): Promise<CompiledInspector> {
  return loadInspectorFile(ref.path, ref.name);
}
