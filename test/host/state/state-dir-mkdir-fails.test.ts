// A state directory that mkdir refuses although its parent exists (/proc/x):
// Node 20's recursive mkdirSync looped there forever at 100% CPU, so
// `--state-dir /proc/x` hung instead of failing.
import { statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../support/temp-dir.js';
import { bundleFixture, runNode, waitExit } from './helpers.js';

let script: string;
beforeAll(async () => {
  script = await bundleFixture('ensure-dir.ts', tempDir('ensure-dir-fixture'));
});

async function ensureDir(dir: string): Promise<{ ok?: boolean; code?: string; message?: string; hint?: string }> {
  const r = await waitExit(runNode(script, [dir]), 10_000);
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as { ok?: boolean; code?: string; message?: string; hint?: string };
}

describe('StateStore.ensureDir where mkdir fails oddly', () => {
  for (const dir of ['/proc/secuxflow-x', '/proc/secuxflow-x/deeper/state', '/sys/secuxflow-x']) {
    it(`${dir} is E_STATE at once naming the path and the reason`, async () => {
      const started = Date.now();
      const r = await ensureDir(dir);
      expect(Date.now() - started).toBeLessThan(8_000);
      expect(r.code).toBe('E_STATE');
      expect(r.message).toContain(`cannot create state directory ${dir}`);
      expect(r.message).toMatch(/: (ENOENT|EPERM|EACCES)/);
      expect(r.hint).toMatch(/--state-dir/);
    });
  }

  it('/proc/x says its parent exists but takes no new directories', async () => {
    const r = await ensureDir('/proc/secuxflow-x');
    expect(r.message).toBe('cannot create state directory /proc/secuxflow-x: ENOENT');
    expect(r.hint).toMatch(/^\/proc exists but takes no new directories/);
    expect(r.hint).toMatch(/pseudo-filesystem/);
  });

  it('a file in the way, as the directory or as a parent, is E_STATE naming it', async () => {
    const base = tempDir('ensure-dir-file');
    const f = join(base, 'file');
    writeFileSync(f, '');
    const self = await ensureDir(f);
    expect(self.code).toBe('E_STATE');
    expect(self.message).toContain(`cannot create state directory ${f}: EEXIST`);
    const under = await ensureDir(join(f, 'a', 'b'));
    expect(under.code).toBe('E_STATE');
    expect(under.message).toBe(`cannot create state directory ${join(f, 'a', 'b')}: ENOTDIR at ${f}`);
    expect(under.hint).toBe(`${f} is not a directory: choose a writable directory with --state-dir or SECUXFLOW_STATE_DIR`);
  });

  it('a dangling symbolic link as the directory or a parent: says it is one and what to do, not "a file is in the way"', async () => {
    const base = tempDir('ensure-dir-dangling');
    symlinkSync(join(base, 'gone'), join(base, 'state'));
    for (const dir of [join(base, 'state'), join(base, 'state', 'sub')]) {
      const r = await ensureDir(dir);
      expect(r.code).toBe('E_STATE');
      expect(r.message).toMatch(/: EEXIST/);
      expect(r.hint).toBe(`${join(base, 'state')} is a symbolic link to ${join(base, 'gone')}, which does not exist (a dangling link): `
        + `create ${join(base, 'gone')}, remove the link, or choose a writable directory with --state-dir or SECUXFLOW_STATE_DIR`);
    }
  });

  it('still makes missing levels and takes an existing directory', async () => {
    const base = tempDir('ensure-dir-ok');
    const deep = join(base, 'a', 'b', 'c');
    expect(await ensureDir(deep)).toEqual({ ok: true });
    expect(statSync(deep).isDirectory()).toBe(true);
    expect(await ensureDir(deep)).toEqual({ ok: true });
  });
});
