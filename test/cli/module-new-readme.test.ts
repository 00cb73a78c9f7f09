// The README of a `secuxflow module new` project told the user to run
// `secuxflow module load build/NAME.wasm --config config.json`, but the
// project had no config.json: the command failed as written. Every
// `secuxflow module load` line of that README now runs, in the project, as is.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, ROOT, cli, requireBuilt, tempDir } from './support.js';

const ASC = join(ROOT, 'node_modules', 'assemblyscript', 'bin', 'asc.js');

describe('the README of a scaffolded module project', () => {
  beforeAll(() => requireBuilt());

  it('its module load commands run as written', () => {
    const dir = join(tempDir('mod-readme'), 'door');
    expect(cli(['module', 'new', 'door', '--dir', dir]).status).toBe(0);
    // The project's own build script, with the compiler secuxflow itself is built with (no npm install needed).
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const build = spawnSync(process.execPath, [ASC, ...pkg.scripts.build.split(' ').slice(1)], { cwd: dir, encoding: 'utf8' });
    expect(build.status, build.stderr).toBe(0);

    const lines = readFileSync(join(dir, 'README.md'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l.startsWith('secuxflow module load '));
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      const args = line.replace(/\s+#.*$/, '').split(/\s+/).slice(1);
      const r = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, SECUXFLOW_STATE_DIR: tempDir('mod-readme-state') } });
      expect(r.stderr, line).toBe('');
      expect(r.status, line).toBe(0);
      expect(r.stdout).toMatch(/registered module door \(core, ABI 1/);
    }
  });
});
