import { describe, expect, it } from 'vitest';
import { compileInspector, describeModule, loadInspectorFile, watToWasm } from '../../../host/wasm/loader.js';
import { SecuxflowError } from '../../../host/errors.js';
import { compileFixture, fixtureBytes, fixtureDir, rejection } from './helpers.js';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';

async function refusal(fixture: string): Promise<SecuxflowError> {
  const err = await compileFixture(fixture).then(() => null, (e: unknown) => e);
  expect(err, `${fixture} must be refused`).toBeInstanceOf(SecuxflowError);
  return err as SecuxflowError;
}

describe('ABI v1 loader refuses modules that do not follow the ABI', () => {
  it('accepts the minimal module and describes it', async () => {
    const c = await compileFixture('minimal');
    expect(c.abiVersion).toBe(1);
    const d = describeModule(c);
    expect(d.imports).toEqual([]);
    expect(d.exports.map((e) => e.name).sort()).toEqual(['memory', 'on_batch', 'on_flow_end', 'on_init', 'secuxflow_abi_version', 'sf_alloc']);
    expect(d.exports.find((e) => e.name === 'on_batch')?.signature).toBe('(i32, i32) -> i32');
    expect(d.exports.find((e) => e.name === 'on_flow_end')?.signature).toBe('(i64) -> ()');
    expect(d.memory).toEqual({ initialPages: 1, maxPages: 16, initialBytes: 65536, maxBytes: 16 * 65536 });
  });

  it('missing marker: E_MODULE_ABI saying it was not built with the SDK', async () => {
    const e = await refusal('no-marker');
    expect(e.code).toBe('E_MODULE_ABI');
    expect(e.message).toBe('module no-marker has no secuxflow_abi_version export: it was not built with the secuxflow SDK');
  });

  it('marker 2: E_MODULE_ABI naming both versions', async () => {
    const e = await refusal('marker-v2');
    expect(e.code).toBe('E_MODULE_ABI');
    expect(e.message).toBe('module marker-v2 was built for ABI 2; this host speaks ABI 1 (rebuild it against the v1 SDK)');
  });

  it('mutable marker global: E_MODULE_ABI', async () => {
    const e = await refusal('marker-mutable');
    expect(e.code).toBe('E_MODULE_ABI');
    expect(e.message).toMatch(/must be an immutable i32 global.*mutable i32 global/);
  });

  it('a marker global whose value is imported or computed: E_MODULE_ABI saying so, not "found an immutable i32 global"', async () => {
    const base = await readFile(join(fixtureDir, 'minimal.wat'), 'utf8');
    const marker = '(global (export "secuxflow_abi_version") i32 (i32.const 1))';
    expect(base).toContain(marker);
    const cases: [string, string, string][] = [
      ['imported', '(global $v (import "secuxflow" "version") i32)', '(export "secuxflow_abi_version" (global $v))'],
      ['not a constant', '(global $v (import "secuxflow" "version") i32)', '(global (export "secuxflow_abi_version") i32 (global.get $v))'],
    ];
    for (const [why, imp, mk] of cases) {
      const wat = base.replace('(module', `(module ${imp}`).replace(marker, mk);
      const e = await rejection(compileInspector('odd-marker', await watToWasm(wat, 'odd-marker.wat')));
      expect(e.code).toBe('E_MODULE_ABI');
      expect(e.message).toBe(`module odd-marker: secuxflow_abi_version must be an immutable i32 global with a constant value, found one whose value is ${why}`);
      expect(e.hint).toContain('(i32.const 1)');
    }
  });

  it('a valid module with a SIMD (v128) global: read and accepted, not refused as unreadable sections', async () => {
    const wat = (await readFile(join(fixtureDir, 'minimal.wat'), 'utf8')).replace('(module', '(module (global $lanes v128 (v128.const i32x4 1 2 3 4))');
    const wabt = await (await import('wabt')).default();
    const mod = wabt.parseWat('simd.wat', wat, { simd: true });
    const bytes = new Uint8Array(mod.toBinary({}).buffer);
    mod.destroy();
    const compiled = await compileInspector('simd', bytes);
    expect(compiled.abiVersion).toBe(1);
    expect(compiled.layout.exports.map((e) => e.name)).toContain('on_batch');
  });

  it('missing on_batch: E_MODULE_INVALID naming the export and its signature', async () => {
    const e = await refusal('no-on-batch');
    expect(e.code).toBe('E_MODULE_INVALID');
    expect(e.message).toContain('does not export on_batch (i32, i32) -> i32');
  });

  it('on_batch with the wrong signature or kind: E_MODULE_INVALID showing found and wanted', async () => {
    const wrongType = await refusal('on-batch-wrong-type');
    expect(wrongType.code).toBe('E_MODULE_INVALID');
    expect(wrongType.message).toContain('exports on_batch as a function (i32) -> i32; ABI v1 needs a function (i32, i32) -> i32');
    const global = await refusal('on-batch-global');
    expect(global.message).toContain('exports on_batch as an immutable i32 global');
  });

  it('no exported memory: E_MODULE_INVALID', async () => {
    const e = await refusal('no-memory');
    expect(e.code).toBe('E_MODULE_INVALID');
    expect(e.message).toContain('does not export its linear memory as "memory"');
  });

  it.each([
    ['import-wasi', 'wasi_snapshot_preview1.fd_write', /WASI/],
    ['import-env-abort', 'env.abort', /asconfig\.json/],
    ['import-unknown-hostcall', 'secuxflow.open_file', /emit_alert, emit_event, log_message, get_time_ns/],
    ['import-memory', 'env.memory', /only secuxflow/],
  ])('forbidden import %s: E_MODULE_IMPORT naming %s', async (fixture, what, hint) => {
    const e = await refusal(fixture);
    expect(e.code).toBe('E_MODULE_IMPORT');
    expect(e.message).toContain(what);
    expect(e.hint).toMatch(hint);
  });

  it('an import name holding terminal escapes: E_MODULE_IMPORT quotes it escaped, for library callers that print the message as is', async () => {
    const base = await readFile(join(fixtureDir, 'minimal.wat'), 'utf8');
    for (const [imp, quoted] of [
      ['(import "env\\1b[2J" "x\\07" (func))', 'env\\x1b[2J.x\\x07'],
      ['(import "secuxflow" "x\\1b]0;pwned\\07\\0a[secuxflow] forged" (func))', 'secuxflow.x\\x1b]0;pwned\\x07\\n[secuxflow] forged'],
    ]) {
      const e = await rejection(compileInspector('esc', await watToWasm(base.replace('(module', `(module ${imp}`), 'esc.wat')));
      expect(e.code).toBe('E_MODULE_IMPORT');
      expect(e.message).toContain(`imports ${quoted}`);
      expect(e.message).not.toMatch(/[\u0000-\u001f\u007f]/);
    }
  });

  it('a hostcall imported with the wrong signature: E_MODULE_IMPORT with both signatures', async () => {
    const e = await refusal('import-wrong-signature');
    expect(e.code).toBe('E_MODULE_IMPORT');
    expect(e.message).toContain('imports secuxflow.emit_alert as (i32, i32) -> i32; ABI v1 defines it as (i32, i32, i32, i32, i32, i32, i32) -> i32');
  });

  it('a component-model binary: E_MODULE_INVALID pointing at jco', async () => {
    // Header of a component: magic, version 0x0d, layer 1.
    const e = await rejection(compileInspector('comp', Uint8Array.from([0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0])));
    expect(e.code).toBe('E_MODULE_INVALID');
    expect(e.message).toBe('module comp is a WebAssembly component; this loader reads core modules only; components run through jco');
  });

  it('bytes that are not wasm, and truncated wasm: E_MODULE_INVALID', async () => {
    const text = await rejection(compileInspector('txt', new TextEncoder().encode('hello')));
    expect(text.code).toBe('E_MODULE_INVALID');
    expect(text.message).toContain('not a WebAssembly binary');
    const good = await fixtureBytes('minimal');
    const cut = await rejection(compileInspector('cut', good.subarray(0, good.length - 5)));
    expect(cut.code).toBe('E_MODULE_INVALID');
    expect(cut.message).toMatch(/^module cut is not a valid WebAssembly module: /);
  });

  it('WAT syntax errors carry file:line:col', async () => {
    const e = await rejection(watToWasm('(module\n  (func (result i32) (i32.const 1)\n  (bogus)\n)', 'bad.wat'));
    expect(e.code).toBe('E_MODULE_INVALID');
    expect(e.message).toMatch(/^bad\.wat is not valid WebAssembly text: bad\.wat:3:\d+: /);
  });

  it('a WAT syntax error on a line holding terminal escapes: line and column kept, the quoted source escaped', async () => {
    const e = await rejection(watToWasm('(module\n  (bad \u001b[31mtoken\u0007\n', 'esc.wat'));
    expect(e.code).toBe('E_MODULE_INVALID');
    expect(e.message).toMatch(/^esc\.wat is not valid WebAssembly text: esc\.wat:2:4: /);
    expect(e.hint).toContain('(bad \\x1b[31mtoken\\x07');
    expect(`${e.message}${e.hint}`).not.toMatch(/[\u0000-\u0008\u001b]/);
  });

  it('WAT nested so deep that wabt itself crashes: E_MODULE_INVALID saying so, and the next .wat still compiles', async () => {
    const depth = 100_000;
    const deep = `(module (func ${'(i32.add '.repeat(depth)}${'(i32.const 1) '.repeat(depth + 1)}${')'.repeat(depth)} drop))`;
    const e = await rejection(watToWasm(deep, 'deep.wat'));
    expect(e.code).toBe('E_MODULE_INVALID');
    expect(e.message).toMatch(/^deep\.wat is too deeply nested or too large for the WebAssembly text compiler \(wabt failed: /);
    expect(e.hint).toMatch(/flatten/);
    // The crashed compiler instance used to answer "memory access out of bounds" to every later module.
    const wasm = await watToWasm(await readFile(join(fixtureDir, 'minimal.wat'), 'utf8'), 'minimal.wat');
    expect(WebAssembly.validate(wasm)).toBe(true);
  });

  it('loadInspectorFile reads .wat by content and names the module after the file', async () => {
    const c = await loadInspectorFile(join(fixtureDir, 'minimal.wat'));
    expect(c.name).toBe('minimal');
    const named = await loadInspectorFile(join(fixtureDir, 'minimal.wat'), 'other');
    expect(named.name).toBe('other');
    const missing = await rejection(loadInspectorFile(join(fixtureDir, 'nope.wasm')));
    expect(missing.code).toBe('E_MODULE_NOT_FOUND');
    const syntax = await rejection(loadInspectorFile(join(fixtureDir, 'syntax-error.wat')));
    expect(syntax.code).toBe('E_MODULE_INVALID');
    expect(syntax.message).toMatch(/syntax-error\.wat:\d+:\d+: /);
  });
});
