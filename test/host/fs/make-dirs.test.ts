// Directories secuxflow makes for a path the user chose (component cache,
// state directory, module project) are made one level at a time: Node 20's
// recursive mkdirSync spins forever at 100% CPU under /proc, so
// SECUXFLOW_COMPONENT_CACHE=/proc/x hung every command that loads a component.
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SecuxflowError } from '../../../host/errors.js';
import { makeDirs, type MakeDirsOptions } from '../../../host/fs/make-dirs.js';
import { tempDir } from '../../support/temp-dir.js';
import { CLI, ROOT, requireBuilt } from '../../cli/support.js';

const opts: MakeDirsOptions = { what: 'test directory', instead: 'choose another --dir' };

function refusal(target: string, o: MakeDirsOptions = opts): SecuxflowError {
  try {
    makeDirs(target, o);
  } catch (e) {
    expect(e).toBeInstanceOf(SecuxflowError);
    return e as SecuxflowError;
  }
  throw new Error(`makeDirs(${target}) did not fail`);
}

describe('makeDirs', () => {
  it('makes the missing levels, says which it made, and takes an existing directory or a link to one', () => {
    const base = tempDir('make-dirs');
    const deep = join(base, 'a', 'b', 'c');
    expect(makeDirs(deep, { ...opts, mode: 0o700 })).toEqual([join(base, 'a'), join(base, 'a', 'b'), deep]);
    expect(statSync(deep).isDirectory()).toBe(true);
    expect(statSync(join(base, 'a')).mode & 0o777).toBe(0o700);
    expect(makeDirs(deep, opts)).toEqual([]);
    symlinkSync(join(base, 'a'), join(base, 'link'));
    expect(makeDirs(join(base, 'link', 'd'), opts)).toEqual([join(base, 'link', 'd')]);
  });

  it('under /proc: the code asked for, naming the level and saying the filesystem takes no directories', () => {
    const e = refusal('/proc/sf-make-dirs/x', { ...opts, code: 'E_STATE' });
    expect(e.code).toBe('E_STATE');
    expect(e.message).toBe('cannot create test directory /proc/sf-make-dirs/x: ENOENT at /proc/sf-make-dirs');
    expect(e.hint).toBe('/proc exists but takes no new directories (a pseudo-filesystem such as /proc or /sys): choose another --dir');
  });

  it('a file as the directory or as a parent: E_IO naming it, nothing made', () => {
    const base = tempDir('make-dirs-file');
    const file = join(base, 'file');
    writeFileSync(file, '');
    const self = refusal(file);
    expect(self.code).toBe('E_IO');
    expect(self.message).toBe(`cannot create test directory ${file}: EEXIST`);
    expect(self.hint).toBe(`${file} is in the way and is not a directory: move it away, or choose another --dir`);
    const under = refusal(join(file, 'a', 'b'));
    expect(under.message).toBe(`cannot create test directory ${join(file, 'a', 'b')}: ENOTDIR at ${file}`);
    expect(under.hint).toBe(`${file} is not a directory: choose another --dir`);
  });

  it('a dangling symbolic link as the directory or as a parent: says so, and what to do', () => {
    const base = tempDir('make-dirs-link');
    symlinkSync('gone', join(base, 'dangling'));
    const self = refusal(join(base, 'dangling'));
    expect(self.message).toBe(`cannot create test directory ${join(base, 'dangling')}: EEXIST`);
    expect(self.hint).toBe(`${join(base, 'dangling')} is a symbolic link to ${join(base, 'gone')}, which does not exist (a dangling link): create ${join(base, 'gone')}, remove the link, or choose another --dir`);
    const under = refusal(join(base, 'dangling', 'x'));
    expect(under.message).toBe(`cannot create test directory ${join(base, 'dangling', 'x')}: EEXIST at ${join(base, 'dangling')}`);
    expect(under.hint).toMatch(/is a symbolic link to .*gone, which does not exist \(a dangling link\)/);
    mkdirSync(join(base, 'gone'));
    expect(makeDirs(join(base, 'dangling', 'x'), opts)).toEqual([join(base, 'dangling', 'x')]);
  });
});

describe('SECUXFLOW_COMPONENT_CACHE under /proc', () => {
  beforeAll(() => requireBuilt());

  it('module load of a component fails at once with E_STATE naming the cache, instead of spinning forever', () => {
    const started = Date.now();
    const r = spawnSync(process.execPath, [CLI, 'module', 'load', join(ROOT, 'build', 'modules', 'port_guard_component.wasm')], {
      encoding: 'utf8', timeout: 20_000,
      env: { ...process.env, SECUXFLOW_STATE_DIR: tempDir('make-dirs-state'), SECUXFLOW_COMPONENT_CACHE: '/proc/sf-component-cache/x' },
    });
    expect(r.signal, 'module load did not finish (killed after 20 s)').toBeNull();
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('error[E_STATE]: cannot create cache directory /proc/sf-component-cache/x: ENOENT at /proc/sf-component-cache\n'
      + '  hint: /proc exists but takes no new directories (a pseudo-filesystem such as /proc or /sys): point SECUXFLOW_COMPONENT_CACHE at a directory only you can write');
  }, 30_000);
});
