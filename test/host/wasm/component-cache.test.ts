// A damaged entry of the component cache (a truncated manifest, a manifest of
// the wrong shape, an entry left without one) is transpiled again instead of
// failing every load of that component until someone finds and deletes it.
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModuleFile } from '../../../host/modules/load.js';
import { createModuleRunner } from '../../../host/sandbox/runner.js';
import { ROOT } from '../sandbox/support.js';

const TWIN = join(ROOT, 'build', 'modules', 'port_guard_component.wasm');
const saved = process.env.SECUXFLOW_COMPONENT_CACHE;
afterEach(() => {
  if (saved === undefined) delete process.env.SECUXFLOW_COMPONENT_CACHE;
  else process.env.SECUXFLOW_COMPONENT_CACHE = saved;
});

describe('component cache', () => {
  it('a damaged cache entry (truncated manifest, wrong shape, no manifest and an empty component.js) is rebuilt, and the component loads and starts', async () => {
    expect(existsSync(TWIN), `${TWIN} is missing: run npm run build`).toBe(true);
    const cache = mkdtempSync(join(tmpdir(), 'sf-ccache-'));
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
    rmSync(cache, { recursive: true, force: true });
  }, 120_000);
});
