// An advisory lock file that serialises read-modify-write of the state
// directory across processes. The lock file appears atomically with its
// content (written aside, then hard-linked into place, which fails if the
// lock exists), so a waiter never sees an empty lock. A lock whose holder
// process is gone is broken; breaking is done by renaming it aside and
// checking that what was moved is the dead holder's lock, so two waiters
// breaking at once cannot remove a live holder's lock.
import { linkSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { SecuxflowError } from '../errors.js';
import { stateDirHint } from './hints.js';
import { TEMP_FILE_RE } from './atomic.js';

export const LOCK_NAME = 'lock';
/**
 * A lock file we cannot parse was not written by a secuxflow that is running
 * (ours appear complete, via link); after this long it is treated as debris.
 */
const UNREADABLE_LOCK_AGE_MS = 30_000;

export interface LockInfo {
  pid: number;
  host: string;
  time: string;
  nonce: string;
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLockInfo(path: string): LockInfo | null {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockInfo>;
    if (typeof v.pid === 'number' && typeof v.nonce === 'string') {
      return { pid: v.pid, host: String(v.host ?? ''), time: String(v.time ?? ''), nonce: v.nonce };
    }
  } catch {
    // unreadable or not ours: handled by the caller
  }
  return null;
}

/** A lock that no live process can release: its holder died, or it is old garbage. */
function isStale(info: LockInfo | null, path: string): boolean {
  if (info === null) {
    try {
      return Date.now() - statSync(path).mtimeMs > UNREADABLE_LOCK_AGE_MS;
    } catch {
      return false;
    }
  }
  return info.host === hostname() && !isProcessAlive(info.pid);
}

function breakStaleLock(path: string, seen: LockInfo | null): void {
  const aside = `${path}.broken.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    renameSync(path, aside);
  } catch {
    return; // someone else broke or released it first
  }
  const moved = readLockInfo(aside);
  const sameLock = seen === null ? moved === null : moved !== null && moved.nonce === seen.nonce;
  if (!sameLock) {
    // We raced with a waiter that had already broken the stale lock and taken
    // the lock itself: put its lock back (link fails rather than overwrite).
    try { linkSync(aside, path); } catch { /* a third process took the lock meanwhile */ }
  }
  try { unlinkSync(aside); } catch { /* already gone */ }
}

function removeAbandonedTempFiles(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const m = TEMP_FILE_RE.exec(name) ?? /^lock\.broken\.(\d+)\.[0-9a-f]+$/.exec(name);
    if (!m) continue;
    const pid = Number(m.length > 2 ? m[2] : m[1]);
    if (pid !== process.pid && !isProcessAlive(pid)) {
      try { unlinkSync(join(dir, name)); } catch { /* raced with another sweeper */ }
    }
  }
}

export interface HeldLock {
  release(): void;
}

/** Takes `<dir>/lock`, waiting up to timeoutMs; E_STATE names the holder when it cannot. */
export async function acquireLock(dir: string, timeoutMs: number): Promise<HeldLock> {
  const path = join(dir, LOCK_NAME);
  const mine: LockInfo = { pid: process.pid, host: hostname(), time: new Date().toISOString(), nonce: randomBytes(8).toString('hex') };
  const staging = join(dir, `${LOCK_NAME}.${process.pid}.${mine.nonce}.tmp`);
  try {
    writeFileSync(staging, `${JSON.stringify(mine)}\n`, { flag: 'wx', mode: 0o644 });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new SecuxflowError('E_STATE', `cannot create a lock in state directory ${dir}: ${code}`,
      stateDirHint(code, 'a writable directory'));
  }
  const deadline = Date.now() + timeoutMs;
  let delay = 2;
  let holder: LockInfo | null = null;
  try {
    for (;;) {
      try {
        linkSync(staging, path);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new SecuxflowError('E_STATE', `cannot take the lock ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
        }
      }
      holder = readLockInfo(path);
      if (isStale(holder, path)) {
        breakStaleLock(path, holder);
        continue;
      }
      if (Date.now() >= deadline) {
        const who = holder ? `pid ${holder.pid}${holder.host !== hostname() ? ` on ${holder.host}` : ''} (since ${holder.time})` : 'an unknown process';
        throw new SecuxflowError('E_STATE', `state directory ${dir} is locked by ${who}`,
          `wait for it to finish; if that process is gone, remove ${path}`);
      }
      await sleep(delay + Math.random() * delay);
      delay = Math.min(50, delay * 2);
    }
  } finally {
    try { unlinkSync(staging); } catch { /* already gone */ }
  }
  removeAbandonedTempFiles(dir);
  return {
    release(): void {
      // Only remove the lock if it is still ours (it never should be broken while we live).
      const now = readLockInfo(path);
      if (now !== null && now.nonce === mine.nonce) {
        try { unlinkSync(path); } catch { /* gone */ }
      }
    },
  };
}
