// A module's alert, event and log budgets cover one engine batch (one
// inspect(), however many calls its input is split into) and the flow ends
// between two engine batches: per call they added up to ~16 budgets held at
// once for a large stream input. Checked for core modules and components, in
// the host's thread and in the sandbox.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InspectorInstance } from '../../../host/wasm/instance.js';
import { DEFAULT_LIMITS } from '../../../host/wasm/abi.js';
import { loadModuleFile } from '../../../host/modules/load.js';
import { createModuleRunner, type ManagedRunner } from '../../../host/sandbox/runner.js';
import type { CompiledInspector } from '../../../host/wasm/loader.js';
import { ROOT } from '../sandbox/support.js';
import { bytes, compileFixture, component, CORE_EXPORTS, item, output, packet } from './helpers.js';

const ALERTS = DEFAULT_LIMITS.ALERTS_PER_BATCH;
const LOGS = DEFAULT_LIMITS.LOGS_PER_CALL;
const runners: ManagedRunner[] = [];
afterAll(() => { for (const r of runners) r.close(); });

let probe: CompiledInspector;
beforeAll(async () => { probe = await compileFixture('probe'); });

// Each 'N' packet asks the probe for 100 alerts: three of them, one per on_batch call, ask for 300.
const manyAlerts = () => [0, 1, 2].map(() => item(packet({ payload: bytes('N') })));

/** A component whose inspect-batch raises 200 alerts per call and whose flow-end logs one line. */
async function noisyComponent(): Promise<Uint8Array> {
  const wit = readFileSync(join(ROOT, 'modules', 'wit', 'inspector.wit'), 'utf8');
  return component(wit, 'inspector', `(module
    (import "secuxflow:inspector/host@1.0.0" "emit-alert" (func $alert (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
    (import "secuxflow:inspector/host@1.0.0" "log-message" (func $log (param i32 i32 i32) (result i32)))
    ${CORE_EXPORTS.replace('(memory (export "memory") 1)', '(memory (export "memory") 16)')}
    (data (i32.const 512) "noisy")
    (func (export "flow-end") (param i64) (drop (call $log (i32.const 1) (i32.const 512) (i32.const 5))))
    (func (export "inspect-batch") (param i32 i32) (result i32) (local $i i32)
      (loop $l
        (drop (call $alert (i32.const 0) (i32.const 1) (i32.const 1) (i32.const 512) (i32.const 5) (i32.const 0) (i32.const 0)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $i) (i32.const 200))))
      ;; address 0 holds (ptr 0, len 0): no verdicts, read as CONTINUE
      (i32.const 0)))`);
}

describe('output budgets cover an engine batch', () => {
  it('a batch gets the budget once per 256 packets: 257 packets keep 400 alerts, 256 keep 256 (in-thread core module)', async () => {
    const inst = await InspectorInstance.create(probe, { logger: () => {} });
    const batch = (packets: number) => Array.from({ length: packets }, (_, i) => item(packet({ payload: bytes(i < 4 ? 'N' : 'x'), srcPort: 40000 + i })));
    const big = output(257);
    inst.inspect(batch(257), 257, big);
    expect(big.alerts).toHaveLength(400);
    expect(inst.stats.alertsDropped).toBe(0);
    const full = output(256);
    inst.inspect(batch(256), 256, full);
    expect(full.alerts).toHaveLength(ALERTS);
    expect(inst.stats.alertsDropped).toBe(400 - ALERTS);
  });

  it('an input split into three on_batch calls shares one alert budget (in-thread core module)', async () => {
    const inst = await InspectorInstance.create(probe, { batchCapacity: 1, logger: () => {} });
    const out = output(3);
    inst.inspect(manyAlerts(), 3, out);
    expect(inst.stats.batches).toBe(3);
    expect(Array.from(out.verdictArgs)).toEqual([100, 100, ALERTS - 200]);
    expect(out.alerts).toHaveLength(ALERTS);
    expect(inst.stats.alertsDropped).toBe(300 - ALERTS);
    // The next engine batch gets a fresh budget.
    const next = output(1);
    inst.inspect(manyAlerts(), 1, next);
    expect(next.alerts).toHaveLength(100);
  });

  it('an input split into three sandbox requests shares one alert budget (sandboxed core module)', async () => {
    const r = await createModuleRunner(probe, { batchCapacity: 1, logger: () => {} });
    runners.push(r);
    const out = output(3);
    r.inspect(manyAlerts(), 3, out);
    expect(r.stats().batches).toBe(3);
    expect(out.alerts).toHaveLength(ALERTS);
    const next = output(1);
    r.inspect(manyAlerts(), 1, next);
    expect(next.alerts).toHaveLength(100);
  });

  it('the flow ends between two batches share one log budget (in-thread core module)', async () => {
    const mod = await loadModuleFile(join(ROOT, 'test', 'host', 'sandbox', 'fixtures', 'flow_end_logger.wat'), { name: 'fe' });
    const lines: string[] = [];
    const inst = await InspectorInstance.create(mod.compiled!, { logger: (_m, _l, msg) => { lines.push(msg); } });
    for (let id = 1; id <= LOGS + 8; id++) inst.flowEnded(id);
    expect(lines).toHaveLength(LOGS);
    expect(inst.stats.logsDropped).toBe(8);
    inst.inspect([item(packet({ payload: 'x' }))], 1, output(1));
    inst.flowEnded(100);
    expect(lines).toHaveLength(LOGS + 1);
  });

  it.each([false, true])('a component: split calls share one alert budget, flow ends one log budget (in-thread %s)', async (unsafeInThread) => {
    const mod = await loadModuleFile('/virtual/noisy.wasm', { name: 'noisy', bytes: await noisyComponent() });
    const lines: string[] = [];
    const r = await createModuleRunner(mod, { batchCapacity: 1, unsafeInThread, logger: (_m, _l, msg) => { if (msg === 'noisy') lines.push(msg); } });
    runners.push(r);
    const items = [1, 2, 3].map((flowId) => item(packet({ payload: 'x' }), { flowId }));
    const out = output(3);
    r.inspect(items, 3, out);
    expect(out.alerts).toHaveLength(ALERTS);
    for (let id = 1; id <= LOGS + 8; id++) r.flowEnded(id);
    // Sandboxed flow ends are delivered once the caller yields.
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines).toHaveLength(LOGS);
    // What was dropped reaches the runner's counters (from the sandbox worker too).
    expect(r.stats()).toMatchObject({ alertsDropped: 600 - ALERTS, logsDropped: 8 });
  }, 60_000);
});
