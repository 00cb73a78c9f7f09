// An interface that secuxflow is attached to from one state directory, and a
// command run with another: `attach` and `run` with the second state
// directory share the pins (one SECUXFLOW_BPFFS_ROOT), so they must refuse
// instead of taking the program over. Before, the second attach swapped in
// its own (empty) rule set, and a second daemon then failed on the busy
// AF_XDP queue and detached the interface under the first daemon.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireKernel } from './support/kernel.js';
import { labSkipReason } from './lab/gate.js';
import { cliIn } from './lab/cli-lab.js';
import { NetLab } from './lab/netns.js';
import { setUpVethCliLab, type VethCliLab, withPinned } from './support/veth-labs.js';
import { xdpOnLink } from './lab/bpffs.js';
import { MapName, SfConfig } from '../../host/kernel/codec.js';
import { readConfigValue, readRulesetMeta } from '../../host/kernel/config.js';
import { startDaemon, type DaemonProc } from './daemon-support.js';

const kernel = requireKernel();
const labReason = kernel.skip ? null : labSkipReason();
const SUBNET = 73;

describe.skipIf(kernel.skip || labReason !== null).sequential('a second state directory cannot take over an attached interface', () => {
  const lab = new NetLab('osd');
  let c: VethCliLab;
  let otherDir = '';
  let daemon: DaemonProc | null = null;

  const { secuxflow, ok } = cliIn(lab, () => ({ ...c, ns: c.end.ns }));
  const other = cliIn(lab, () => ({ ...c, ns: c.end.ns, stateDir: otherDir }));
  const activeV4Rules = (): number => withPinned(join(c.bpffs.root, c.end.ifname, MapName.CONFIG), (fd) => readRulesetMeta(fd, readConfigValue(fd, SfConfig.ACTIVE_GEN)).v4Count);
  const otherRecords = (): string => {
    const path = join(otherDir, 'attachments.json');
    return existsSync(path) ? readFileSync(path, 'utf8') : '';
  };

  beforeAll(async () => {
    c = await setUpVethCliLab(lab, SUBNET, { daemon: true });
    otherDir = mkdtempSync(join(tmpdir(), `sf-${lab.tag}-other-`));
    lab.removeAtCleanup(otherDir);
    // Address and port together: both rules are in the scanned v4 array, which activeV4Rules counts.
    await ok('rule', 'add', '--action', 'inspect', '--proto', 'udp', '--dst', `198.18.${SUBNET}.0/24`, '--port', '53');
    await ok('rule', 'add', '--action', 'drop', '--proto', 'tcp', '--src', '10.0.0.0/8', '--port', '23');
  }, 240_000);

  afterAll(async () => {
    if (daemon !== null && daemon.child.exitCode === null) {
      daemon.child.kill('SIGTERM');
      await daemon.exited;
    }
    await lab.cleanup();
  });

  it('attach from another state directory is refused, naming the problem and the way out; the program and its rules stay', async () => {
    await ok('attach', '--iface', c.end.ifname, '--mode', 'skb');
    const before = await xdpOnLink(c.end.ns, c.end.ifname);
    expect(activeV4Rules()).toBe(2);

    const r = await other.secuxflow('attach', '--iface', c.end.ifname, '--mode', 'skb');
    expect(r.code, r.stdout).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`error\\[E_XDP_BUSY\\]: secuxflow is already attached to ${c.end.ifname} .*but not from the state directory ${otherDir}`));
    expect(r.stderr).toMatch(/hint: use the --state-dir .* it was attached with/);
    expect(await xdpOnLink(c.end.ns, c.end.ifname)).toEqual(before);
    expect(activeV4Rules()).toBe(2);
    expect(otherRecords()).not.toContain(c.end.ifname);

    // The owning state directory still re-attaches in place.
    await ok('attach', '--iface', c.end.ifname, '--mode', 'skb', '--fail', 'closed');
    expect((await xdpOnLink(c.end.ns, c.end.ifname))?.name).toBe('sf_xdp');
  });

  it('a second daemon with another state directory is refused and leaves the running daemon its program, rules and socket', async () => {
    const config = join(c.stateDir, 'daemon.yaml');
    writeFileSync(config, 'modules: [basic_inspect]\n');
    daemon = startDaemon(lab, c.end.ns, c.cli, ['--iface', c.end.ifname, '--mode', 'skb', '--state-dir', c.stateDir, '--config', config], c.env);
    await daemon.waitLog((l) => l.msg === 'daemon started', 60_000);
    const before = await xdpOnLink(c.end.ns, c.end.ifname);

    const r = await other.secuxflow('run', '--iface', c.end.ifname, '--mode', 'skb', '--config', config);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[E_XDP_BUSY]');
    expect(r.stderr).not.toContain('E_XSK');
    expect(await xdpOnLink(c.end.ns, c.end.ifname)).toEqual(before);
    expect(activeV4Rules()).toBe(2);
    expect(otherRecords()).not.toContain(c.end.ifname);
    expect(existsSync(join(otherDir, 'eve.json'))).toBe(false);

    const status = await secuxflow('status', '--json');
    expect(status.code, status.stderr).toBe(0);
    const s = JSON.parse(status.stdout) as { daemon: { running: boolean }; queues: Array<{ state: string }> };
    expect(s.daemon.running).toBe(true);
    expect(s.queues.map((q) => q.state)).toEqual(['running']);
    expect(daemon.child.exitCode).toBeNull();
  });

  it('detach from another state directory is refused while the daemon runs: it would blind it', async () => {
    const before = await xdpOnLink(c.end.ns, c.end.ifname);
    const r = await other.secuxflow('detach', '--iface', c.end.ifname);
    expect(r.code, r.stdout).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`error\\[E_NOT_ATTACHED\\]: secuxflow's program \\(id \\d+, pins in .*\\) was not attached to ${c.end.ifname} from the state directory ${otherDir}`));
    expect(r.stderr).toContain('detach with the --state-dir (or SECUXFLOW_STATE_DIR) it was attached with');
    expect(r.stderr).toContain(`secuxflow detach --iface ${c.end.ifname} --state-dir ${otherDir} --force`);
    expect(await xdpOnLink(c.end.ns, c.end.ifname)).toEqual(before);
    expect(c.bpffs.leftovers().length).toBeGreaterThan(0);
    const s = JSON.parse((await ok('status', '--json')).stdout) as { queues: Array<{ state: string }> };
    expect(s.queues.map((q) => q.state)).toEqual(['running']);
  });

  it('the owner stops and detaches as usual, leaving nothing pinned', async () => {
    daemon!.child.kill('SIGTERM');
    expect(await daemon!.exited).toBe(0);
    await secuxflow('detach', '--iface', c.end.ifname);
    expect(await xdpOnLink(c.end.ns, c.end.ifname)).toBeNull();
    expect(c.bpffs.leftovers()).toEqual([]);
  });

  it('an attachment no state directory records (an interrupted attach) comes off with --force, leaving nothing pinned', async () => {
    await ok('attach', '--iface', c.end.ifname, '--mode', 'skb');
    // What an attach killed before it wrote its record leaves: the program attached and pinned, no record.
    writeFileSync(join(c.stateDir, 'attachments.json'), JSON.stringify({ version: 1, attachments: [] }));
    const refused = await secuxflow('detach', '--iface', c.end.ifname);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('error[E_NOT_ATTACHED]');
    expect(await xdpOnLink(c.end.ns, c.end.ifname)).not.toBeNull();
    await ok('detach', '--iface', c.end.ifname, '--force');
    expect(await xdpOnLink(c.end.ns, c.end.ifname)).toBeNull();
    expect(c.bpffs.leftovers()).toEqual([]);
  });
});
