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

async function inWasmNs(path: string, name: string, items: InspectItem[], rounds: number): Promise<number> {
  const instance = await InspectorInstance.create(await loadInspectorFile(path, name), { clock: 'packet', logger: () => {} });
  const out: BatchOutput = { verdicts: new Uint8Array(BATCH), verdictArgs: new Uint16Array(BATCH), alerts: [], events: [] };
  instance.inspect(items, BATCH, out);
  for (let i = 0; i < 100; i++) instance.replayBatch(BATCH);
  const t = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) instance.replayBatch(BATCH);
  return Number(process.hrtime.bigint() - t) / (rounds * BATCH);
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
  const basic = await inWasmNs(join(shippedModulesDir(), 'basic_inspect.wasm'), 'basic_inspect', items, rounds);
  const trivial = await inWasmNs(join(packageRoot(), 'bench', 'port80.wat'), 'port80', items, rounds);
  return {
    basic_inspect_in_wasm_ns_per_packet: Math.round(basic * 100) / 100,
    wasm_port80_in_wasm_ns_per_packet: Math.round(trivial * 100) / 100,
  };
}
