// A signal while `secuxflow run` is still starting (attached, modules still
// loading): SIGTERM/SIGINT must stop it as a stop does, not kill the process
// half way with the program attached, the record, the pins and a stale
// control socket left behind; SIGHUP must not kill it either.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireKernel } from './support/kernel.js';
import { labSkipReason } from './lab/gate.js';
import { cliIn } from './lab/cli-lab.js';
import { NetLab } from './lab/netns.js';
import { xdpOnLink } from './lab/bpffs.js';
import { prepareDaemonOnVeth, runDaemonOnVeth, sleep, type DaemonProc, type DaemonVethLab } from './daemon-support.js';
import { requestDaemon } from '../../host/control/client.js';
import type { SecuxflowError } from '../../host/errors.js';

const kernel = requireKernel();
const labReason = kernel.skip ? null : labSkipReason();
const SUBNET = 77;
// Seven modules to load in the queue thread: the start stays busy well after it attached.
const MODULES = 'modules: [basic_inspect, http_waf, dns_guard, tls_inspect, ssh_guard, dlp, scan_flood]\n';

describe.skipIf(kernel.skip || labReason !== null).sequential('signals while the daemon starts', () => {
  const lab = new NetLab('dss');
  let c: DaemonVethLab;

  const { ok } = cliIn(lab, () => ({ ...c, ns: c.end.ns }));
  const start = (): DaemonProc => runDaemonOnVeth(lab, c);
  const exit = (d: DaemonProc): Promise<{ code: number | null; signal: NodeJS.Signals | null }> =>
    d.exited.then((code) => ({ code, signal: d.child.signalCode }));

  beforeAll(async () => {
    c = await prepareDaemonOnVeth(lab, SUBNET, MODULES);
  }, 240_000);

  // runDaemonOnVeth has the lab kill a daemon still running at cleanup.
  afterAll(async () => {
    await lab.cleanup();
  });

  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    it(`${sig} right after the attach: the start completes, then the stop policy runs; exit 0, nothing attached, no socket left`, async () => {
      const d = start();
      await d.waitLog((l) => l.msg === 'attached', 60_000);
      d.child.kill(sig);
      expect(await exit(d)).toEqual({ code: 0, signal: null });
      expect(d.logs.map((l) => l.msg)).toEqual(expect.arrayContaining(['stop requested during start-up: stopping once the start is complete', 'stopped']));
      expect(await xdpOnLink(c.end.ns, c.end.ifname)).toBeNull();
      expect(readFileSync(join(c.stateDir, 'attachments.json'), 'utf8')).not.toContain(c.end.ifname);
      expect(existsSync(join(c.stateDir, 'control.sock'))).toBe(false);
    });
  }

  it('status while the daemon attaches: "starting" (E_DAEMON), never an internal error, then the status', async () => {
    const d = start();
    try {
      await pollStatusWhileStarting(d);
    } finally {
      d.child.kill('SIGTERM');
    }
    expect(await exit(d)).toEqual({ code: 0, signal: null });
  });

  /** Asks for the status from before the socket exists until the start completes: the window between the two is the attach. */
  const pollStatusWhileStarting = async (d: DaemonProc): Promise<void> => {
    const outcomes = new Set<string>();
    let started = false;
    void d.waitLog((l) => l.msg === 'daemon started', 60_000).then(() => { started = true; });
    for (const deadline = Date.now() + 60_000; !started && Date.now() < deadline;) {
      try {
        const s = await requestDaemon(c.stateDir, 'status', {}, { timeoutMs: 5000 });
        outcomes.add(s === null ? 'no daemon' : 'status');
      } catch (e) {
        const err = e as SecuxflowError;
        outcomes.add(`${err.code}: ${err.message}`);
      }
      await sleep(5);
    }
    expect(started).toBe(true);
    expect([...outcomes].filter((o) => o !== 'no daemon' && o !== 'status' && !o.startsWith('E_DAEMON: the daemon is starting: attaching'))).toEqual([]);
    expect(await requestDaemon(c.stateDir, 'status', {}, { timeoutMs: 5000 })).not.toBeNull();
  };

  it('SIGHUP right after the attach: the daemon starts, then reloads its config', async () => {
    const d = start();
    await d.waitLog((l) => l.msg === 'attached', 60_000);
    d.child.kill('SIGHUP');
    await d.waitLog((l) => l.msg === 'daemon started', 60_000);
    await d.waitLog((l) => l.msg === 'config reloaded', 20_000);
    d.child.kill('SIGTERM');
    expect(await exit(d)).toEqual({ code: 0, signal: null });
  });

  it('nothing is left once detached', async () => {
    await ok('detach', '--iface', c.end.ifname);
    expect(await xdpOnLink(c.end.ns, c.end.ifname)).toBeNull();
    expect(c.bpffs.leftovers()).toEqual([]);
  });
});
