// Two --module files whose names agree (modules are named after their file)
// are refused before anything runs, with the way out; the same module given
// twice is told apart from that.
import { beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { shippedModulesDir } from '../../host/paths.js';
import { cli, requireBuilt, tempDir } from './support.js';

describe('inspect --module: two modules of one name', () => {
  const shipped = join(shippedModulesDir(), 'basic_inspect.wasm');
  beforeAll(() => requireBuilt());

  it('two files of the same base name: names both and says how to tell them apart', () => {
    const dir = tempDir('sf-samename-');
    for (const sub of ['a', 'b']) {
      mkdirSync(join(dir, sub));
      copyFileSync(shipped, join(dir, sub, 'guard.wasm'));
    }
    const r = cli(['inspect', '--ip', '198.18.0.2', '--port', '80', '--proto', 'tcp', '--module', join(dir, 'a', 'guard.wasm'), '--module', join(dir, 'b', 'guard.wasm')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`a module named "guard" is already loaded (from --module ${join(dir, 'a', 'guard.wasm')})`);
    expect(r.stderr).toMatch(/hint: a file's module is named after the file: rename one of them, or register one under another name/);
  });

  it('the same module twice: give it once', () => {
    const r = cli(['inspect', '--ip', '198.18.0.2', '--port', '80', '--proto', 'tcp', '--module', 'basic_inspect', '--module', 'basic_inspect']);
    expect(r.stderr).toMatch(/a module named "basic_inspect" is already loaded\n\s+hint: give each module once/);
  });
});
