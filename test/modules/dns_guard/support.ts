// Running a built module on packets built by the tests; shared by the
// dns_guard, tls_inspect and ssh_guard tests.
import { InspectorInstance } from '../../../host/wasm/instance.js';
import type { CompiledInspector } from '../../../host/wasm/loader.js';
import type { InspectItem, ModuleAlert, ModuleEvent } from '../../../host/wasm/types.js';
import { output } from '../../host/wasm/helpers.js';
import { compileBuilt } from '../basic_inspect/build.js';

const compiled = new Map<string, Promise<CompiledInspector>>();

export function compiledModule(name: string): Promise<CompiledInspector> {
  let c = compiled.get(name);
  if (!c) { c = compileBuilt(name); compiled.set(name, c); }
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
