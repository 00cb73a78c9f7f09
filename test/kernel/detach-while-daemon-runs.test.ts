// `secuxflow detach` on an interface a daemon of the same state directory
// runs on: it used to detach, leaving the daemon running with no XDP program
// (no packets, and status still saying it ran there). It is refused, saying
// how to stop the daemon, unless --force; with no daemon, detach still
// cleans up as before. A second daemon on the same state directory is
// refused too, saying how to give it its own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireKernel } from './support/kernel.js';
import { labSkipReason } from './lab/gate.js';
import { cliIn } from './lab/cli-lab.js';
import { NetLab } from './lab/netns.js';
import { xdpOnLink } from './lab/bpffs.js';
import { startDaemonOnVeth, type DaemonOnVeth } from './daemon-support.js';

const kernel = requireKernel();
const labReason = kernel.skip ? null : labSkipReason();
const SUBNET = 79;

describe.skipIf(kernel.skip || labReason !== null).sequential('detach while the daemon runs', () => {
  const lab = new NetLab('dwd');
  let d: DaemonOnVeth;

  const { ok, secuxflow } = cliIn(lab, () => ({ ns: d.end.ns, cli: d.cli, stateDir: d.stateDir, env: d.env }));

  beforeAll(async () => {
    d = await startDaemonOnVeth(lab, SUBNET);
  }, 240_000);

  afterAll(async () => {
    await lab.cleanup();
  });

  it('detach is refused, naming the daemon and how to stop it, and XDP stays', async () => {
    const before = await xdpOnLink(d.end.ns, d.end.ifname);
    expect(before).not.toBeNull();
    const r = await secuxflow('detach', '--iface', d.end.ifname);
    expect(r.code).toBe(1);
    const pid = d.daemon.child.pid!;
    expect(r.stderr).toContain(`error[E_DAEMON]: a secuxflow daemon (pid ${pid}) is running on ${d.end.ifname} from ${d.stateDir}`);
    expect(r.stderr).toContain(`kill -TERM ${pid}`);
    // The unit is a template whose instance is the interface: a bare `secuxflow` names no unit.
    expect(r.stderr).toContain(`or systemctl stop secuxflow@${d.end.ifname}), then detach`);
    expect(r.stderr).toContain(`secuxflow detach --iface ${d.end.ifname} --force`);
    expect(r.stdout).toBe('');
    expect(await xdpOnLink(d.end.ns, d.end.ifname)).toEqual(before);
    const status = JSON.parse((await ok('status', '--json')).stdout) as { interfaces: Array<{ iface: string; live: boolean }> };
    expect(status.interfaces).toMatchObject([{ iface: d.end.ifname, live: true }]);
  });

  it('with --json the refusal is the same code on stdout', async () => {
    const r = await secuxflow('detach', '--iface', d.end.ifname, '--json');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { code: 'E_DAEMON', message: expect.stringContaining(`is running on ${d.end.ifname}`) } });
    expect(await xdpOnLink(d.end.ns, d.end.ifname)).not.toBeNull();
  });

  // The systemd template started for a second interface on the same state directory.
  it('a second run from the same state directory is refused, naming the daemon there and how to give the new one its own', async () => {
    const r = await secuxflow('run', '--iface', 'lo');
    expect(r.code).not.toBe(0);
    const pid = d.daemon.child.pid!;
    expect(r.stderr).toContain(`error[E_DAEMON]: a secuxflow daemon (pid ${pid}) on ${d.end.ifname} already runs from ${d.stateDir}: one daemon per state directory`);
    expect(r.stderr).toContain('secuxflow run --iface lo --state-dir /var/lib/secuxflow-lo');
    expect(r.stderr).toContain('Environment=SECUXFLOW_STATE_DIR=/var/lib/secuxflow-lo');
    expect(await xdpOnLink(d.end.ns, 'lo')).toBeNull();
    expect(await xdpOnLink(d.end.ns, d.end.ifname)).not.toBeNull();
  });

  it('a second run on the interface the daemon protects says it already runs there, and how to restart it', async () => {
    const r = await secuxflow('run', '--iface', d.end.ifname);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`error[E_DAEMON]: a secuxflow daemon (pid ${d.daemon.child.pid!}) already runs from ${d.stateDir} and protects ${d.end.ifname}`);
    expect(r.stderr).toMatch(/hint: it is running: see it with secuxflow status --state-dir .*; to restart it, stop it first/);
    expect(r.stderr).not.toContain('as well');
    expect(await xdpOnLink(d.end.ns, d.end.ifname)).not.toBeNull();
  });

  it('--force detaches anyway', async () => {
    await ok('detach', '--iface', d.end.ifname, '--force');
    expect(await xdpOnLink(d.end.ns, d.end.ifname)).toBeNull();
  });

  // The program comes back, but with new maps: the daemon's sockets and
  // verdicts are on the old ones. It must not pass for live.
  it('an attach after --force, with the daemon still running: the daemon says its maps are stale and to restart it', async () => {
    await ok('attach', '--iface', d.end.ifname, '--mode', 'skb');
    const line = await d.daemon.waitLog((l) => String(l.msg).startsWith('interface was attached again with new maps'), 10_000);
    expect(line).toMatchObject({ level: 'error', iface: d.end.ifname });
    expect(String(line.hint)).toContain(`systemctl restart secuxflow@${d.end.ifname}`);
    const status = JSON.parse((await ok('status', '--json')).stdout) as { interfaces: Array<{ iface: string; live: boolean; problem: string }> };
    expect(status.interfaces[0]).toMatchObject({ iface: d.end.ifname, live: false });
    expect(status.interfaces[0]!.problem).toContain('its AF_XDP sockets and verdicts are on the old maps');
    expect(d.daemon.logs.some((l) => l.msg === 'interface runs the secuxflow XDP program again')).toBe(false);
  });

  // The new attachment is the operator's: the daemon's on_stop (detach by
  // default) must not remove it, nor set pass-all in the old config map.
  it('stopping that daemon leaves the new attachment as it is, and says so', async () => {
    const attached = await xdpOnLink(d.end.ns, d.end.ifname);
    expect(attached).not.toBeNull();
    d.daemon.child.kill('SIGTERM');
    await d.daemon.exited;
    const line = d.daemon.logs.find((l) => String(l.msg).startsWith('stop policy not applied'));
    expect(line).toMatchObject({ level: 'warn', iface: d.end.ifname, onStop: 'detach' });
    expect(d.daemon.logs.some((l) => String(l.msg).startsWith('detached'))).toBe(false);
    expect(await xdpOnLink(d.end.ns, d.end.ifname)).toEqual(attached);
    const status = JSON.parse((await ok('status', '--json')).stdout) as { interfaces: Array<{ iface: string; live: boolean }> };
    expect(status.interfaces).toMatchObject([{ iface: d.end.ifname, live: true }]);
  });

  it('with no daemon, detach cleans up as before without --force', async () => {
    await ok('detach', '--iface', d.end.ifname);
    expect(await xdpOnLink(d.end.ns, d.end.ifname)).toBeNull();
    await ok('attach', '--iface', d.end.ifname, '--mode', 'skb');
    expect(await xdpOnLink(d.end.ns, d.end.ifname)).not.toBeNull();
    await ok('detach', '--iface', d.end.ifname);
    expect(await xdpOnLink(d.end.ns, d.end.ifname)).toBeNull();
    expect(d.bpffs.leftovers()).toEqual([]);
  });
});
