import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SecuxflowError } from '../../../host/errors.js';
import { validateRuleSet } from '../../../host/rules/parse.js';
import { DEFAULT_STATE_DIR, resolveStateDir, StateStore } from '../../../host/state/store.js';
import { stateDirHint } from '../../../host/state/hints.js';

const base = mkdtempSync(join(tmpdir(), 'sf-store-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));
let n = 0;
const freshDir = (): string => join(base, `d${++n}`);

function stateError(fn: () => unknown): SecuxflowError {
  try {
    fn();
  } catch (e) {
    if (e instanceof SecuxflowError) return e;
    throw e;
  }
  throw new Error('expected an error');
}

describe('resolveStateDir: --state-dir > SECUXFLOW_STATE_DIR > /var/lib/secuxflow', () => {
  const saved = process.env.SECUXFLOW_STATE_DIR;
  afterEach(() => {
    if (saved === undefined) delete process.env.SECUXFLOW_STATE_DIR;
    else process.env.SECUXFLOW_STATE_DIR = saved;
  });

  it('picks in that order', () => {
    process.env.SECUXFLOW_STATE_DIR = '/tmp/from-env';
    expect(resolveStateDir('/tmp/from-flag')).toBe('/tmp/from-flag');
    expect(resolveStateDir()).toBe('/tmp/from-env');
    delete process.env.SECUXFLOW_STATE_DIR;
    expect(resolveStateDir()).toBe(DEFAULT_STATE_DIR);
    expect(new StateStore('rel/dir').dir).toBe(resolve('rel/dir'));
  });
});

describe('versioned JSON files', () => {
  it('writeJson adds version 1, readJson strips it, and no temporary file is left', () => {
    const store = new StateStore(freshDir());
    store.writeJson('modules.json', { modules: [{ name: 'a' }] });
    const raw = JSON.parse(readFileSync(store.path('modules.json'), 'utf8')) as Record<string, unknown>;
    expect(raw.version).toBe(1);
    expect(store.readJson('modules.json', null)).toEqual({ modules: [{ name: 'a' }] });
    store.writeJson('modules.json', { modules: [] });
    expect(store.readJson('modules.json', null)).toEqual({ modules: [] });
    expect(readdirSync(store.dir).sort()).toEqual(['modules.json']);
  });

  it('a missing file gives the fallback; a missing directory too', () => {
    const store = new StateStore(join(freshDir(), 'not', 'there'));
    expect(store.readJson('x.json', { empty: true })).toEqual({ empty: true });
    expect(store.readRules()).toEqual({ defaultPolicy: 'pass', rules: [] });
  });

  it.each([
    ['not JSON', '{"version": 1, "rules": [', /is corrupt: /],
    ['truncated to nothing', '', /is corrupt: /],
    ['an array', '[]', /expected a JSON object/],
    ['no version', '{"rules": []}', /"version" is missing, expected 1/],
    ['a wrong version', '{"version": "1"}', /"version" is "1", expected 1/],
  ])('%s gives E_STATE naming the file and is left untouched', (_name, content, re) => {
    const store = new StateStore(freshDir());
    store.ensureDir();
    const p = store.path('rules.json');
    writeFileSync(p, content);
    const before = statSync(p);
    const e = stateError(() => store.readRules());
    expect(e.code).toBe('E_STATE');
    expect(e.message).toContain(p);
    expect(e.message).toMatch(re);
    expect(e.hint).toMatch(/never overwrites it.*mv /);
    expect(readFileSync(p, 'utf8')).toBe(content);
    expect(statSync(p).mtimeMs).toBe(before.mtimeMs);
  });

  it('writing over a corrupt file is refused too, so it can still be recovered', () => {
    const store = new StateStore(freshDir());
    store.ensureDir();
    writeFileSync(store.path('attachments.json'), '{"version": 1, "attachments": [');
    const e = stateError(() => store.writeJson('attachments.json', { attachments: [] }));
    expect(e.code).toBe('E_STATE');
    expect(e.message).toContain(store.path('attachments.json'));
    expect(readFileSync(store.path('attachments.json'), 'utf8')).toBe('{"version": 1, "attachments": [');
    writeFileSync(store.path('rules.json'), '{"version": 7}');
    expect(stateError(() => store.writeRules({ defaultPolicy: 'pass', rules: [] })).message).toMatch(/newer secuxflow/);
    expect(readFileSync(store.path('rules.json'), 'utf8')).toBe('{"version": 7}');
  });

  it('a state file that is a link to /dev/zero, or a directory, is E_STATE at once naming what it is (it was read forever)', () => {
    const store = new StateStore(freshDir());
    store.ensureDir();
    symlinkSync('/dev/zero', store.path('modules.json'));
    const dev = stateError(() => store.readJson('modules.json', {}));
    expect(dev.code).toBe('E_STATE');
    expect(dev.message).toBe(`state file ${store.path('modules.json')} is a device, not a regular file`);
    expect(dev.hint).toMatch(/move it away/);
    mkdirSync(store.path('rules.json'));
    expect(stateError(() => store.readRules()).message).toBe(`state file ${store.path('rules.json')} is a directory, not a regular file`);
  });

  it('hints fit the errno: a read-only filesystem says remount, and "run as root" is only said to someone who is not', () => {
    expect(stateDirHint('EROFS', 'another directory')).toMatch(/^its filesystem is mounted read-only: remount it read-write, or choose another directory with --state-dir/);
    expect(stateDirHint('ENOSPC', 'a writable directory')).toMatch(/^free some space/);
    const eacces = stateDirHint('EACCES', 'a writable directory');
    if (process.getuid?.() === 0) {
      expect(eacces).toMatch(/^permission denied even to root/);
      expect(eacces).not.toMatch(/run as root/);
    } else {
      expect(eacces).toMatch(/^run as root/);
    }
  });

  it('a newer version is refused with an upgrade hint', () => {
    const store = new StateStore(freshDir());
    store.ensureDir();
    writeFileSync(store.path('rules.json'), '{"version": 2, "rules": []}');
    const e = stateError(() => store.readRules());
    expect(e.code).toBe('E_STATE');
    expect(e.message).toMatch(/version 2, written by a newer secuxflow/);
  });

  it('a state file holding an invalid rule is E_STATE naming the file and the rule', () => {
    const store = new StateStore(freshDir());
    store.ensureDir();
    writeFileSync(store.path('rules.json'), JSON.stringify({ version: 1, rules: [{ id: 1, action: 'explode' }] }));
    const e = stateError(() => store.readRules());
    expect(e.code).toBe('E_STATE');
    expect(e.message).toContain(store.path('rules.json'));
    expect(e.message).toMatch(/rule #1 \(id 1\): field "action": "explode"/);
  });
});

describe('rules.json', () => {
  it('writeRules stores the rules in evaluation order and readRules gives them back', () => {
    const store = new StateStore(freshDir());
    const set = validateRuleSet({ default_policy: 'drop', rules: [
      { id: 3, priority: 5, action: 'pass', src: '2001:db8::/32' },
      { id: 1, priority: 9, action: 'drop', dst_port: '1-1023', proto: 'tcp' },
      { id: 2, priority: 5, action: 'inspect', modules: ['basic_inspect'], vlan: 7, comment: 'c' },
    ] }, 'x');
    store.writeRules(set);
    const back = store.readRules();
    expect(back.defaultPolicy).toBe('drop');
    expect(back.rules.map((r) => r.id)).toEqual([2, 3, 1]);
    expect(back.rules.find((r) => r.id === 1)).toEqual(set.rules.find((r) => r.id === 1));
    expect(back.rules.find((r) => r.id === 2)).toEqual(set.rules.find((r) => r.id === 2));
  });

  it('a write into an unwritable directory is E_STATE and leaves the old file', () => {
    if (process.getuid?.() === 0) {
      // root ignores directory permissions; the read-only case is covered by the path-not-a-directory case below
      const store = new StateStore(freshDir());
      store.ensureDir();
      writeFileSync(join(base, 'plainfile'), 'x');
      const blocked = new StateStore(join(base, 'plainfile', 'sub'));
      const e = stateError(() => blocked.writeRules({ defaultPolicy: 'pass', rules: [] }));
      expect(e.code).toBe('E_STATE');
      expect(e.message).toContain(join(base, 'plainfile', 'sub'));
      return;
    }
    const store = new StateStore(freshDir());
    store.writeRules({ defaultPolicy: 'drop', rules: [] });
    const before = readFileSync(store.path('rules.json'), 'utf8');
    chmodSync(store.dir, 0o500);
    try {
      const e = stateError(() => store.writeRules({ defaultPolicy: 'pass', rules: [] }));
      expect(e.code).toBe('E_STATE');
      expect(e.message).toContain(store.path('rules.json'));
    } finally {
      chmodSync(store.dir, 0o755);
    }
    expect(readFileSync(store.path('rules.json'), 'utf8')).toBe(before);
  });
});
