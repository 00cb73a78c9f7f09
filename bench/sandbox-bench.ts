// Sandbox benchmark: what the worker sandbox (shared-memory batch, watchdog
// wait, accounting) costs per batch compared with the same module called in
// the host's thread, and what the component model's calling convention costs
// compared with the core twin. All in one process, so the ratios hold on a
// noisy machine. Usage: node dist/bench-sandbox.js OUT.json [batches]
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openCapture } from '../host/capture/reader.js';
import { decodePacket } from '../host/packet/decode.js';
import { packageRoot } from '../host/paths.js';
import { loadModuleFile } from '../host/modules/load.js';
import { createModuleRunner, type ManagedRunner } from '../host/sandbox/runner.js';
import type { BatchOutput, InspectItem } from '../host/wasm/types.js';
import { median } from './stats.js';

const BATCH = 256;
const out = process.argv[2] ?? 'sandbox-bench.json';
const batches = Number(process.argv[3] ?? 2000);
const root = packageRoot();
const modules = join(root, 'build', 'modules');

function demoItems(): InspectItem[] {
  const items: InspectItem[] = [];
  let id = 1;
  for (const f of openCapture(join(root, 'samples', 'demo.pcap')).frames()) {
    const pkt = decodePacket(f.data, f.linkType, f.tsSec, f.tsNsec, f.wireLen);
    items.push({ pkt, flowId: id++, direction: 0, flags: 0, stream: null, streamNew: 0 });
  }
  // Whole batches of real packets, repeated.
  const batch: InspectItem[] = [];
  for (let i = 0; i < BATCH; i++) batch.push(items[i % items.length]!);
  return batch;
}

/** Mean µs per batch of `count` batches. */
function round(runner: ManagedRunner, items: InspectItem[], count: number): number {
  const o: BatchOutput = { verdicts: new Uint8Array(BATCH), verdictArgs: new Uint16Array(BATCH), alerts: [], events: [] };
  const t = process.hrtime.bigint();
  for (let b = 0; b < count; b++) {
    o.alerts.length = 0;
    o.events.length = 0;
    runner.inspect(items, BATCH, o);
  }
  return Number(process.hrtime.bigint() - t) / 1000 / count;
}

/**
 * Rounds of A and B alternate, so load from other processes hits both alike;
 * each figure is the median over 7 rounds, the ratio the median of per-round ratios.
 */
function compare(a: ManagedRunner, nA: number, b: ManagedRunner, nB: number): { a: number; b: number; ratio: number } {
  round(a, items, Math.max(50, nA >> 3));
  round(b, items, Math.max(50, nB >> 3));
  const as: number[] = [];
  const bs: number[] = [];
  const rs: number[] = [];
  for (let r = 0; r < 7; r++) {
    const x = round(a, items, nA);
    const y = round(b, items, nB);
    as.push(x);
    bs.push(y);
    rs.push(y / x);
  }
  return { a: median(as), b: median(bs), ratio: median(rs) };
}

async function make(file: string, unsafeInThread: boolean): Promise<ManagedRunner> {
  const mod = await loadModuleFile(join(modules, file));
  // The CPU budget is generous here: the benchmark measures overhead, not the watchdog firing.
  return createModuleRunner(mod, { unsafeInThread, clock: 'packet', logger: () => {}, limits: { cpuBudgetMs: 5000 } });
}

const round2 = (x: number): number => Math.round(x * 100) / 100;
const items = demoItems();
const result: Record<string, unknown> = { bench: 'sandbox', date: new Date().toISOString(), batchSize: BATCH, batchesPerRound: batches, unit: 'µs per batch of 256 demo-capture packets (median of 7 alternating rounds)' };

for (const [label, file] of [['basic_inspect', 'basic_inspect.wasm'], ['port_guard', 'port_guard.wasm']] as const) {
  const inThread = await make(file, true);
  const sandboxed = await make(file, false);
  const { a, b, ratio } = compare(inThread, batches, sandboxed, batches);
  inThread.close();
  sandboxed.close();
  result[`sandbox_${label}`] = { inThreadUs: round2(a), sandboxedUs: round2(b), overheadUsPerBatch: round2(b - a), ratio: round2(ratio) };
  console.log(`sandbox ${label}: in-thread ${a.toFixed(1)} µs, sandboxed ${b.toFixed(1)} µs per batch (x${ratio.toFixed(2)})`);
}

for (const unsafe of [true, false]) {
  const core = await make('port_guard.wasm', unsafe);
  const comp = await make('port_guard_component.wasm', unsafe);
  const { a, b, ratio } = compare(core, batches, comp, Math.max(100, batches >> 2));
  core.close();
  comp.close();
  const where = unsafe ? 'in_thread' : 'sandboxed';
  result[`component_vs_core_${where}`] = { coreUs: round2(a), componentUs: round2(b), ratio: round2(ratio), nsPerPacketCore: round2((a * 1000) / BATCH), nsPerPacketComponent: round2((b * 1000) / BATCH) };
  console.log(`component vs core (${where}): core ${a.toFixed(1)} µs, component ${b.toFixed(1)} µs per batch (x${ratio.toFixed(2)})`);
}

writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
console.log(`wrote ${out}`);
