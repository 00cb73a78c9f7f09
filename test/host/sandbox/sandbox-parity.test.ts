// The sandbox must be invisible when the module behaves: the same verdicts
// and alerts as the in-thread instance, packet by packet, on the demo capture.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModuleFile } from '../../../host/modules/load.js';
import { createModuleRunner, type ManagedRunner } from '../../../host/sandbox/runner.js';
import { InspectorInstance } from '../../../host/wasm/instance.js';
import { loadInspectorFile } from '../../../host/wasm/loader.js';
import { BASIC_WASM, requireBuilt, runDemo } from './support.js';

const runners: ManagedRunner[] = [];
afterAll(() => { for (const r of runners) r.close(); });

describe('sandboxed basic_inspect on the demo capture', () => {
  beforeAll(() => requireBuilt());

  it('gives the same verdicts and alerts as the plain in-thread instance', async () => {
    const plain = await InspectorInstance.create(await loadInspectorFile(BASIC_WASM, 'basic_inspect'), { clock: 'packet', logger: () => {} });
    const reference = runDemo([{ name: 'basic_inspect', instance: plain }]);
    const loaded = await loadModuleFile(BASIC_WASM, { name: 'basic_inspect' });
    const sandboxed = await createModuleRunner(loaded, { clock: 'packet', logger: () => {} });
    runners.push(sandboxed);
    const got = runDemo([{ name: 'basic_inspect', instance: sandboxed }]);
    expect(reference.packets).toBeGreaterThan(100);
    expect(reference.alerts.get('basic_inspect')!.length).toBeGreaterThan(0);
    expect(got.verdicts).toEqual(reference.verdicts);
    expect(got.alerts.get('basic_inspect')).toEqual(reference.alerts.get('basic_inspect'));
    expect(got.failures.get('basic_inspect')).toBe(0);
    const s = sandboxed.stats();
    expect(s.status).toBe('ok');
    expect(s.traps).toBe(0);
    expect(s.packets).toBeGreaterThan(0);
    expect(s.p99BatchUs).toBeGreaterThanOrEqual(s.meanBatchUs > 0 ? 0 : 0);
  });

  it('batch size does not change the result (records split across worker calls)', async () => {
    const loaded = await loadModuleFile(BASIC_WASM, { name: 'basic_inspect' });
    const big = await createModuleRunner(loaded, { clock: 'packet', logger: () => {} });
    const small = await createModuleRunner(loaded, { clock: 'packet', logger: () => {}, batchCapacity: 3, dataCapacity: 4096 });
    runners.push(big, small);
    const a = runDemo([{ name: 'basic_inspect', instance: big }], undefined, 256);
    const b = runDemo([{ name: 'basic_inspect', instance: small }], undefined, 256);
    expect(b.verdicts).toEqual(a.verdicts);
    expect(b.alerts.get('basic_inspect')).toEqual(a.alerts.get('basic_inspect'));
    expect(small.stats().batches).toBeGreaterThan(big.stats().batches);
  });
});
