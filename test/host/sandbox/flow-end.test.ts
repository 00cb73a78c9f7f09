// on_flow_end reaches a sandboxed module once per flow it saw, including the
// flows that end with the capture (no batch follows them).
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openCapture } from '../../../host/capture/reader.js';
import { Engine } from '../../../host/engine/engine.js';
import { loadModuleFile } from '../../../host/modules/load.js';
import { createModuleRunner, type ManagedRunner } from '../../../host/sandbox/runner.js';
import { DEMO_PCAP, INSPECT_ALL } from './support.js';

const runners: ManagedRunner[] = [];
afterAll(() => { for (const r of runners) r.close(); });

describe('flow ends in the sandbox', () => {
  it('are delivered once per flow the module saw, the last ones once the caller yields', async () => {
    let ends = 0;
    const mod = await loadModuleFile(join(import.meta.dirname, 'fixtures', 'flow_end_logger.wat'), { name: 'fe' });
    // Its one line per flow end counts them: the flow ends between two batches share one log budget, made room for here.
    const runner = await createModuleRunner(mod, { clock: 'packet', logBudget: 1_000_000, logger: (_m, _l, msg) => { if (msg === 'flow end') ends++; } });
    runners.push(runner);
    const seen = new Set<number>();
    const engine = new Engine({
      rules: INSPECT_ALL, modules: [{ name: 'fe', instance: runner }], batchSize: 16,
      onDecision: (d) => { if (d.modules.length > 0 && d.flow) seen.add(d.flow.id); },
    });
    for (const f of openCapture(DEMO_PCAP).frames()) engine.push(f);
    engine.finish();
    expect(seen.size).toBeGreaterThan(10);
    expect(ends).toBeLessThan(seen.size);
    await Promise.resolve();
    expect(ends).toBe(seen.size);
  });
});
