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
import { NetLab, type VethEnd } from './lab/netns.js';
import { xdpOnLink, type PrivateBpffs } from './lab/bpffs.js';
import { closeFd, objGet } from '../../host/kernel/native.js';
import { MapName, SfConfig } from '../../host/kernel/codec.js';
import { readConfigValue, readRulesetMeta } from '../../host/kernel/config.js';
import { prepareDaemonLab, startDaemon, type DaemonProc } from './daemon-support.js';

const kernel = requireKernel();
const labReason = kernel.skip ? null : labSkipReason();
const SUBNET = 73;

describe.skipIf(kernel.skip || labReason !== null).sequential('a second state directory cannot take over an attached interface', () => {
  const lab = new NetLab('osd');
  let end: VethEnd;
  let cli = '';
  let bpffs: PrivateBpffs;
  let stateDir = '';
  let otherDir = '';
  let env: NodeJS.ProcessEnv;
  let daemon: DaemonProc | null = null;

  const { secuxflow, ok } = cliIn(lab, () => ({ ns: end.ns, cli, stateDir, env }));
  const other = cliIn(lab, () => ({ ns: end.ns, cli, stateDir: otherDir, env }));
  const activeV4Rules = (): number => {
    const fd = objGet(join(bpffs.root, end.ifname, MapName.CONFIG));
    try {
      return readRulesetMeta(fd, readConfigValue(fd, SfConfig.ACTIVE_GEN)).v4Count;
    } finally {
      closeFd(fd);
    }
  };
  const otherRecords = (): string => {
    const path = join(otherDir, 'attachments.json');
    return existsSync(path) ? readFileSync(path, 'utf8') : '';
  };

  beforeAll(async () => {
    ({ cli, stateDir, bpffs, env } = await prepareDaemonLab(lab));
    otherDir = mkdtempSync(join(tmpdir(), `sf-${lab.tag}-other-`));
    lab.removeAtCleanup(otherDir);
    const ns = await lab.addNamespace('n');
    [end] = await lab.vethPair({ ns, role: 'a' }, { ns, role: 'b' }, SUBNET);
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
    await ok('attach', '--iface', end.ifname, '--mode', 'skb');
    const before = await xdpOnLink(end.ns, end.ifname);
    expect(activeV4Rules()).toBe(2);

    const r = await other.secuxflow('attach', '--iface', end.ifname, '--mode', 'skb');
    expect(r.code, r.stdout).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`error\\[E_XDP_BUSY\\]: secuxflow is already attached to ${end.ifname} .*but not from the state directory ${otherDir}`));
    expect(r.stderr).toMatch(/hint: use the --state-dir .* it was attached with/);
    expect(await xdpOnLink(end.ns, end.ifname)).toEqual(before);
    expect(activeV4Rules()).toBe(2);
    expect(otherRecords()).not.toContain(end.ifname);

    // The owning state directory still re-attaches in place.
    await ok('attach', '--iface', end.ifname, '--mode', 'skb', '--fail', 'closed');
    expect((await xdpOnLink(end.ns, end.ifname))?.name).toBe('sf_xdp');
  });

  it('a second daemon with another state directory is refused and leaves the running daemon its program, rules and socket', async () => {
    const config = join(stateDir, 'daemon.yaml');
    writeFileSync(config, 'modules: [basic_inspect]\n');
    daemon = startDaemon(lab, end.ns, cli, ['--iface', end.ifname, '--mode', 'skb', '--state-dir', stateDir, '--config', config], env);
    await daemon.waitLog((l) => l.msg === 'daemon started', 60_000);
    const before = await xdpOnLink(end.ns, end.ifname);

    const r = await other.secuxflow('run', '--iface', end.ifname, '--mode', 'skb', '--config', config);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[E_XDP_BUSY]');
    expect(r.stderr).not.toContain('E_XSK');
    expect(await xdpOnLink(end.ns, end.ifname)).toEqual(before);
    expect(activeV4Rules()).toBe(2);
    expect(otherRecords()).not.toContain(end.ifname);
    expect(existsSync(join(otherDir, 'eve.json'))).toBe(false);

    const status = await secuxflow('status', '--json');
    expect(status.code, status.stderr).toBe(0);
    const s = JSON.parse(status.stdout) as { daemon: { running: boolean }; queues: Array<{ state: string }> };
    expect(s.daemon.running).toBe(true);
    expect(s.queues.map((q) => q.state)).toEqual(['running']);
    expect(daemon.child.exitCode).toBeNull();
  });

  it('the owner stops and detaches as usual, leaving nothing pinned', async () => {
    daemon!.child.kill('SIGTERM');
    expect(await daemon!.exited).toBe(0);
    await secuxflow('detach', '--iface', end.ifname);
    expect(await xdpOnLink(end.ns, end.ifname)).toBeNull();
    expect(bpffs.leftovers()).toEqual([]);
  });
});
