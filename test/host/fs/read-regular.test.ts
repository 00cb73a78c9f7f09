// Inputs a user names (module files, module configs) are read only when they
// are regular files of bounded size: a device or a pipe must be refused at
// once, not read until memory runs out or a writer appears.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../support/temp-dir.js';
import { FileTooLarge, NotARegularFile, readRegularFile } from '../../../host/fs/read-regular.js';
import { readConfigFile } from '../../../host/fs/read-config.js';

const dir = tempDir('read-regular');

describe('readRegularFile', () => {
  it('reads a regular file whole, also one exactly at the limit', () => {
    const p = join(dir, 'ok.json');
    writeFileSync(p, 'x'.repeat(1000));
    expect(readRegularFile(p, 1000).toString()).toBe('x'.repeat(1000));
    expect(readRegularFile(p, 5000).length).toBe(1000);
    const empty = join(dir, 'empty');
    writeFileSync(empty, '');
    expect(readRegularFile(empty, 10).length).toBe(0);
  });

  it('refuses a file over the limit', () => {
    const p = join(dir, 'big');
    writeFileSync(p, Buffer.alloc(4097));
    expect(() => readRegularFile(p, 4096)).toThrow(FileTooLarge);
  });

  it.each([
    ['a device that never ends', '/dev/zero', 'a device'],
    ['a device of random bytes', '/dev/urandom', 'a device'],
    ['a directory', dir, 'a directory'],
  ])('refuses %s at once', (_what, path, kind) => {
    const t = Date.now();
    expect(() => readRegularFile(path, 1 << 20)).toThrow(`${path} is ${kind}, not a regular file`);
    expect(() => readRegularFile(path, 1 << 20)).toThrow(NotARegularFile);
    expect(Date.now() - t).toBeLessThan(1000);
  });

  it('refuses a named pipe without waiting for a writer', () => {
    const fifo = join(dir, 'fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const t = Date.now();
    expect(() => readRegularFile(fifo, 1 << 20)).toThrow(/is a named pipe, not a regular file/);
    expect(Date.now() - t).toBeLessThan(1000);
  });

  it('passes system errors through for the caller to word', () => {
    expect(() => readRegularFile(join(dir, 'missing'), 10)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });
});

describe('readConfigFile', () => {
  it('words each refusal with what the file was for', () => {
    const sub = join(dir, 'cfgdir');
    mkdirSync(sub);
    expect(() => readConfigFile('/dev/zero', 'module x: its config', 'fix it')).toThrow(/^module x: its config \/dev\/zero is a device, not a regular file$/);
    expect(() => readConfigFile(sub, 'module x: its config', 'fix it')).toThrow(/is a directory/);
    expect(() => readConfigFile(join(dir, 'nope'), 'module x: its config', 'fix it')).toThrow(/cannot be read \(ENOENT\)/);
  });
});
