// The component-model twin of port_guard (built by npm run build through jco)
// must decide the demo capture exactly as the core module does, in the
// sandbox and in the host's thread; and the component path keeps the
// sandbox's promises (imports, traps).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadModuleFile } from '../../../host/modules/load.js';
import { createModuleRunner, type ManagedRunner } from '../../../host/sandbox/runner.js';
import { ROOT, runDemo } from '../sandbox/support.js';

const CORE = join(ROOT, 'build', 'modules', 'port_guard.wasm');
const COMPONENT = join(ROOT, 'build', 'modules', 'port_guard_component.wasm');
const quiet = (): void => {};
const runners: ManagedRunner[] = [];
afterAll(() => { for (const r of runners) r.close(); });

async function runner(path: string, name: string, unsafeInThread = false): Promise<ManagedRunner> {
  const r = await createModuleRunner(await loadModuleFile(path, { name }), { clock: 'packet', logger: quiet, unsafeInThread });
  runners.push(r);
  return r;
}

describe('component twin of port_guard', () => {
  beforeAll(() => {
    for (const f of [CORE, COMPONENT]) if (!existsSync(f)) throw new Error(`${f} is missing: run npm run build first (npm test does it)`);
  });

  it('is detected as a component by its header and validated against the WIT world', async () => {
    const mod = await loadModuleFile(COMPONENT, { name: 'pg' });
    expect(mod.kind).toBe('component');
    expect(mod.component!.imports).toEqual(['secuxflow:inspector/host']);
    expect(mod.component!.exports).toEqual(expect.arrayContaining(['abiVersion', 'init', 'inspectBatch', 'flowEnd']));
    expect(mod.abiVersion).toBe(1);
  });

  it('gives the same verdicts and alerts as its core twin on the demo capture (sandboxed and in-thread)', async () => {
    const core = runDemo([{ name: 'port_guard', instance: await runner(CORE, 'port_guard') }]);
    const alerts = core.alerts.get('port_guard')!;
    // The capture exercises both rules of the policy, so equality means something.
    expect(alerts.some((a) => a.endsWith(':2000101'))).toBe(true);
    expect(alerts.some((a) => a.endsWith(':2000102'))).toBe(true);
    expect(core.verdicts.some((v) => v === 3)).toBe(true);
    expect(core.verdicts.some((v) => v === 4)).toBe(true);

    for (const inThread of [false, true]) {
      const r = await runner(COMPONENT, 'port_guard', inThread);
      const comp = runDemo([{ name: 'port_guard', instance: r }]);
      // The component's core memory is visible to the host (for the ceiling check) and stays small.
      expect(r.memoryBytes).toBeGreaterThan(0);
      expect(r.memoryBytes).toBeLessThanOrEqual(64 * 1024 * 1024);
      expect(comp.verdicts, `in-thread ${inThread}`).toEqual(core.verdicts);
      expect(comp.alerts.get('port_guard'), `in-thread ${inThread}`).toEqual(alerts);
      expect(comp.failures.get('port_guard')).toBe(0);
    }
  });

  it('runs beside core modules: basic_inspect keeps its alerts next to the component', async () => {
    const basicAlone = runDemo([{ name: 'basic_inspect', instance: await runner(join(ROOT, 'build', 'modules', 'basic_inspect.wasm'), 'basic_inspect') }]);
    const both = runDemo([
      { name: 'basic_inspect', instance: await runner(join(ROOT, 'build', 'modules', 'basic_inspect.wasm'), 'basic_inspect') },
      { name: 'port_guard', instance: await runner(COMPONENT, 'port_guard') },
    ]);
    expect(both.alerts.get('basic_inspect')).toEqual(basicAlone.alerts.get('basic_inspect'));
  });
});
