// A module alone on packets already in its memory: the batch is written once,
// then on_batch runs again and again over it. What remains is the module's
// own cost per packet, plus one JS->WASM call per batch. Each figure is the
// median of rounds that interleave the measures.
//
// Batches come from the mixed capture, read by the capture reader as the
// offline pipeline reads it: frames are views into the reader's chunks, so
// runs of them are copied in one piece. The trivial module's host path (and
// so the host overhead) takes 256 consecutive packets, as an inspect rule
// hands them over; it is also measured with every frame in a buffer of its
// own, where each frame needs a copy of its own. basic_inspect takes 256
// packets with a payload, so it has work on each, and its flows are ended
// (untimed) before each call, so each call scans as it would on new flows.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCapture } from '../host/capture/reader.js';
import { decodePacket } from '../host/packet/decode.js';
import { loadInspectorFile } from '../host/wasm/loader.js';
import { InspectorInstance, type BatchOutput, type InspectItem } from '../host/wasm/instance.js';
import { FlowTable } from '../host/flow/table.js';
import { packageRoot, shippedModulesDir } from '../host/paths.js';
import { median } from './stats.js';

const BATCH = 256;

/** CPU time (user+system) in ns: steadier than wall time on a shared machine. */
function cpuNs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

/** bench/header-check-sdk compiled as build-modules compiles a module (asconfig.json, release). */
async function sdkHeaderCheck(): Promise<InspectorInstance> {
  const dir = mkdtempSync(join(tmpdir(), 'sf-bench-hc-'));
  try {
    const out = join(dir, 'header_check_sdk.wasm');
    const root = packageRoot();
    execFileSync(join(root, 'node_modules', '.bin', 'asc'), ['bench/header-check-sdk/index.ts', '--config', 'asconfig.json', '--target', 'release', '-o', out], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
    return await instanceFor(out, 'header_check_sdk');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function instanceFor(path: string, name: string): Promise<InspectorInstance> {
  return InspectorInstance.create(await loadInspectorFile(path, name), { clock: 'packet', logger: () => {} });
}

function newOutput(): BatchOutput {
  return { verdicts: new Uint8Array(BATCH), verdictArgs: new Uint16Array(BATCH), alerts: [], events: [] };
}

/** CPU ns per packet of `batches` calls of fn, each over BATCH packets. */
function timed(batches: number, fn: () => void): number {
  const t = cpuNs();
  for (let i = 0; i < batches; i++) fn();
  return (cpuNs() - t) / (batches * BATCH);
}

/** The module alone: on_batch over records already in its memory. */
function inWasm(instance: InspectorInstance): () => void {
  return () => { instance.replayBatch(BATCH); };
}

/**
 * A stateful module: fn (a replay or the host path) timed over `batches`
 * calls, with the batch's flows ended (not timed) before each. Run again and
 * again over the same flows, basic_inspect would soon find every flow decided
 * or past its inspection depth and skip the scan, which is not what it costs
 * on traffic (it once reported 27-43 ns here against ~300 ns in the pipeline).
 */
function freshFlows(instance: InspectorInstance, items: InspectItem[], fn: () => void): (batches: number) => number {
  const flows = [...new Set(items.map((it) => it.flowId))];
  return (batches) => {
    let spent = 0;
    for (let i = 0; i < batches; i++) {
      for (const id of flows) instance.flowEnded(id);
      const t = cpuNs();
      fn();
      spent += cpuNs() - t;
    }
    return spent / (batches * BATCH);
  };
}

/** The whole host path per batch: records and bytes written, the call, verdicts read back. */
function hostPath(instance: InspectorInstance, items: InspectItem[]): () => void {
  const out = newOutput();
  return () => {
    out.alerts.length = 0;
    out.events.length = 0;
    instance.inspect(items, BATCH, out);
  };
}

type BatchPick = 'consecutive' | 'payload' | 'own-buffers';

/**
 * BATCH packets of the capture that the flow table tracks: consecutive ones
 * as an inspect rule hands them to a module; only those with a payload, so
 * that basic_inspect has work on every packet; or consecutive ones, each
 * frame copied out of the reader's chunk into a buffer of its own.
 */
function batchFrom(pcap: string, pick: BatchPick): InspectItem[] {
  const table = new FlowTable();
  const items: InspectItem[] = [];
  for (const f of openCapture(pcap).frames()) {
    const pkt = pick === 'own-buffers'
      ? decodePacket(f.data.slice(), f.linkType, f.tsSec, f.tsNsec, f.wireLen)
      : decodePacket(f.data, f.linkType, f.tsSec, f.tsNsec, f.wireLen, f.seq, f.offset);
    const t = table.track(pkt);
    if (t === null || (pick === 'payload' && pkt.payloadLength === 0)) continue;
    items.push({ pkt, flowId: t.flow.id, direction: t.direction, flags: 0, stream: null, streamNew: 0 });
    if (items.length === BATCH) break;
  }
  return items;
}

export async function moduleOnlyBench(pcap: string): Promise<Record<string, number>> {
  const items = batchFrom(pcap, 'consecutive');
  const payloadItems = batchFrom(pcap, 'payload');
  const ownItems = batchFrom(pcap, 'own-buffers');
  const basicPath = join(shippedModulesDir(), 'basic_inspect.wasm');
  const trivialPath = join(packageRoot(), 'bench', 'port80.wat');
  const basicInst = await instanceFor(basicPath, 'basic_inspect');
  const trivialInst = await instanceFor(trivialPath, 'port80');
  const headerInst = await instanceFor(join(packageRoot(), 'bench', 'header-check.wat'), 'header_check');
  const headerSdkInst = await sdkHeaderCheck();
  // Records written once for the in-WASM measures (replayBatch reuses them).
  basicInst.inspect(payloadItems, BATCH, newOutput());
  trivialInst.inspect(items, BATCH, newOutput());
  headerInst.inspect(items, BATCH, newOutput());
  headerSdkInst.inspect(items, BATCH, newOutput());
  const basicAlone = freshFlows(basicInst, payloadItems, inWasm(basicInst));
  const basicHostRun = freshFlows(basicInst, payloadItems, hostPath(basicInst, payloadItems));
  const measures = {
    headerCheck: { fn: inWasm(headerInst), batches: 1000 },
    headerCheckSdk: { fn: inWasm(headerSdkInst), batches: 1000 },
    trivial: { fn: inWasm(trivialInst), batches: 1000 },
    trivialHost: { fn: hostPath(trivialInst, items), batches: 250 },
    trivialHostOwn: { fn: hostPath(trivialInst, ownItems), batches: 250 },
  };
  type Name = keyof typeof measures;
  const names = Object.keys(measures) as Name[];
  // Warm-up long enough for the optimizing compiler, then rounds that take
  // every measure in turn, so load from other processes falls on all of them.
  for (const n of names) timed(measures[n].batches * 2, measures[n].fn);
  basicAlone(500);
  basicHostRun(250);
  const runs: Record<Name | 'basic' | 'basicHost', number[]> = { headerCheck: [], headerCheckSdk: [], basic: [], trivial: [], trivialHost: [], basicHost: [], trivialHostOwn: [] };
  const overhead: number[] = [];
  const overheadOwn: number[] = [];
  for (let round = 0; round < 9; round++) {
    for (const n of names) runs[n].push(timed(measures[n].batches, measures[n].fn));
    runs.basic.push(basicAlone(250));
    runs.basicHost.push(basicHostRun(100));
    // Host path of the trivial module minus the trivial module alone, in the same round.
    overhead.push(runs.trivialHost[round]! - runs.trivial[round]!);
    overheadOwn.push(runs.trivialHostOwn[round]! - runs.trivial[round]!);
  }
  const basic = median(runs.basic);
  const trivial = median(runs.trivial);
  const trivialHost = median(runs.trivialHost);
  const basicHost = median(runs.basicHost);
  const hostOverhead = median(overhead);
  const hostOverheadOwn = median(overheadOwn);
  const headerCheck = median(runs.headerCheck);
  const headerCheckSdk = median(runs.headerCheckSdk);
  const r = (x: number) => Math.round(x * 100) / 100;
  return {
    basic_inspect_in_wasm_ns_per_packet: r(basic),
    wasm_port80_in_wasm_ns_per_packet: r(trivial),
    host_path_port80_ns_per_packet: r(trivialHost),
    host_path_basic_inspect_ns_per_packet: r(basicHost),
    host_overhead_ns_per_packet: r(hostOverhead),
    ratio_host_overhead_vs_wasm_trivial_check: r(hostOverhead / trivial),
    host_overhead_frames_in_own_buffers_ns_per_packet: r(hostOverheadOwn),
    wasm_header_check_in_wasm_ns_per_packet: r(headerCheck),
    ratio_host_overhead_vs_wasm_header_check: r(hostOverhead / headerCheck),
    wasm_header_check_sdk_in_wasm_ns_per_packet: r(headerCheckSdk),
    ratio_host_overhead_vs_wasm_header_check_sdk: r(hostOverhead / headerCheckSdk),
  };
}
