// Running a built module on packets built by the tests; shared by the
// dns_guard, tls_inspect and ssh_guard tests. Their instances keep the wall
// clock (dlp/support.ts has the packet-clock ones).
import type { InspectorInstance } from '../../../host/wasm/instance.js';
import type { InspectItem } from '../../../host/wasm/types.js';
import { run } from '../support.js';

export { builtModule, compiledModule, instance, run, type LogLine, type RunResult } from '../support.js';

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
