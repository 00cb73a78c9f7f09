// The daemon's interface loses our program while the daemon runs: removed by
// hand, or the interface deleted. The daemon must say so (one error in its
// log, `live: false` and the reason in status) rather than go on reporting
// the interface as protected; a re-attach from the CLI is picked up again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireKernel } from './support/kernel.js';
import { labSkipReason } from './lab/gate.js';
import { cliIn } from './lab/cli-lab.js';
import { NetLab } from './lab/netns.js';
import { runOk } from './lab/run.js';
import { xdpOnLink } from './lab/bpffs.js';
import { prepareDaemonOnVeth, runDaemonOnVeth, type DaemonProc, type DaemonVethLab } from './daemon-support.js';

const kernel = requireKernel();
const labReason = kernel.skip ? null : labSkipReason();
const SUBNET = 76;

interface Iface { iface: string; live?: boolean; problem?: string | null; fail: string }

describe.skipIf(kernel.skip || labReason !== null).sequential('the daemon notices an interface that lost its program', () => {
  const lab = new NetLab('dil');
  let c: DaemonVethLab;
  let daemon: DaemonProc;

  const { ok } = cliIn(lab, () => ({ ...c, ns: c.end.ns }));
  const iface = async (): Promise<Iface> => (JSON.parse((await ok('status', '--json')).stdout) as { interfaces: Iface[] }).interfaces[0]!;
  const lostLogs = (): number => daemon.logs.filter((l) => l.msg === 'interface lost its secuxflow XDP program: its packets are neither filtered nor inspected').length;

  beforeAll(async () => {
    c = await prepareDaemonOnVeth(lab, SUBNET);
    daemon = runDaemonOnVeth(lab, c);
    await daemon.waitLog((l) => l.msg === 'daemon started', 60_000);
  }, 240_000);

  afterAll(async () => {
    if (daemon && daemon.child.exitCode === null && daemon.child.signalCode === null) {
      daemon.child.kill('SIGTERM');
      await daemon.exited;
    }
    await lab.cleanup();
  });

  it('while attached, status says live', async () => {
    expect(await iface()).toMatchObject({ iface: c.end.ifname, live: true, problem: null });
  });

  it('the program removed by hand: one error in the log, NOT LIVE in status with the reason', async () => {
    await runOk(['ip', '-n', c.end.ns, 'link', 'set', 'dev', c.end.ifname, 'xdpgeneric', 'off']);
    const s = await iface();
    expect(s).toMatchObject({ live: false, problem: `no XDP program is attached to ${c.end.ifname}` });
    const text = (await ok('status')).stdout;
    expect(text).toContain(`${c.end.ifname}: NOT LIVE: no XDP program is attached to ${c.end.ifname}`);
    const logged = await daemon.waitLog((l) => String(l.msg).startsWith('interface lost its secuxflow XDP program'), 10_000);
    expect(logged).toMatchObject({ level: 'error', iface: c.end.ifname, problem: `no XDP program is attached to ${c.end.ifname}` });
    await new Promise((r) => setTimeout(r, 2500));
    expect(lostLogs()).toBe(1);
  });

  it('attach from the CLI puts it back, with the new fail mode, and the daemon sees it', async () => {
    await ok('attach', '--iface', c.end.ifname, '--mode', 'skb', '--fail', 'closed');
    expect(await iface()).toMatchObject({ live: true, problem: null, fail: 'closed' });
    expect((await xdpOnLink(c.end.ns, c.end.ifname))?.name).toBe('sf_xdp');
    // The log line and the status reply come over different pipes: the line is waited for.
    await daemon.waitLog((l) => l.msg === 'interface runs the secuxflow XDP program again');
  });

  it('the interface deleted: status names it; SIGTERM still stops cleanly and detach leaves nothing pinned', async () => {
    await runOk(['ip', '-n', c.end.ns, 'link', 'del', c.end.ifname]);
    expect(await iface()).toMatchObject({ live: false, problem: `interface ${c.end.ifname} no longer exists` });
    daemon.child.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
    await ok('detach', '--iface', c.end.ifname);
    expect(c.bpffs.leftovers()).toEqual([]);
  });
});
