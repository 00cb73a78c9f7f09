// The hostile-module suite: every case is a module in test/hostile/modules/.
// Each one runs next to basic_inspect on the demo capture (or is refused at
// load). Whatever the hostile module does, basic_inspect's alerts stay those
// of a run without it, the host's memory and time stay bounded, and no packet
// is decided otherwise than the hostile module's failure policy allows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SecuxflowError } from '../../host/errors.js';
import type { EngineModule } from '../../host/engine/engine.js';
import { loadModuleFile, type LoadedModule } from '../../host/modules/load.js';
import { inFlightPolicy, type ModulePolicy, type SandboxLimits } from '../../host/sandbox/limits.js';
import { createModuleRunner, type ManagedRunner } from '../../host/sandbox/runner.js';
import { watToWasm } from '../../host/wasm/loader.js';
import { DEFAULT_LIMITS } from '../../host/wasm/abi.js';
import { BASIC_WASM, requireBuilt, runDemo, type RunRecord } from '../host/sandbox/support.js';

const MODULES = join(import.meta.dirname, 'modules');
/** Host RSS growth allowed per case: the 64 MiB module ceiling plus the worker's own heap and slack. */
const RSS_BOUND = 256 * 1024 * 1024;
const quiet = (): void => {};
const runners: ManagedRunner[] = [];
let reference: RunRecord;

afterAll(() => { for (const r of runners) r.close(); });

async function load(name: string, limits: Partial<SandboxLimits> = {}): Promise<LoadedModule> {
  return loadModuleFile(join(MODULES, `${name}.wat`), { name, limits });
}

async function basic(): Promise<EngineModule> {
  const r = await createModuleRunner(await loadModuleFile(BASIC_WASM, { name: 'basic_inspect' }), { clock: 'packet', logger: quiet });
  runners.push(r);
  return { name: 'basic_inspect', instance: r };
}

interface CaseRun { rec: RunRecord; hostile: ManagedRunner; rssGrowth: number; wallMs: number }

async function runBeside(name: string, policy: ModulePolicy, limits: Partial<SandboxLimits> = {}, batchSize = 64): Promise<CaseRun> {
  const rss0 = process.memoryUsage.rss();
  const t0 = performance.now();
  const hostile = await createModuleRunner(await load(name, limits), { policy, limits, clock: 'packet', logger: quiet });
  runners.push(hostile);
  const rec = runDemo([await basic(), { name, instance: hostile, policy: inFlightPolicy(policy) }], undefined, batchSize);
  return { rec, hostile, rssGrowth: process.memoryUsage.rss() - rss0, wallMs: performance.now() - t0 };
}

/** basic_inspect saw the same packets and raised the same alerts as without the hostile module. */
function expectBasicUnchanged(run: CaseRun): void {
  expect(run.rec.alerts.get('basic_inspect')).toEqual(reference.alerts.get('basic_inspect'));
  expect(run.rec.failures.get('basic_inspect')).toBe(0);
  expect(run.rec.packets).toBe(reference.packets);
  expect(run.rssGrowth).toBeLessThan(RSS_BOUND);
}

/** Packets the hostile module failed on got its policy; all others kept the reference decision. */
function expectPolicyOnly(run: CaseRun, name: string, policy: ModulePolicy): void {
  const failedOn = run.rec.failures.get(name)!;
  expect(run.hostile.stats().policyPackets).toBe(failedOn);
  const DROPS = new Set([3, 4, 5]);
  for (let i = 0; i < reference.verdicts.length; i++) {
    const was = DROPS.has(reference.verdicts[i]!);
    const now = DROPS.has(run.rec.verdicts[i]!);
    if (policy === 'fail-open') expect(now, `packet ${i}`).toBe(was);
    else if (!now) expect(was, `packet ${i} was dropped before`).toBe(false);
  }
}

async function refusal(p: Promise<unknown>): Promise<SecuxflowError> {
  const e = await p.then(() => null, (err: unknown) => err);
  expect(e).toBeInstanceOf(SecuxflowError);
  return e as SecuxflowError;
}

describe('hostile modules', () => {
  beforeAll(async () => {
    requireBuilt();
    reference = runDemo([await basic()]);
    expect(reference.alerts.get('basic_inspect')!.length).toBeGreaterThan(0);
  });

  it('infinite loop in on_batch: stopped within the CPU budget, quarantined, its packets fail closed', async () => {
    const run = await runBeside('infinite_loop', 'fail-closed', { cpuBudgetMs: 50 });
    const s = run.hostile.stats();
    expect(s.cpuKills).toBe(1);
    expect(s.status).toBe('quarantined');
    expect(s.quarantineReason).toMatch(/infinite_loop used its CPU budget of 50 ms/);
    expect(run.rec.failures.get('infinite_loop')).toBeGreaterThan(100);
    expect(run.wallMs).toBeLessThan(5000);
    expectBasicUnchanged(run);
    expectPolicyOnly(run, 'infinite_loop', 'fail-closed');
    // fail-closed: every packet the module was given is dropped.
    expect(run.rec.verdicts.filter((v) => v >= 3).length).toBeGreaterThanOrEqual(run.rec.failures.get('infinite_loop')!);
  });

  it('endless memory.grow: capped at the ceiling (memory.grow returns -1), traps, quarantined; packets fail open', async () => {
    const run = await runBeside('memory_grow', 'fail-open', { memoryMiB: 32 }, 16);
    const s = run.hostile.stats();
    expect(run.hostile.memoryBytes).toBeLessThanOrEqual(32 * 1024 * 1024);
    expect(s.traps).toBe(5);
    expect(s.status).toBe('quarantined');
    expectBasicUnchanged(run);
    expectPolicyOnly(run, 'memory_grow', 'fail-open');
  });

  it('out-of-bounds load: each trap counted, quarantined after the threshold, packets fail closed', async () => {
    const run = await runBeside('oob_load', 'fail-closed', { trapThreshold: 3 }, 16);
    const s = run.hostile.stats();
    expect(s.traps).toBe(3);
    expect(s.lastError).toMatch(/oob_load trapped in on_batch: memory access out of bounds/);
    expect(s.status).toBe('quarantined');
    expectBasicUnchanged(run);
    expectPolicyOnly(run, 'oob_load', 'fail-closed');
  });

  it('alert storm: the per-call alert budget caps what reaches the host', async () => {
    // One packet a batch: with more, what it emits for a flow's packets after
    // basic_inspect blocked that flow in the same batch is not reported
    // (docs/abi/v1.md), and the count below would not be whole.
    const run = await runBeside('alert_storm', 'fail-closed', {}, 1);
    const s = run.hostile.stats();
    expect(s.traps).toBe(0);
    expect(s.alerts).toBeGreaterThan(0);
    expect(s.alerts).toBeLessThanOrEqual(DEFAULT_LIMITS.ALERTS_PER_BATCH * s.batches);
    expect(s.alerts).toBeLessThan(5000 * s.batches);
    expect(run.rec.alerts.get('alert_storm')!.length).toBe(s.alerts);
    expectBasicUnchanged(run);
    expectPolicyOnly(run, 'alert_storm', 'fail-closed');
  });

  it('huge metadata: 1 MB JSON on alerts and events is refused by the size cap, nothing is recorded', async () => {
    const run = await runBeside('huge_metadata', 'fail-closed');
    const s = run.hostile.stats();
    expect(s.traps).toBe(0);
    expect(s.alerts).toBe(0);
    expect(s.events).toBe(0);
    expect(run.rec.alerts.get('huge_metadata')).toEqual([]);
    expectBasicUnchanged(run);
  });

  it('missing export, wrong ABI marker and WASI imports are refused at load, naming the problem', async () => {
    const missing = await refusal(load('missing_export'));
    expect(missing.code).toBe('E_MODULE_INVALID');
    expect(missing.message).toMatch(/does not export on_batch \(i32, i32\) -> i32/);
    const abi = await refusal(load('wrong_abi'));
    expect(abi.code).toBe('E_MODULE_ABI');
    expect(abi.message).toMatch(/built for ABI 2; this host speaks ABI 1/);
    const wasi = await refusal(load('forbidden_import'));
    expect(wasi.code).toBe('E_MODULE_IMPORT');
    expect(wasi.message).toMatch(/imports wasi_snapshot_preview1\.fd_write/);
    expect(wasi.hint).toMatch(/WASI is not available/);
  });

  it('start function that loops: instantiation is stopped within the init budget and the module refused', async () => {
    const mod = await load('start_loop');
    const rss0 = process.memoryUsage.rss();
    const t0 = performance.now();
    const e = await refusal(createModuleRunner(mod, { limits: { initBudgetMs: 300 }, logger: quiet }));
    expect(e.code).toBe('E_MODULE_LIMIT');
    expect(e.message).toMatch(/start_loop did not finish instantiation and on_init within 300 ms/);
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(process.memoryUsage.rss() - rss0).toBeLessThan(RSS_BOUND);
    // The engine and other modules still run afterwards.
    expect(runDemo([await basic()]).alerts.get('basic_inspect')).toEqual(reference.alerts.get('basic_inspect'));
  });

  it('traps on every tenth packet: fail-closed quarantines after the threshold', async () => {
    const run = await runBeside('trap_every_tenth', 'fail-closed', {}, 8);
    const s = run.hostile.stats();
    expect(s.traps).toBe(5);
    expect(s.status).toBe('quarantined');
    expectBasicUnchanged(run);
    expectPolicyOnly(run, 'trap_every_tenth', 'fail-closed');
  });

  it('traps on every tenth packet: policy reload recreates the instance with backoff and keeps inspecting', async () => {
    const run = await runBeside('trap_every_tenth', 'reload', { backoffBaseMs: 0, backoffMaxMs: 0 }, 8);
    const s = run.hostile.stats();
    expect(s.traps).toBeGreaterThanOrEqual(5);
    // The last trap's restart is still due when the capture ends.
    expect(s.restarts).toBeGreaterThanOrEqual(s.traps - 1);
    expect(s.restarts).toBeLessThanOrEqual(s.traps);
    expect(s.status).not.toBe('quarantined');
    // Each fresh instance gets 9 good packets before its next trap, so most packets are inspected normally.
    expect(s.packets).toBeGreaterThan(run.rec.failures.get('trap_every_tenth')!);
    expectBasicUnchanged(run);
    expectPolicyOnly(run, 'trap_every_tenth', 'reload');
  });

  it('a 50 MB module: refused by the size limit at once; with the limit raised it loads and runs', async () => {
    const base = await watToWasm(readFileSync(join(MODULES, 'big_module_base.wat'), 'utf8'), 'big_module_base.wat');
    const big = withDataSection(base, 50 * 1024 * 1024);
    expect(big.length).toBeGreaterThan(50 * 1024 * 1024);
    const rss0 = process.memoryUsage.rss();
    const t0 = performance.now();
    const e = await refusal(loadModuleFile('/virtual/big_module.wasm', { name: 'big_module', bytes: big }));
    expect(e.code).toBe('E_MODULE_LIMIT');
    expect(e.message).toMatch(/big_module is 50\.0 MiB, above the size limit of 16 MiB/);
    expect(performance.now() - t0).toBeLessThan(2000);

    const limits = { maxModuleMiB: 64, initBudgetMs: 20_000 };
    const mod = await loadModuleFile('/virtual/big_module.wasm', { name: 'big_module', bytes: big, limits });
    const hostile = await createModuleRunner(mod, { limits, clock: 'packet', logger: quiet });
    runners.push(hostile);
    const rec = runDemo([await basic(), { name: 'big_module', instance: hostile }]);
    expect(rec.alerts.get('basic_inspect')).toEqual(reference.alerts.get('basic_inspect'));
    expect(hostile.stats().status).toBe('ok');
    expect(performance.now() - t0).toBeLessThan(30_000);
    expect(process.memoryUsage.rss() - rss0).toBeLessThan(RSS_BOUND + 2 * big.length);
  });
});

/** Appends one active data segment of `size` bytes at address 0 (section 11, after every other section). */
function withDataSection(base: Uint8Array, size: number): Uint8Array {
  const leb = (v: number): number[] => { const o: number[] = []; do { let b = v & 0x7f; v = Math.floor(v / 128); if (v) b |= 0x80; o.push(b); } while (v); return o; };
  const segHead = [0x00, 0x41, 0x00, 0x0b, ...leb(size)];
  const body = [...leb(1), ...segHead];
  const head = [11, ...leb(body.length + size)];
  const out = new Uint8Array(base.length + head.length + body.length + size);
  out.set(base, 0);
  out.set(head, base.length);
  out.set(body, base.length + head.length);
  out.fill(0x5a, base.length + head.length + body.length);
  return out;
}
