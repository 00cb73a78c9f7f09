// What a module dropped over its output budgets reaches `secuxflow status`:
// runner counters -> the queue's module status -> the daemon's merged row ->
// the status text and JSON. The daemon's own status() needs the kernel, so the
// steps around it are checked here without one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueWorker } from '../../../host/daemon/queue-worker.js';
import { mergeModules, type DaemonStatus } from '../../../host/daemon/daemon.js';
import { DEFAULT_CONFIG } from '../../../host/daemon/config.js';
import { createModuleRunner, type ManagedRunner } from '../../../host/sandbox/runner.js';
import { describeLive } from '../../../cli/commands/status.js';
import { DEFAULT_LIMITS } from '../../../host/wasm/abi.js';
import type { CompiledInspector } from '../../../host/wasm/loader.js';
import { bytes, compileFixture, item, output, packet } from '../wasm/helpers.js';
import { validStatus } from '../control/fake-daemon.js';
import { loadModuleFile } from '../../../host/modules/load.js';
import { ROOT } from '../sandbox/support.js';
import { join } from 'node:path';

const runners: ManagedRunner[] = [];
afterAll(() => { for (const r of runners) r.close(); });
let probe: CompiledInspector;
beforeAll(async () => { probe = await compileFixture('probe'); });

/** A runner of the probe that was asked for 300 alerts in one batch ('N' asks for 100), so dropped 300 - budget. */
async function overBudget(unsafeInThread: boolean): Promise<ManagedRunner> {
  const r = await createModuleRunner(probe, { unsafeInThread, logger: () => {} });
  runners.push(r);
  r.inspect([0, 1, 2].map(() => item(packet({ payload: bytes('N') }))), 3, output(3));
  return r;
}

const DROPPED = 300 - DEFAULT_LIMITS.ALERTS_PER_BATCH;

describe('module drop counts in status', () => {
  it.each([false, true])('reach the runner counters and the queue\'s module status (in-thread %s)', async (unsafeInThread) => {
    const r = await overBudget(unsafeInThread);
    expect(r.stats()).toMatchObject({ alerts: DEFAULT_LIMITS.ALERTS_PER_BATCH, alertsDropped: DROPPED, eventsDropped: 0, logsDropped: 0 });
    const w = new QueueWorker({ rules: { defaultPolicy: 'inspect', rules: [] }, modules: [{ name: 'probe', instance: r }], config: DEFAULT_CONFIG, writeBack: null, output: { send: () => 0 }, eve: () => {} });
    expect(w.moduleStatus()[0]).toMatchObject({ name: 'probe', alertsDropped: DROPPED, eventsDropped: 0, logsDropped: 0 });
  });

  it.each([false, true])('log lines over the budget of the flow ends between two batches are counted (in-thread %s)', async (unsafeInThread) => {
    const mod = await loadModuleFile(join(ROOT, 'test', 'host', 'sandbox', 'fixtures', 'flow_end_logger.wat'), { name: 'fe' });
    const r = await createModuleRunner(mod, { unsafeInThread, logger: () => {} });
    runners.push(r);
    for (let id = 1; id <= DEFAULT_LIMITS.LOGS_PER_CALL + 8; id++) r.flowEnded(id);
    // Sandboxed flow ends are delivered once the caller yields.
    await new Promise((resolve) => setImmediate(resolve));
    expect(r.stats().logsDropped).toBe(8);
  });

  it('are summed over the queues and shown per module by status, in text and JSON', async () => {
    const row = (r: ManagedRunner) => new QueueWorker({ rules: { defaultPolicy: 'inspect', rules: [] }, modules: [{ name: 'probe', instance: r }], config: DEFAULT_CONFIG, writeBack: null, output: { send: () => 0 }, eve: () => {} }).moduleStatus();
    const modules = mergeModules([{ modules: row(await overBudget(false)) }, { modules: row(await overBudget(false)) }]);
    expect(modules).toEqual([expect.objectContaining({ name: 'probe', alertsDropped: 2 * DROPPED, eventsDropped: 0, logsDropped: 0 })]);
    const status = { ...validStatus(), modules } as unknown as DaemonStatus;
    const text = describeLive(status);
    expect(text).toMatch(/DROPPED A\/E\/L/);
    expect(text).toMatch(new RegExp(`probe .* ${2 * DROPPED}/0/0`));
    expect(JSON.parse(JSON.stringify(status)).modules[0]).toMatchObject({ alertsDropped: 2 * DROPPED, eventsDropped: 0, logsDropped: 0 });
  });

  it('a daemon that does not count them yet: shown as -', () => {
    const text = describeLive(validStatus() as unknown as DaemonStatus);
    expect(text).toMatch(/basic_inspect .* -$/m);
  });
});
