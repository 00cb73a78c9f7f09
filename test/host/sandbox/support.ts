// Runs samples/demo.pcap through the real engine with given runners and
// records every packet's final verdict and every alert, so two runs can be
// compared packet by packet.
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { openCapture } from '../../../host/capture/reader.js';
import { Engine, type EngineModule } from '../../../host/engine/engine.js';
import type { RuleSet } from '../../../host/rules/types.js';

export const ROOT = join(import.meta.dirname, '..', '..', '..');
export const DEMO_PCAP = join(ROOT, 'samples', 'demo.pcap');
export const BASIC_WASM = join(ROOT, 'build', 'modules', 'basic_inspect.wasm');

export function requireBuilt(): void {
  for (const f of [DEMO_PCAP, BASIC_WASM]) if (!existsSync(f)) throw new Error(`${f} is missing: run npm run build first (npm test does it)`);
}

export interface RunRecord {
  verdicts: number[];
  /** Per module: "index:sid" for every alert. */
  alerts: Map<string, string[]>;
  failures: Map<string, number>;
  packets: number;
  elapsedMs: number;
}

export const INSPECT_ALL: RuleSet = { defaultPolicy: 'inspect', rules: [] };

export function runDemo(modules: EngineModule[], rules: RuleSet = INSPECT_ALL, batchSize = 64): RunRecord {
  const rec: RunRecord = { verdicts: [], alerts: new Map(), failures: new Map(), packets: 0, elapsedMs: 0 };
  for (const m of modules) { rec.alerts.set(m.name, []); rec.failures.set(m.name, 0); }
  const engine = new Engine({
    rules, modules, batchSize,
    onDecision: (d) => {
      rec.verdicts[d.index] = d.verdict;
      for (const run of d.modules) {
        for (const a of run.alerts) rec.alerts.get(run.module)!.push(`${d.index}:${a.sigId}`);
        if (run.failure !== null) rec.failures.set(run.module, rec.failures.get(run.module)! + 1);
      }
    },
  });
  const t0 = performance.now();
  for (const frame of openCapture(DEMO_PCAP).frames()) engine.push(frame);
  const c = engine.finish();
  rec.elapsedMs = performance.now() - t0;
  rec.packets = c.packetsRead;
  return rec;
}
