// `status` and `module list` show each module's time per batch. In the
// queue thread (in-thread runners) that time comes from the instance's own
// timing of its batch calls, core module and component alike, so a runner
// whose instance stopped timing would report 0 µs for a module that works.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dirname, join } from 'node:path';
import { loadModuleFile } from '../../../host/modules/load.js';
import { createModuleRunner, type ManagedRunner } from '../../../host/sandbox/runner.js';
import { BASIC_WASM, requireBuilt, runDemo } from './support.js';

const runners: ManagedRunner[] = [];
afterAll(() => { for (const r of runners) r.close(); });

describe('an in-thread runner on the demo capture', () => {
  beforeAll(() => requireBuilt());

  for (const file of ['basic_inspect.wasm', 'port_guard_component.wasm']) {
    it(`reports the time its batches took in the module (${file})`, async () => {
      const loaded = await loadModuleFile(join(dirname(BASIC_WASM), file));
      const runner = await createModuleRunner(loaded, { clock: 'packet', logger: () => {}, unsafeInThread: true });
      runners.push(runner);
      const run = runDemo([{ name: loaded.name, instance: runner }]);
      expect(run.failures.get(loaded.name)).toBe(0);
      const s = runner.stats();
      expect(s.batches).toBeGreaterThan(1);
      expect(s.meanBatchUs).toBeGreaterThan(0);
      expect(s.p99BatchUs).toBeGreaterThan(0);
    });
  }
});
