// The daemon's interface loses our program while the daemon runs: removed by
// hand, or the interface deleted. The daemon must say so (one error in its
// log, `live: false` and the reason in status) rather than go on reporting
// the interface as protected; a re-attach from the CLI is picked up again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireKernel } from './support/kernel.js';
import { labSkipReason } from './lab/gate.js';
import { cliIn } from './lab/cli-lab.js';
import { NetLab, type VethEnd } from './lab/netns.js';
import { runOk } from './lab/run.js';
import { xdpOnLink, type PrivateBpffs } from './lab/bpffs.js';
import { prepareDaemonOnVeth, startDaemon, type DaemonProc } from './daemon-support.js';

const kernel = requireKernel();
const labReason = kernel.skip ? null : labSkipReason();
const SUBNET = 76;

interface Iface { iface: string; live?: boolean; problem?: string | null; fail: string }

describe.skipIf(kernel.skip || labReason !== null).sequential('the daemon notices an interface that lost its program', () => {
  const lab = new NetLab('dil');
  let end: VethEnd;
  let cli = '';
  let bpffs: PrivateBpffs;
  let stateDir = '';
  let env: NodeJS.ProcessEnv;
  let daemon: DaemonProc;

  const { ok } = cliIn(lab, () => ({ ns: end.ns, cli, stateDir, env }));
  const iface = async (): Promise<Iface> => (JSON.parse((await ok('status', '--json')).stdout) as { interfaces: Iface[] }).interfaces[0]!;
  const lostLogs = (): number => daemon.logs.filter((l) => l.msg === 'interface lost its secuxflow XDP program: its packets are neither filtered nor inspected').length;

  beforeAll(async () => {
    let config: string;
    ({ cli, stateDir, bpffs, env, end, config } = await prepareDaemonOnVeth(lab, SUBNET));
    daemon = startDaemon(lab, end.ns, cli, ['--iface', end.ifname, '--mode', 'skb', '--state-dir', stateDir, '--config', config], env);
    await daemon.waitLog((l) => l.msg === 'daemon started', 60_000);
  }, 240_000);

  afterAll(async () => {
    if (daemon.child.exitCode === null && daemon.child.signalCode === null) {
      daemon.child.kill('SIGTERM');
      await daemon.exited;
    }
    await lab.cleanup();
  });

  it('while attached, status says live', async () => {
    expect(await iface()).toMatchObject({ iface: end.ifname, live: true, problem: null });
  });

  it('the program removed by hand: one error in the log, NOT LIVE in status with the reason', async () => {
    await runOk(['ip', '-n', end.ns, 'link', 'set', 'dev', end.ifname, 'xdpgeneric', 'off']);
    const s = await iface();
    expect(s).toMatchObject({ live: false, problem: `no XDP program is attached to ${end.ifname}` });
    const text = (await ok('status')).stdout;
    expect(text).toContain(`${end.ifname}: NOT LIVE: no XDP program is attached to ${end.ifname}`);
    const logged = await daemon.waitLog((l) => String(l.msg).startsWith('interface lost its secuxflow XDP program'), 10_000);
    expect(logged).toMatchObject({ level: 'error', iface: end.ifname, problem: `no XDP program is attached to ${end.ifname}` });
    await new Promise((r) => setTimeout(r, 2500));
    expect(lostLogs()).toBe(1);
  });

  it('attach from the CLI puts it back, with the new fail mode, and the daemon sees it', async () => {
    await ok('attach', '--iface', end.ifname, '--mode', 'skb', '--fail', 'closed');
    expect(await iface()).toMatchObject({ live: true, problem: null, fail: 'closed' });
    expect((await xdpOnLink(end.ns, end.ifname))?.name).toBe('sf_xdp');
    expect(daemon.logs.some((l) => l.msg === 'interface runs the secuxflow XDP program again')).toBe(true);
  });

  it('the interface deleted: status names it; SIGTERM still stops cleanly and detach leaves nothing pinned', async () => {
    await runOk(['ip', '-n', end.ns, 'link', 'del', end.ifname]);
    expect(await iface()).toMatchObject({ live: false, problem: `interface ${end.ifname} no longer exists` });
    daemon.child.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
    await ok('detach', '--iface', end.ifname);
    expect(bpffs.leftovers()).toEqual([]);
  });
});
