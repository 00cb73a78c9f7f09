import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecuxflowError } from '../../../host/errors.js';
import { StateStore } from '../../../host/state/store.js';
import { bundleFixture, runNode, waitExit } from './helpers.js';

const base = mkdtempSync(join(tmpdir(), 'sf-lock-'));
let holderScript = '';
let n = 0;
const freshDir = (): string => {
  const d = join(base, `d${++n}`);
  mkdirSync(d);
  return d;
};

beforeAll(async () => {
  holderScript = await bundleFixture('lock-holder.ts', base);
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** The pid of a process that has already exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  expect(r.status).toBe(0);
  return r.pid!;
}

describe('withLock', () => {
  it('serialises read-modify-write inside one process', async () => {
    const store = new StateStore(freshDir());
    let inside = 0;
    let maxInside = 0;
    const order: number[] = [];
    await Promise.all(Array.from({ length: 8 }, (_, i) => store.withLock(async () => {
      inside++;
      maxInside = Math.max(maxInside, inside);
      await sleep(5);
      order.push(i);
      inside--;
    })));
    expect(maxInside).toBe(1);
    expect(order.sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(existsSync(store.path('lock'))).toBe(false);
  });

  it('releases the lock when fn throws, and passes the error through', async () => {
    const store = new StateStore(freshDir());
    await expect(store.withLock(async () => { throw new SecuxflowError('E_RULE_NOT_FOUND', 'boom'); })).rejects.toMatchObject({ code: 'E_RULE_NOT_FOUND' });
    expect(existsSync(store.path('lock'))).toBe(false);
    await expect(store.withLock(async () => 42)).resolves.toBe(42);
  });

  it('when fn throws, takes back the levels it made for the lock, and keeps a directory that was there', async () => {
    const parent = join(base, `made${++n}`);
    const refused = new StateStore(join(parent, 'state'));
    await expect(refused.withLock(async () => { throw new SecuxflowError('E_RULE_NOT_FOUND', 'boom'); })).rejects.toMatchObject({ code: 'E_RULE_NOT_FOUND' });
    expect(existsSync(parent)).toBe(false);
    const existing = new StateStore(freshDir());
    await expect(existing.withLock(async () => { throw new SecuxflowError('E_RULE_NOT_FOUND', 'boom'); })).rejects.toThrow('boom');
    expect(readdirSync(existing.dir)).toEqual([]);
    await expect(refused.withLock(async () => 'made')).resolves.toBe('made');
    expect(existsSync(refused.dir)).toBe(true);
  });

  it('breaks a stale lock whose pid is dead', async () => {
    const store = new StateStore(freshDir(), { lockTimeoutMs: 2000 });
    const pid = deadPid();
    writeFileSync(store.path('lock'), JSON.stringify({ pid, host: hostname(), time: new Date().toISOString(), nonce: 'deadbeef' }));
    const started = Date.now();
    await expect(store.withLock(async () => 'got it')).resolves.toBe('got it');
    expect(Date.now() - started).toBeLessThan(1500);
    expect(existsSync(store.path('lock'))).toBe(false);
  });

  it('breaks an unreadable lock only once it is old (30 s)', async () => {
    const store = new StateStore(freshDir(), { lockTimeoutMs: 300 });
    writeFileSync(store.path('lock'), 'garbage');
    const old = (Date.now() - 60_000) / 1000;
    utimesSync(store.path('lock'), old, old);
    await expect(store.withLock(async () => 1)).resolves.toBe(1);

    writeFileSync(store.path('lock'), 'fresh garbage');
    await expect(store.withLock(async () => 2)).rejects.toMatchObject({ code: 'E_STATE', message: expect.stringMatching(/locked by an unknown process/) });
    expect(readFileSync(store.path('lock'), 'utf8')).toBe('fresh garbage');
  });

  it('waits for a live holder, then fails with E_STATE naming its pid', async () => {
    const dir = freshDir();
    const child = runNode(holderScript, [dir]);
    const exited = waitExit(child, 30_000);
    try {
      await new Promise<void>((res, rej) => {
        const t = setTimeout(() => rej(new Error('holder did not lock within 10 s')), 10_000);
        child.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('locked')) { clearTimeout(t); res(); } });
      });
      const store = new StateStore(dir, { lockTimeoutMs: 400 });
      const started = Date.now();
      const err = await store.withLock(async () => 'should not run').catch((e: unknown) => e);
      expect(Date.now() - started).toBeGreaterThanOrEqual(350);
      expect(err).toBeInstanceOf(SecuxflowError);
      expect((err as SecuxflowError).code).toBe('E_STATE');
      expect((err as SecuxflowError).message).toContain(`locked by pid ${child.pid}`);
      expect((err as SecuxflowError).hint).toContain(join(dir, 'lock'));

      // Once the holder is killed -9, its lock is stale and the next caller gets it.
      child.kill('SIGKILL');
      await exited;
      expect(existsSync(join(dir, 'lock'))).toBe(true);
      await expect(store.withLock(async () => 'after kill')).resolves.toBe('after kill');
    } finally {
      child.kill('SIGKILL');
      await exited.catch(() => undefined);
    }
  });

  it('sweeps temporary files abandoned by dead writers, keeps everything else', async () => {
    const store = new StateStore(freshDir());
    const dead = deadPid();
    const abandoned = [`rules.json.${dead}.0badc0de.tmp`, `lock.${dead}.00aa11bb.tmp`, `lock.broken.${dead}.0a0b0c0d`];
    const kept = [`rules.json.${process.pid}.12345678.tmp`, 'notes.txt'];
    for (const f of [...abandoned, ...kept]) writeFileSync(store.path(f), 'x');
    await store.withLock(async () => undefined);
    expect(readdirSync(store.dir).sort()).toEqual([...kept].sort());
  });
});
