// Building and running the AssemblyScript modules in tests, for every module's
// test folder: build/modules/<name>.wasm is rebuilt only when a source it can
// import is newer, and compiled once per test file.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InspectorInstance } from '../../host/wasm/instance.js';
import { compileInspector, type CompiledInspector } from '../../host/wasm/loader.js';
import type { InspectItem, InspectorOptions, ModuleAlert, ModuleEvent } from '../../host/wasm/types.js';
import { output, repoRoot } from '../host/wasm/helpers.js';

function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return readdirSync(path).reduce((m, f) => Math.max(m, newestMtime(join(path, f))), st.mtimeMs);
}

/** What a module's build reads: the SDK, its folder, and the folders of other modules it imports from (tls_inspect and ssh_guard use dns_guard's). */
function sources(name: string): string[] {
  const own = join(repoRoot, 'modules', name);
  const paths = new Set([join(repoRoot, 'asconfig.json'), join(repoRoot, 'modules', 'sdk'), own]);
  for (const f of readdirSync(own).filter((f) => f.endsWith('.ts'))) {
    for (const m of readFileSync(join(own, f), 'utf8').matchAll(/from "\.\.\/(\w+)\//g)) paths.add(join(repoRoot, 'modules', m[1]!));
  }
  return [...paths];
}

/** build/modules/<name>.wasm, built first when missing or older than its sources. */
export function builtModule(name: string): string {
  const out = join(repoRoot, 'build', 'modules', `${name}.wasm`);
  if (existsSync(out) && statSync(out).mtimeMs >= Math.max(...sources(name).map(newestMtime))) return out;
  mkdirSync(join(repoRoot, 'build', 'modules'), { recursive: true });
  // Build beside the target and rename, so parallel test files never read half a file.
  const tmp = `${out}.${process.pid}.tmp`;
  // A module that needs other limits (more memory) has an asconfig.json extending the root one.
  const own = join('modules', name, 'asconfig.json');
  execFileSync(join(repoRoot, 'node_modules', '.bin', 'asc'),
    [join('modules', name, 'index.ts'), '--config', existsSync(join(repoRoot, own)) ? own : 'asconfig.json', '--target', 'release', '-o', tmp],
    { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'], timeout: 180_000 });
  renameSync(tmp, out);
  return out;
}

const compiled = new Map<string, Promise<CompiledInspector>>();

export function compiledModule(name: string): Promise<CompiledInspector> {
  let c = compiled.get(name);
  if (!c) { c = compileInspector(name, new Uint8Array(readFileSync(builtModule(name)))); compiled.set(name, c); }
  return c;
}

export interface LogLine { level: string; message: string }

/** An instance with its log lines kept in `logs`, and output budgets no test reaches. */
export async function instance(name: string, config?: unknown, logs: LogLine[] = [], options: InspectorOptions = {}): Promise<InspectorInstance> {
  return InspectorInstance.create(await compiledModule(name), {
    ...options,
    ...(config !== undefined ? { config: typeof config === 'string' ? config : JSON.stringify(config) } : {}),
    logger: (_m, level, message) => { logs.push({ level, message }); },
    alertBudget: 100_000,
    eventBudget: 100_000,
  });
}

export interface RunResult { verdicts: number[]; args: number[]; alerts: ModuleAlert[]; events: ModuleEvent[] }

export function run(inst: InspectorInstance, items: InspectItem[]): RunResult {
  const out = output(items.length);
  inst.inspect(items, items.length, out);
  return { verdicts: Array.from(out.verdicts), args: Array.from(out.verdictArgs), alerts: out.alerts, events: out.events };
}
