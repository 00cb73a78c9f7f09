// `secuxflow module new --dir` where the directory cannot be made: an E_IO
// naming the level that failed, at once. Node 20's recursive mkdirSync spins
// forever at 100% CPU under /proc or a dangling symbolic link, so these ran
// until killed.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, requireBuilt, tempDir } from './support.js';

function moduleNew(dir: string): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'module', 'new', 'probe', '--dir', dir], { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stderr: r.stderr };
}

describe('secuxflow module new --dir that cannot be made', () => {
  beforeAll(() => requireBuilt());

  it('under /proc: E_IO at once, saying the filesystem takes no directories', () => {
    const r = moduleNew('/proc/sf-module-new-probe/x');
    expect(r.status, 'module new did not finish (killed after 20 s)').toBe(1);
    expect(r.stderr).toMatch(/error\[E_IO\]: cannot create the project directory \/proc\/sf-module-new-probe\/x: ENOENT at \/proc\/sf-module-new-probe\n  hint: \/proc exists but takes no new directories/);
  });

  it('under a dangling symbolic link or a file: E_IO at once, naming what is in the way, nothing created', () => {
    const base = tempDir('mod-new-dir');
    symlinkSync(join(base, 'gone'), join(base, 'dangling'));
    writeFileSync(join(base, 'file'), '');
    const dangling = moduleNew(join(base, 'dangling', 'x'));
    expect(dangling.status, 'module new did not finish (killed after 20 s)').toBe(1);
    expect(dangling.stderr).toContain(`EEXIST at ${join(base, 'dangling')}\n  hint: ${join(base, 'dangling')} is a symbolic link to ${join(base, 'gone')}, which does not exist (a dangling link)`);
    const file = moduleNew(join(base, 'file', 'x'));
    expect(file.status).toBe(1);
    expect(file.stderr).toContain(`ENOTDIR at ${join(base, 'file')}\n  hint: ${join(base, 'file')} is not a directory`);
    expect(existsSync(join(base, 'gone'))).toBe(false);
    expect(readdirSync(base).sort()).toEqual(['dangling', 'file']);
  });

  it('missing levels are made: the project lands in a new nested directory', () => {
    const dir = join(tempDir('mod-new-dir'), 'a', 'b');
    const r = moduleNew(dir);
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(join(dir, 'package.json'))).toBe(true);
  });
});
