// Components get the same refusals as core modules: an import outside
// secuxflow:inspector/host (WASI here) or a missing export of the world is
// refused at load, naming it. The components are built here with jco.
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SecuxflowError } from '../../../host/errors.js';
import { loadModuleFile } from '../../../host/modules/load.js';
import { createModuleRunner, type ManagedRunner } from '../../../host/sandbox/runner.js';
import { ROOT, runDemo } from '../sandbox/support.js';
import { component, CORE_EXPORTS } from './helpers.js';

const runners: ManagedRunner[] = [];
afterAll(() => { for (const r of runners) r.close(); });

/** A core module that fits world inspector: every export, verdicts left empty. */
const WORLD_CORE = `(module ${CORE_EXPORTS}
  (func (export "flow-end") (param i64))
  (func (export "inspect-batch") (param i32 i32) (result i32) (i32.const 0)))`;

async function refusal(bytes: Uint8Array, name: string): Promise<SecuxflowError> {
  const e = await loadModuleFile(`/virtual/${name}.wasm`, { name, bytes }).then(() => null, (err: unknown) => err);
  expect(e).toBeInstanceOf(SecuxflowError);
  return e as SecuxflowError;
}

describe('component refusals', () => {
  it('a component importing WASI filesystem is refused, naming the import', async () => {
    const wit = `package test:hostile;
package wasi:filesystem@0.2.0 {
  interface types { open-at: func(path: string) -> s32; }
}
world wasi-user {
  import wasi:filesystem/types@0.2.0;
  export abi-version: func() -> u32;
  export init: func(config: list<u8>) -> s32;
}`;
    const bytes = await component(wit, 'wasi-user', `(module
      (import "wasi:filesystem/types@0.2.0" "open-at" (func (param i32 i32) (result i32)))
      ${CORE_EXPORTS})`);
    expect([bytes[4], bytes[6]]).toEqual([0x0d, 1]); // a component: version 0x0d, layer 1
    const e = await refusal(bytes, 'wasi_user');
    expect(e.code).toBe('E_MODULE_IMPORT');
    expect(e.message).toMatch(/module wasi_user imports wasi:filesystem\/types.*, which the inspector sandbox does not provide/);
    expect(e.hint).toMatch(/WASI is not available/);
  }, 60_000);

  it('a component without inspect-batch is refused, naming the export', async () => {
    const wit = `package test:partial;
world partial {
  export abi-version: func() -> u32;
  export init: func(config: list<u8>) -> s32;
}`;
    const e = await refusal(await component(wit, 'partial', `(module ${CORE_EXPORTS})`), 'partial');
    expect(e.code).toBe('E_MODULE_INVALID');
    expect(e.message).toMatch(/module partial is a component without the inspect-batch export of world secuxflow:inspector\/inspector/);
  }, 60_000);

  it('a component of another world, with the right export names but other types: E_MODULE_INVALID naming the export and both signatures', async () => {
    const wit = `package test:wrong;
world wrong {
  export abi-version: func() -> u32;
  export init: func() -> s32;
  export inspect-batch: func(n: u32) -> u32;
  export flow-end: func();
}`;
    const e = await refusal(await component(wit, 'wrong', `(module
      (memory (export "memory") 1)
      (func (export "abi-version") (result i32) (i32.const 1))
      (func (export "init") (result i32) (i32.const 0))
      (func (export "inspect-batch") (param i32) (result i32) (i32.const 3))
      (func (export "flow-end")))`), 'wrong_world');
    expect(e.code).toBe('E_MODULE_INVALID');
    expect(e.message).toBe('module wrong_world is a component whose init export is func() -> s32; world secuxflow:inspector/inspector needs func(list<u8>) -> s32');
    expect(e.hint).toMatch(/modules\/wit\/inspector\.wit/);
  }, 60_000);

  it('a component built against a copy of the WIT whose verdict.arg is u32: the names match, the structure does not; E_MODULE_INVALID naming the record and the field', async () => {
    // componentWit shows only `use secuxflow:inspector/types@1.0.0.{packet, verdict}` for this one, as for ours.
    const wit = readFileSync(join(ROOT, 'modules', 'wit', 'inspector.wit'), 'utf8').replace('arg: u16,', 'arg: u32,');
    const e = await refusal(await component(wit, 'inspector', WORLD_CORE), 'wide_arg');
    expect(e.code).toBe('E_MODULE_INVALID');
    expect(e.message).toBe('module wide_arg is a component whose inspect-batch export does not take or give the types of world secuxflow:inspector/inspector: record verdict, field arg: u32 where the world has u16');
    expect(e.hint).toMatch(/build it against modules\/wit\/inspector\.wit as shipped/);
  }, 60_000);

  it('a component whose world defines its own packet record, one field renamed: refused naming the field the world has and it lacks', async () => {
    const wit = readFileSync(join(ROOT, 'modules', 'wit', 'inspector.wit'), 'utf8');
    const packet = /record packet \{[^}]*\}/.exec(wit)![0].replace('vlan-id: u16', 'vlan: u16');
    const verdict = /record verdict \{[^}]*\}/.exec(wit)![0];
    const own = `package test:mine;
world inspector {
  ${packet}
  ${verdict}
  export abi-version: func() -> u32;
  export init: func(config: list<u8>) -> s32;
  export inspect-batch: func(packets: list<packet>) -> list<verdict>;
  export flow-end: func(flow-id: u64);
}`;
    const e = await refusal(await component(own, 'inspector', WORLD_CORE), 'own_packet');
    expect(e.code).toBe('E_MODULE_INVALID');
    expect(e.message).toBe('module own_packet is a component whose inspect-batch export does not take or give the types of world secuxflow:inspector/inspector: record packet: field vlan-id is missing (the world\'s field 14)');
    // The same world with the field as ours loads: the check compares structure, not where the types were written.
    const same = await loadModuleFile('/virtual/own_same.wasm', { name: 'own_same', bytes: await component(own.replace('vlan: u16', 'vlan-id: u16'), 'inspector', WORLD_CORE) });
    expect(same.component?.exports).toContain('inspectBatch');
  }, 60_000);

  it('a component logging terminal escapes while refusing its config: its log line and the E_MODULE_CONFIG quote are escaped', async () => {
    const wit = readFileSync(join(ROOT, 'modules', 'wit', 'inspector.wit'), 'utf8');
    const bytes = await component(wit, 'inspector', `(module
      (import "secuxflow:inspector/host@1.0.0" "log-message" (func $log (param i32 i32 i32) (result i32)))
      (memory (export "memory") 1)
      (global $heap (mut i32) (i32.const 1024))
      (data (i32.const 256) "\\1b[2J\\1b]0;pwned\\07\\nforged line")
      (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
        (local $p i32) (local.set $p (global.get $heap))
        (global.set $heap (i32.add (global.get $heap) (local.get 3))) (local.get $p))
      (func (export "abi-version") (result i32) (i32.const 1))
      (func (export "init") (param i32 i32) (result i32) (drop (call $log (i32.const 3) (i32.const 256) (i32.const 26))) (i32.const 1))
      (func (export "flow-end") (param i64))
      (func (export "inspect-batch") (param i32 i32) (result i32) (i32.const 0)))`);
    const mod = await loadModuleFile('/virtual/esc.wasm', { name: 'esc', bytes });
    const lines: string[] = [];
    const e = await createModuleRunner(mod, { logger: (_m, _l, text) => { lines.push(text); } }).then((r) => { runners.push(r); return null; }, (err: unknown) => err);
    expect(e).toBeInstanceOf(SecuxflowError);
    expect((e as SecuxflowError).code).toBe('E_MODULE_CONFIG');
    expect((e as SecuxflowError).message).toBe('module esc refused its configuration (init status 1): \\x1b[2J\\x1b]0;pwned\\x07\\nforged line');
    expect(lines).toEqual(['\\x1b[2J\\x1b]0;pwned\\x07\\nforged line']);
  }, 60_000);

  it('a component whose core module starts above the memory ceiling: E_MODULE_INVALID with the ceiling hint, not a trap', async () => {
    const wit = readFileSync(join(ROOT, 'modules', 'wit', 'inspector.wit'), 'utf8');
    const bytes = await component(wit, 'inspector', `(module
      ${CORE_EXPORTS.replace('(memory (export "memory") 1)', '(memory (export "memory") 2000)')}
      (func (export "flow-end") (param i64))
      (func (export "inspect-batch") (param i32 i32) (result i32) (i32.const 0)))`);
    const mod = await loadModuleFile('/virtual/fat.wasm', { name: 'fat', bytes });
    const e = await createModuleRunner(mod, { logger: () => {} }).then((r) => { runners.push(r); return null; }, (err: unknown) => err);
    expect(e).toBeInstanceOf(SecuxflowError);
    expect((e as SecuxflowError).code).toBe('E_MODULE_INVALID');
    expect((e as SecuxflowError).message).toMatch(/^module fat starts with 2000 pages \(125 MiB\) of memory, above the sandbox ceiling of 1024 pages/);
    expect((e as SecuxflowError).hint).toMatch(/--memory-mib/);
  }, 60_000);

  it('a component of world inspector whose abi-version returns 2, or whose init never returns: E_MODULE_ABI, and E_MODULE_LIMIT within the init budget', async () => {
    const wit = readFileSync(join(ROOT, 'modules', 'wit', 'inspector.wit'), 'utf8');
    const tail = '(func (export "flow-end") (param i64)) (func (export "inspect-batch") (param i32 i32) (result i32) (i32.const 0)))';
    const v2 = await loadModuleFile('/virtual/v2.wasm', { name: 'v2', bytes: await component(wit, 'inspector',
      `(module ${CORE_EXPORTS.replace('(func (export "abi-version") (result i32) (i32.const 1))', '(func (export "abi-version") (result i32) (i32.const 2))')} ${tail}`) });
    const spin = await loadModuleFile('/virtual/spin_init.wasm', { name: 'spin_init', bytes: await component(wit, 'inspector',
      `(module ${CORE_EXPORTS.replace('(func (export "init") (param i32 i32) (result i32) (i32.const 0))', '(func (export "init") (param i32 i32) (result i32) (loop $l (br $l)) (i32.const 0))')} ${tail}`) });
    const start = (mod: typeof v2, limits = {}): Promise<SecuxflowError> => createModuleRunner(mod, { limits, logger: () => {} })
      .then((r) => { runners.push(r); throw new Error(`${mod.name} started`); }, (err: unknown) => err as SecuxflowError);
    const abi = await start(v2);
    expect(abi.code).toBe('E_MODULE_ABI');
    expect(abi.message).toMatch(/module v2 was built for ABI 2; this host speaks ABI 1/);
    const t0 = performance.now();
    const limit = await start(spin, { initBudgetMs: 300 });
    expect(limit.code).toBe('E_MODULE_LIMIT');
    expect(limit.message).toMatch(/module spin_init did not finish instantiation and on_init within 300 ms/);
    expect(performance.now() - t0).toBeLessThan(30_000);
  }, 60_000);

  it('a component looping forever in inspect-batch is stopped by the CPU budget and quarantined', async () => {
    const wit = readFileSync(join(ROOT, 'modules', 'wit', 'inspector.wit'), 'utf8');
    const bytes = await component(wit, 'inspector', `(module
      ${CORE_EXPORTS}
      (func (export "flow-end") (param i64))
      (func (export "inspect-batch") (param i32 i32) (result i32) (loop $forever (br $forever)) (i32.const 0)))`);
    const mod = await loadModuleFile('/virtual/spin.wasm', { name: 'spin', bytes });
    const r = await createModuleRunner(mod, { policy: 'fail-open', limits: { cpuBudgetMs: 50 }, clock: 'packet', logger: () => {} });
    runners.push(r);
    const t0 = performance.now();
    const rec = runDemo([{ name: 'spin', instance: r, policy: 'fail-open' }]);
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(r.stats()).toMatchObject({ cpuKills: 1, status: 'quarantined' });
    expect(rec.failures.get('spin')).toBeGreaterThan(0);
    expect(rec.verdicts.every((v) => v < 3)).toBe(true); // fail-open: nothing dropped
  }, 60_000);
});
