// A module alone on packets already in its memory: the batch is written once,
// then on_batch runs again and again over it. What remains is the module's
// own cost per packet, plus one JS->WASM call per batch.
import { join } from 'node:path';
import type { RawFrame } from '../host/capture/types.js';
import { decodePacket } from '../host/packet/decode.js';
import { loadInspectorFile } from '../host/wasm/loader.js';
import { InspectorInstance, type BatchOutput, type InspectItem } from '../host/wasm/instance.js';
import { FlowTable } from '../host/flow/table.js';
import { packageRoot, shippedModulesDir } from '../host/paths.js';

const BATCH = 256;

/** CPU time (user+system) in ns: steadier than wall time on a shared machine. */
function cpuNs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

async function instanceFor(path: string, name: string): Promise<InspectorInstance> {
  return InspectorInstance.create(await loadInspectorFile(path, name), { clock: 'packet', logger: () => {} });
}

function newOutput(): BatchOutput {
  return { verdicts: new Uint8Array(BATCH), verdictArgs: new Uint16Array(BATCH), alerts: [], events: [] };
}

/** The module alone: on_batch over records already in its memory. */
async function inWasmNs(path: string, name: string, items: InspectItem[], rounds: number): Promise<number> {
  const instance = await instanceFor(path, name);
  instance.inspect(items, BATCH, newOutput());
  for (let i = 0; i < 100; i++) instance.replayBatch(BATCH);
  const t = cpuNs();
  for (let i = 0; i < rounds; i++) instance.replayBatch(BATCH);
  return (cpuNs() - t) / (rounds * BATCH);
}

/** The whole host path per batch: records and bytes written, the call, verdicts read back. */
async function hostPathNs(path: string, name: string, items: InspectItem[], rounds: number): Promise<number> {
  const instance = await instanceFor(path, name);
  const out = newOutput();
  for (let i = 0; i < 100; i++) instance.inspect(items, BATCH, out);
  const t = cpuNs();
  for (let i = 0; i < rounds; i++) {
    out.alerts.length = 0;
    out.events.length = 0;
    instance.inspect(items, BATCH, out);
  }
  return (cpuNs() - t) / (rounds * BATCH);
}

export async function moduleOnlyBench(frames: RawFrame[]): Promise<Record<string, number>> {
  // A batch of payload-carrying packets from the mixed capture, with real flow ids.
  const table = new FlowTable();
  const items: InspectItem[] = [];
  for (const f of frames) {
    const pkt = decodePacket(f.data, f.linkType, f.tsSec, f.tsNsec);
    const t = table.track(pkt);
    if (t === null || pkt.payloadLength === 0) continue;
    items.push({ pkt, flowId: t.flow.id, direction: t.direction, flags: 0, stream: null, streamNew: 0 });
    if (items.length === BATCH) break;
  }
  const rounds = 4000;
  const basicPath = join(shippedModulesDir(), 'basic_inspect.wasm');
  const trivialPath = join(packageRoot(), 'bench', 'port80.wat');
  const basic = await inWasmNs(basicPath, 'basic_inspect', items, rounds);
  const trivial = await inWasmNs(trivialPath, 'port80', items, rounds);
  const trivialHost = await hostPathNs(trivialPath, 'port80', items, rounds / 4);
  const basicHost = await hostPathNs(basicPath, 'basic_inspect', items, rounds / 4);
  const r = (x: number) => Math.round(x * 100) / 100;
  return {
    basic_inspect_in_wasm_ns_per_packet: r(basic),
    wasm_port80_in_wasm_ns_per_packet: r(trivial),
    host_path_port80_ns_per_packet: r(trivialHost),
    host_path_basic_inspect_ns_per_packet: r(basicHost),
    host_overhead_ns_per_packet: r(trivialHost - trivial),
    ratio_host_overhead_vs_wasm_trivial_check: r((trivialHost - trivial) / trivial),
  };
}
