// The engine's counters carry what its modules dropped over their output
// budgets during the run, and the EVE stats record reports it.
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../../host/engine/engine.js';
import { statsRecord } from '../../../host/eve/format.js';
import { createModuleRunner, type ManagedRunner } from '../../../host/sandbox/runner.js';
import { DEFAULT_LIMITS } from '../../../host/wasm/abi.js';
import { bytes, compileFixture, item, output } from '../wasm/helpers.js';
import { packet } from './support.js';

const runners: ManagedRunner[] = [];
afterAll(() => { for (const r of runners) r.close(); });

describe('module drops in the engine counters', () => {
  it('a run whose module is asked for 300 alerts in one batch counts 300 - budget dropped, and stats.modules reports it', async () => {
    const r = await createModuleRunner(await compileFixture('probe'), { logger: () => {} });
    runners.push(r);
    // Drops before this engine took the runner are not this run's.
    r.inspect([item(packet({ payload: bytes('N') })), item(packet({ payload: bytes('N') })), item(packet({ payload: bytes('N') }))], 3, output(3));
    expect(r.stats().alertsDropped).toBe(300 - DEFAULT_LIMITS.ALERTS_PER_BATCH);
    const engine = new Engine({ rules: { defaultPolicy: 'inspect', rules: [] }, modules: [{ name: 'probe', instance: r }], batchSize: 64 });
    // In-order segments: a resent one would start a batch of its own (a module may have dropped the first copy).
    for (let t = 0; t < 3; t++) engine.pushDecoded(packet({ payload: bytes('N'), seq: 1000 + t }, t * 0.01));
    const c = engine.finish();
    expect(c.alerts).toBe(DEFAULT_LIMITS.ALERTS_PER_BATCH);
    expect(c).toMatchObject({ alertsDropped: 300 - DEFAULT_LIMITS.ALERTS_PER_BATCH, eventsDropped: 0, logsDropped: 0 });
    const rec = statsRecord(c, 0, 1) as { stats: { modules: Record<string, number> } };
    expect(rec.stats.modules).toEqual({ failures: 0, verdict_errors: 0, alerts_dropped: 300 - DEFAULT_LIMITS.ALERTS_PER_BATCH, events_dropped: 0, logs_dropped: 0 });
  });
});
