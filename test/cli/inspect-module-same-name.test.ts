// Two --module files whose names agree (modules are named after their file)
// are refused before anything runs, with the way out; the same module given
// twice is told apart from that.
import { beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, cli, requireBuilt, tempDir } from './support.js';

describe('inspect --module: two modules of one name', () => {
  const minimal = join(ROOT, 'test', 'fixtures', 'modules', 'minimal.wat');
  beforeAll(() => requireBuilt());

  it('two files of the same base name: names both and says how to tell them apart', () => {
    const dir = tempDir('sf-samename-');
    for (const sub of ['a', 'b']) {
      mkdirSync(join(dir, sub));
      copyFileSync(minimal, join(dir, sub, 'guard.wat'));
    }
    const r = cli(['inspect', '--ip', '198.18.0.2', '--port', '80', '--proto', 'tcp', '--module', join(dir, 'a', 'guard.wat'), '--module', join(dir, 'b', 'guard.wat')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`a module named "guard" is already loaded (from --module ${join(dir, 'a', 'guard.wat')})`);
    expect(r.stderr).toMatch(/hint: a file's module is named after the file: rename one of them, or register one under another name/);
  });

  it('the same module twice: give it once', () => {
    const r = cli(['inspect', '--ip', '198.18.0.2', '--port', '80', '--proto', 'tcp', '--module', 'basic_inspect', '--module', 'basic_inspect']);
    expect(r.stderr).toMatch(/a module named "basic_inspect" is already loaded\n\s+hint: give each module once/);
  });
});
