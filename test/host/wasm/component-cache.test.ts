// A damaged entry of the component cache (a truncated manifest, a manifest of
// the wrong shape, an entry left without one) is transpiled again instead of
// failing every load of that component until someone finds and deletes it.
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModuleFile } from '../../../host/modules/load.js';
import { createModuleRunner } from '../../../host/sandbox/runner.js';
import { ROOT } from '../sandbox/support.js';
import { exportTypes } from '../../../host/wasm/component-types.js';
import { component, CORE_EXPORTS, rejection } from './helpers.js';
import { tempDir } from '../../support/temp-dir.js';

const TWIN = join(ROOT, 'build', 'modules', 'port_guard_component.wasm');
const saved = process.env.SECUXFLOW_COMPONENT_CACHE;
afterEach(() => {
  if (saved === undefined) delete process.env.SECUXFLOW_COMPONENT_CACHE;
  else process.env.SECUXFLOW_COMPONENT_CACHE = saved;
});

describe('component cache', () => {
  it('a damaged cache entry (truncated manifest, wrong shape, no manifest and an empty component.js) is rebuilt, and the component loads and starts', async () => {
    expect(existsSync(TWIN), `${TWIN} is missing: run npm run build`).toBe(true);
    const cache = tempDir('ccache');
    process.env.SECUXFLOW_COMPONENT_CACHE = cache;
    const first = await loadModuleFile(TWIN);
    const entry = join(cache, first.sha256);
    const damage: [string, () => void][] = [
      ['truncated manifest', () => writeFileSync(join(entry, 'manifest.json'), '{"imp')],
      ['manifest of the wrong shape', () => writeFileSync(join(entry, 'manifest.json'), '{"imports":5,"exports":null}')],
      ['no manifest, empty component.js', () => { rmSync(join(entry, 'manifest.json')); writeFileSync(join(entry, 'component.js'), ''); }],
    ];
    for (const [what, harm] of damage) {
      harm();
      const mod = await loadModuleFile(TWIN);
      expect(mod.component?.exports, what).toContain('inspectBatch');
      const runner = await createModuleRunner(mod, { logger: () => {} });
      expect(runner.stats().status, what).toBe('ok');
      runner.close();
      expect(readdirSync(cache).filter((f) => f !== first.sha256), `${what}: no leftovers`).toEqual([]);
    }
  }, 120_000);

  it('an entry written before export types were checked is checked again: a component with a verdict of other fields stays refused, the twin loads and its entry is completed', async () => {
    const cache = tempDir('ccache');
    process.env.SECUXFLOW_COMPONENT_CACHE = cache;
    const wit = readFileSync(join(ROOT, 'modules', 'wit', 'inspector.wit'), 'utf8').replace('arg: u16,', 'arg: u32,');
    const bytes = await component(wit, 'inspector', `(module ${CORE_EXPORTS}
      (func (export "flow-end") (param i64)) (func (export "inspect-batch") (param i32 i32) (result i32) (i32.const 0)))`);
    const load = (): Promise<unknown> => loadModuleFile('/virtual/wide_arg.wasm', { name: 'wide_arg', bytes });
    expect((await rejection(load())).message).toMatch(/record verdict, field arg: u32 where the world has u16/);
    const [sha] = readdirSync(cache);
    const manifest = join(cache, sha!, 'manifest.json');
    const full = JSON.parse(readFileSync(manifest, 'utf8')) as Record<string, unknown>;
    expect(full.typeFormat).toBe(1);
    const { print } = await import('@bytecodealliance/jco');
    const twinTypes = exportTypes(await print(readFileSync(TWIN)));
    const old: [string, Record<string, unknown>][] = [
      ['as written before the check', { imports: full.imports, exports: full.exports, signatures: full.signatures }],
      ['types of no known format', { ...full, typeFormat: undefined, exportTypes: twinTypes }],
      ['types of the wrong shape', { ...full, exportTypes: { 'inspect-batch': { k: 'record' } } }],
    ];
    for (const [what, m] of old) {
      writeFileSync(manifest, JSON.stringify(m));
      const e = await rejection(load());
      expect(e.message, what).toMatch(/record verdict, field arg: u32 where the world has u16/);
      expect(JSON.parse(readFileSync(manifest, 'utf8')), `${what}: completed`).toMatchObject({ typeFormat: 1, exportTypes: full.exportTypes });
    }

    const first = await loadModuleFile(TWIN);
    const twinManifest = join(cache, first.sha256, 'manifest.json');
    const t = JSON.parse(readFileSync(twinManifest, 'utf8')) as Record<string, unknown>;
    writeFileSync(twinManifest, JSON.stringify({ imports: t.imports, exports: t.exports }));
    const again = await loadModuleFile(TWIN);
    expect(again.component?.exports).toContain('inspectBatch');
    expect(JSON.parse(readFileSync(twinManifest, 'utf8'))).toEqual(t);
  }, 120_000);
});
