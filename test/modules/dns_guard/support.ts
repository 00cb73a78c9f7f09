// Running a built module on packets built by the tests; shared by the
// dns_guard, tls_inspect and ssh_guard tests.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InspectorInstance } from '../../../host/wasm/instance.js';
import type { CompiledInspector } from '../../../host/wasm/loader.js';
import type { InspectItem, ModuleAlert, ModuleEvent } from '../../../host/wasm/types.js';
import { output, repoRoot } from '../../host/wasm/helpers.js';
import { compileInspector } from '../../../host/wasm/loader.js';

const compiled = new Map<string, Promise<CompiledInspector>>();

function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return readdirSync(path).reduce((m, f) => Math.max(m, newestMtime(join(path, f))), st.mtimeMs);
}

/**
 * build/modules/<name>.wasm, rebuilt when any source it can import is newer:
 * the SDK, the module's folder, and dns_guard's (tls_inspect and ssh_guard
 * import its domain list and config readers).
 */
export function builtModule(name: string): string {
  const out = join(repoRoot, 'build', 'modules', `${name}.wasm`);
  const dirs = ['modules/sdk', `modules/${name}`, 'modules/dns_guard', 'asconfig.json'];
  const newest = Math.max(...dirs.map((d) => newestMtime(join(repoRoot, d))));
  if (existsSync(out) && statSync(out).mtimeMs >= newest) return out;
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

export function compiledModule(name: string): Promise<CompiledInspector> {
  let c = compiled.get(name);
  if (!c) { c = compileInspector(name, new Uint8Array(readFileSync(builtModule(name)))); compiled.set(name, c); }
  return c;
}

export interface LogLine { level: string; message: string }

export async function instance(name: string, config?: unknown, logs: LogLine[] = []): Promise<InspectorInstance> {
  return InspectorInstance.create(await compiledModule(name), {
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

/** Items of one TCP direction whose payload is split into segments, each carrying the stream so far. */
export function streamItems(make: (payload: Uint8Array) => InspectItem, data: Uint8Array, cuts: number[]): InspectItem[] {
  const bounds = [0, ...cuts, data.length];
  const items: InspectItem[] = [];
  for (let i = 1; i < bounds.length; i++) {
    const seg = data.subarray(bounds[i - 1]!, bounds[i]!);
    const it = make(seg);
    items.push({ ...it, stream: data.subarray(0, bounds[i]!), streamNew: seg.length });
  }
  return items;
}

/**
 * New flows `firstId`, `firstId + 1`, … (256 a batch), each a packet to the
 * server carrying the stream `data`: the flow-flood tests' attack, each flow
 * left holding what `data` makes the module keep. A trap throws.
 */
export function floodFlows(inst: InspectorInstance, pkt: InspectItem['pkt'], data: Uint8Array, flows: number, firstId = 1): void {
  for (let base = 0; base < flows; base += 256) {
    const n = Math.min(256, flows - base);
    run(inst, Array.from({ length: n }, (_, i) => ({ pkt, flowId: firstId + base + i, direction: 0, flags: 0, stream: data, streamNew: data.length })));
  }
}
