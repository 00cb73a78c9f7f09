// The unsafe in-thread runner keeps the failure policy and the memory
// ceiling (it only lacks the CPU budget).
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadModuleFile } from '../../../host/modules/load.js';
import { createModuleRunner, type ManagedRunner } from '../../../host/sandbox/runner.js';
import { inFlightPolicy, type ModulePolicy, type SandboxLimits } from '../../../host/sandbox/limits.js';
import { ROOT, runDemo } from './support.js';

const HOSTILE = join(ROOT, 'test', 'hostile', 'modules');
const runners: ManagedRunner[] = [];
afterAll(() => { for (const r of runners) r.close(); });

async function inThread(name: string, policy: ModulePolicy, limits: Partial<SandboxLimits> = {}): Promise<ManagedRunner> {
  const r = await createModuleRunner(await loadModuleFile(join(HOSTILE, `${name}.wat`), { name, limits }), { unsafeInThread: true, policy, limits, clock: 'packet', logger: () => {} });
  runners.push(r);
  return r;
}

describe('in-thread runner', () => {
  it('quarantines after the trap threshold and then fails its packets per policy without calling the module', async () => {
    const r = await inThread('trap_every_tenth', 'fail-open');
    const rec = runDemo([{ name: 'm', instance: r, policy: 'fail-open' }], undefined, 8);
    const s = r.stats();
    expect(s.traps).toBe(5);
    expect(s.status).toBe('quarantined');
    expect(s.policyPackets).toBe(rec.failures.get('m'));
    expect(rec.verdicts.every((v) => v < 3)).toBe(true);
  });

  it('memory growth is held at the ceiling', async () => {
    const r = await inThread('memory_grow', 'fail-closed', { memoryMiB: 8 });
    runDemo([{ name: 'm', instance: r, policy: inFlightPolicy('fail-closed') }], undefined, 16);
    expect(r.memoryBytes).toBeLessThanOrEqual(8 * 1024 * 1024);
    expect(r.stats().status).toBe('quarantined');
  });

  it('reload recreates the instance in the background and resumes inspection', async () => {
    const r = await inThread('trap_every_tenth', 'reload', { backoffBaseMs: 0, backoffMaxMs: 0 });
    const rec = runDemo([{ name: 'm', instance: r }], undefined, 8);
    expect(rec.failures.get('m')).toBeGreaterThan(0);
    // Give the background recreation its turn, then the module runs again.
    await new Promise((res) => setTimeout(res, 50));
    expect(r.stats().restarts).toBeGreaterThanOrEqual(1);
    expect(r.stats().status).toBe('ok');
    const before = r.stats().packets;
    runDemo([{ name: 'm', instance: r }], undefined, 8);
    expect(r.stats().packets).toBeGreaterThan(before);
  });
});
