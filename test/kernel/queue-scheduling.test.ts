// Queue threads raise only themselves: setThreadScheduling acts on the
// calling thread, so a worker_thread that asks for SCHED_FIFO gets it while
// the process's other threads keep the normal policy. Read back from
// /proc/<pid>/task/<tid>/stat, the kernel's own account.
import { describe, expect, it } from 'vitest';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { addonPath, setThreadScheduling } from '../../host/kernel/native.js';
import { SecuxflowError } from '../../host/errors.js';
import { applyScheduling } from '../../host/daemon/scheduling.js';
import { requireKernel } from './support/kernel.js';

const k = requireKernel();

interface Sched { policy: number; rtPriority: number; nice: number }

function schedOf(tid: number): Sched {
  const stat = readFileSync(`/proc/${process.pid}/task/${tid}/stat`, 'utf8');
  // Fields after "(comm)": 3 is state, so field n is at index n - 3.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { nice: Number(f[19 - 3]), rtPriority: Number(f[40 - 3]), policy: Number(f[41 - 3]) };
}

const SCHED_OTHER = 0;
const SCHED_FIFO = 1;

/** Runs setThreadScheduling in a fresh worker thread; resolves to its tid and the sched it then has, read before it exits. */
function inWorker(realtime: boolean, value: number): Promise<{ tid: number; sched: Sched } | { error: { code: string; message: string } }> {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { readFileSync } = require('node:fs');
    const addon = require(workerData.addon);
    try {
      const tid = addon.setThreadScheduling(workerData.realtime, workerData.value);
      const stat = readFileSync('/proc/thread-self/stat', 'utf8');
      parentPort.postMessage({ tid, stat });
    } catch (e) {
      parentPort.postMessage({ error: { code: e.code, message: e.message } });
    }`;
  return new Promise((resolve, reject) => {
    const w = new Worker(code, { eval: true, workerData: { addon: addonPath(), realtime, value } });
    w.once('message', (m: { tid: number; stat: string } | { error: { code: string; message: string } }) => {
      void w.terminate();
      if ('error' in m) return resolve(m);
      const f = m.stat.slice(m.stat.lastIndexOf(')') + 2).split(' ');
      resolve({ tid: m.tid, sched: { nice: Number(f[19 - 3]), rtPriority: Number(f[40 - 3]), policy: Number(f[41 - 3]) } });
    });
    w.once('error', reject);
  });
}

describe.skipIf(k.skip)('queue thread scheduling', () => {
  it('a thread that asks for realtime runs SCHED_FIFO at that priority; the thread that started it does not change', async () => {
    const before = schedOf(process.pid);
    const r = await inWorker(true, 7);
    expect('error' in r).toBe(false);
    if ('error' in r) return;
    expect(r.tid).not.toBe(process.pid);
    expect(r.sched).toMatchObject({ policy: SCHED_FIFO, rtPriority: 7 });
    expect(schedOf(process.pid)).toEqual(before);
    expect(before.policy).toBe(SCHED_OTHER);
  });

  it('normal policy with a nice value: SCHED_OTHER at that nice', async () => {
    const r = await inWorker(false, -5);
    expect('error' in r).toBe(false);
    if (!('error' in r)) expect(r.sched).toMatchObject({ policy: SCHED_OTHER, rtPriority: 0, nice: -5 });
  });

  it('a priority the kernel refuses is a clear E_USAGE error and changes nothing', () => {
    const before = schedOf(process.pid);
    let err: unknown = null;
    try {
      setThreadScheduling({ policy: 'realtime', priority: 0 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SecuxflowError);
    expect((err as SecuxflowError).code).toBe('E_USAGE');
    expect((err as SecuxflowError).message).toMatch(/realtime priority 0/);
    expect((err as SecuxflowError).hint).toMatch(/1\.\.99/);
    expect(schedOf(process.pid)).toEqual(before);
  });

  it('without CAP_SYS_NICE (an unprivileged user) the call fails as E_NO_ROOT, naming the capability', () => {
    // The addon is copied where user nobody can read it, whatever the checkout's permissions.
    const dir = mkdtempSync(join(tmpdir(), 'sfsched-'));
    try {
      chmodSync(dir, 0o755);
      const addon = join(dir, 'addon.node');
      copyFileSync(addonPath(), addon);
      chmodSync(addon, 0o755);
      const script = `const a = require(${JSON.stringify(addon)}); try { a.setThreadScheduling(true, 10); console.log(JSON.stringify({ ok: true })); } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message, hint: e.hint })); }`;
      const out = execFileSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', script], { encoding: 'utf8', cwd: dir });
      const r = JSON.parse(out) as { ok?: boolean; code?: string; message?: string; hint?: string };
      expect(r.ok).toBeUndefined();
      expect(r.code).toBe('E_NO_ROOT');
      expect(r.message).toMatch(/permission denied/);
      expect(r.hint).toMatch(/CAP_SYS_NICE/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('applyScheduling never throws: a refused setting is reported, and the thread keeps its policy', () => {
    const before = schedOf(process.pid);
    const s = applyScheduling({ policy: 'realtime', priority: 0 });
    expect(s.applied).toBe(false);
    expect(s.error).toMatch(/E_USAGE: .*realtime priority 0/);
    expect(schedOf(process.pid)).toEqual(before);
  });
});
