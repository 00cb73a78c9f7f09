// What a component's alerts and events become: held to the core hostcalls'
// JSON rules (budget first, then size, depth, containers, lone surrogates),
// and counted as they count them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModuleFile } from '../../../host/modules/load.js';
import { ComponentRuntime, emptyRecord, type ComponentSink } from '../../../host/wasm/component.js';
import { MAX_JSON_CONTAINERS } from '../../../host/wasm/hostcalls.js';
import type { InspectorOptions } from '../../../host/wasm/types.js';
import { ROOT } from '../sandbox/support.js';
import { component, CORE_EXPORTS } from './helpers.js';

const HOST = 'secuxflow:inspector/host@1.0.0';

/** A component built from `body` (data segments and functions besides CORE_EXPORTS; init is replaced when body has one). */
async function runtimeOf(name: string, body: string, opts: InspectorOptions = {}): Promise<ComponentRuntime> {
  const wit = readFileSync(join(ROOT, 'modules', 'wit', 'inspector.wit'), 'utf8');
  const core = body.includes('(export "init")') ? CORE_EXPORTS.replace(/\(func \(export "init"\)[^\n]*/, '') : CORE_EXPORTS;
  const bytes = await component(wit, 'inspector', `(module
    (import "${HOST}" "emit-alert" (func $alert (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
    (import "${HOST}" "emit-event" (func $event (param i32 i32 i32 i32) (result i32)))
    ${core.replace('(memory (export "memory") 1)', '(memory (export "memory") 4)')}
    ${body})`);
  const mod = await loadModuleFile(`/virtual/${name}.wasm`, { name, bytes });
  return ComponentRuntime.create(name, mod.component!.entry, { ...opts, logger: () => {} });
}

/** WAT data segments holding texts at 65536 and up (above the realloc heap), and each text's [address, length]. */
function texts(...t: string[]): { data: string; at: [number, number][] } {
  let addr = 65536;
  const at: [number, number][] = [];
  const data = t.map((x) => {
    const b = new TextEncoder().encode(x);
    at.push([addr, b.length]);
    const seg = `(data (i32.const ${addr}) "${Array.from(b, (c) => `\\${c.toString(16).padStart(2, '0')}`).join('')}")`;
    addr += b.length + 8;
    return seg;
  }).join('\n');
  return { data, at };
}

/** One inspect-batch call over one packet: what reached the sink. */
function runOne(rt: ComponentRuntime): ComponentSink {
  const sink: ComponentSink = { alerts: [], events: [] };
  rt.run([emptyRecord()], 1, new Uint8Array(1), new Uint16Array(1), sink);
  return sink;
}

const alertWith = ([at, len]: [number, number], sid: number) =>
  `(drop (call $alert (i32.const 0) (i32.const ${sid}) (i32.const 1) (i32.const 512) (i32.const 1) (i32.const ${at}) (i32.const ${len})))`;
const batchOf = (calls: string) => `(data (i32.const 512) "x") (func (export "flow-end") (param i64))
  (func (export "inspect-batch") (param i32 i32) (result i32) ${calls} (i32.const 0))`;

describe('component outputs', () => {
  it('alerts and events raised in init, or in a flow-end nobody collects, are counted as dropped; a collected flow-end\'s reach the sink as the flow\'s (index -1)', async () => {
    const raise = `(drop (call $alert (i32.const -1) (i32.const 1) (i32.const 1) (i32.const 512) (i32.const 1) (i32.const 0) (i32.const 0)))
      (drop (call $event (i32.const -1) (i32.const 1) (i32.const 520) (i32.const 2)))`;
    const rt = await runtimeOf('raiser', `(data (i32.const 512) "x") (data (i32.const 520) "{}")
      (func (export "init") (param i32 i32) (result i32) ${raise} (i32.const 0))
      (func (export "flow-end") (param i64) ${raise})
      (func (export "inspect-batch") (param i32 i32) (result i32) (i32.const 0))`);
    const sink: ComponentSink = { alerts: [], events: [] };
    rt.flowEnd(1n, sink);
    rt.flowEnd(2n);
    expect(sink).toEqual({ alerts: [expect.objectContaining({ index: -1, sigId: 1, message: 'x' })], events: [{ index: -1, kind: 'dns', data: {} }] });
    expect(rt.stats).toMatchObject({ alerts: 1, events: 1, alertsDropped: 2, eventsDropped: 2 });
  }, 60_000);

  it('alert metadata nested 8000 deep or with too many objects is refused, and a lone surrogate escape becomes U+FFFD, as for core modules', async () => {
    const t = texts(
      `{"a":${'['.repeat(8000)}${']'.repeat(8000)}}`,
      `{"a":[${Array(MAX_JSON_CONTAINERS + 1).fill('{}').join(',')}]}`,
      '{"s":"\\ud800x"}',
    );
    const rt = await runtimeOf('shapes', `${t.data} ${batchOf(`${alertWith(t.at[0]!, 1)} ${alertWith(t.at[1]!, 2)} ${alertWith(t.at[2]!, 3)}
      (drop (call $event (i32.const 0) (i32.const 1) (i32.const ${t.at[2]![0]}) (i32.const ${t.at[2]![1]})))`)}`);
    const out = runOne(rt);
    expect(out.alerts.map((a) => [a.sigId, a.metadata])).toEqual([[3, { s: '\ufffdx' }]]);
    expect(out.events.map((e) => e.data)).toEqual([{ s: '\ufffdx' }]);
  }, 60_000);

  it('past the alert budget, metadata is not parsed: LIMIT_REACHED and counted as dropped, even when it is not JSON', async () => {
    const t = texts('{"ok":1}', '{');
    const rt = await runtimeOf('budget', `${t.data} ${batchOf(`${alertWith(t.at[0]!, 1)} ${alertWith(t.at[1]!, 2)} ${alertWith(t.at[1]!, 3)}`)}`, { alertBudget: 1 });
    const out = runOne(rt);
    expect(out.alerts.map((a) => a.sigId)).toEqual([1]);
    expect(rt.stats.alertsDropped).toBe(2);
  }, 60_000);
});
