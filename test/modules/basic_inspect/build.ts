// Builds an AssemblyScript module once per source change, shared by test files:
// build/modules/<name>.wasm is reused when it is newer than every source file.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { compileInspector, type CompiledInspector } from '../../../host/wasm/loader.js';
import { repoRoot } from '../../host/wasm/helpers.js';

function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return readdirSync(path).reduce((m, f) => Math.max(m, newestMtime(join(path, f))), st.mtimeMs);
}

export function builtModulePath(name: string): string {
  const out = join(repoRoot, 'build', 'modules', `${name}.wasm`);
  const sources = Math.max(newestMtime(join(repoRoot, 'modules', 'sdk')), newestMtime(join(repoRoot, 'modules', name)), newestMtime(join(repoRoot, 'asconfig.json')));
  if (existsSync(out) && statSync(out).mtimeMs >= sources) return out;
  mkdirSync(join(repoRoot, 'build', 'modules'), { recursive: true });
  // Build beside the target and rename, so parallel test files never read half a file.
  const tmp = `${out}.${process.pid}.tmp`;
  // A module that needs other limits (more memory) has an asconfig.json extending the root one.
  const own = join('modules', name, 'asconfig.json');
  execFileSync(join(repoRoot, 'node_modules', '.bin', 'asc'),
    [join('modules', name, 'index.ts'), '--config', existsSync(join(repoRoot, own)) ? own : 'asconfig.json', '--target', 'release', '-o', tmp],
    { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 });
  renameSync(tmp, out);
  return out;
}

export async function compileBuilt(name: string): Promise<CompiledInspector> {
  return compileInspector(name, new Uint8Array(readFileSync(builtModulePath(name))));
}
