// What a component's alerts and events become: counted as the core hostcalls
// count them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModuleFile } from '../../../host/modules/load.js';
import { ComponentRuntime } from '../../../host/wasm/component.js';
import { ROOT } from '../sandbox/support.js';
import { component, CORE_EXPORTS } from './helpers.js';

const HOST = 'secuxflow:inspector/host@1.0.0';

/** A component built from `body` (data segments and functions besides CORE_EXPORTS; init is replaced when body has one). */
async function runtimeOf(name: string, body: string): Promise<ComponentRuntime> {
  const wit = readFileSync(join(ROOT, 'modules', 'wit', 'inspector.wit'), 'utf8');
  const core = body.includes('(export "init")') ? CORE_EXPORTS.replace(/\(func \(export "init"\)[^\n]*/, '') : CORE_EXPORTS;
  const bytes = await component(wit, 'inspector', `(module
    (import "${HOST}" "emit-alert" (func $alert (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
    (import "${HOST}" "emit-event" (func $event (param i32 i32 i32 i32) (result i32)))
    ${core.replace('(memory (export "memory") 1)', '(memory (export "memory") 4)')}
    ${body})`);
  const mod = await loadModuleFile(`/virtual/${name}.wasm`, { name, bytes });
  return ComponentRuntime.create(name, mod.component!.entry, { logger: () => {} });
}

describe('component outputs', () => {
  it('alerts and events raised in init and flow-end reach no output: counted as dropped, not as alerts and events', async () => {
    const raise = `(drop (call $alert (i32.const -1) (i32.const 1) (i32.const 1) (i32.const 512) (i32.const 1) (i32.const 0) (i32.const 0)))
      (drop (call $event (i32.const -1) (i32.const 1) (i32.const 520) (i32.const 2)))`;
    const rt = await runtimeOf('raiser', `(data (i32.const 512) "x") (data (i32.const 520) "{}")
      (func (export "init") (param i32 i32) (result i32) ${raise} (i32.const 0))
      (func (export "flow-end") (param i64) ${raise})
      (func (export "inspect-batch") (param i32 i32) (result i32) (i32.const 0))`);
    rt.flowEnd(1n);
    rt.flowEnd(2n);
    expect(rt.stats).toMatchObject({ alerts: 0, events: 0, alertsDropped: 3, eventsDropped: 3 });
  }, 60_000);
});
