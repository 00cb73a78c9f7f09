// `secuxflow attach` again on an interface the daemon runs on, to change the
// default policy and the fail mode: the output must say what happened (the
// mode it kept, not a native-mode failure that never happened), and the
// daemon's engine and status must follow the new default policy, as they do
// after `rule default`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireKernel } from './support/kernel.js';
import { labSkipReason } from './lab/gate.js';
import { cliIn } from './lab/cli-lab.js';
import { NetLab, type VethEnd } from './lab/netns.js';
import { xdpOnLink, type PrivateBpffs } from './lab/bpffs.js';
import { prepareDaemonLab, startDaemon, type DaemonProc } from './daemon-support.js';

const kernel = requireKernel();
const labReason = kernel.skip ? null : labSkipReason();
const SUBNET = 78;

interface Status { rules: { defaultPolicy: string }; interfaces: Array<{ fail: string; xdpMode: string }> }

describe.skipIf(kernel.skip || labReason !== null).sequential('attach while the daemon runs', () => {
  const lab = new NetLab('awd');
  let end: VethEnd;
  let cli = '';
  let bpffs: PrivateBpffs;
  let stateDir = '';
  let env: NodeJS.ProcessEnv;
  let daemon: DaemonProc;

  const { ok } = cliIn(lab, () => ({ ns: end.ns, cli, stateDir, env }));
  const status = async (): Promise<Status> => JSON.parse((await ok('status', '--json')).stdout) as Status;

  beforeAll(async () => {
    ({ cli, stateDir, bpffs, env } = await prepareDaemonLab(lab));
    const ns = await lab.addNamespace('n');
    [end] = await lab.vethPair({ ns, role: 'a' }, { ns, role: 'b' }, SUBNET);
    const config = join(stateDir, 'daemon.yaml');
    writeFileSync(config, 'modules: [basic_inspect]\n');
    await ok('rule', 'add', '--action', 'inspect', '--proto', 'tcp', '--port', '80');
    await ok('attach', '--iface', end.ifname, '--mode', 'skb');
    // startDaemon has the lab kill the daemon at cleanup if a case fails first.
    daemon = startDaemon(lab, end.ns, cli, ['--iface', end.ifname, '--state-dir', stateDir, '--config', config], env);
    await daemon.waitLog((l) => l.msg === 'daemon started', 60_000);
  }, 240_000);

  afterAll(async () => {
    await lab.cleanup();
  });

  it('attach --policy deny --fail closed: says it kept skb mode, and the daemon takes the new default', async () => {
    expect(await status()).toMatchObject({ rules: { defaultPolicy: 'pass' }, interfaces: [{ fail: 'open', xdpMode: 'skb' }] });
    const r = await ok('attach', '--iface', end.ifname, '--policy', 'deny', '--fail', 'closed');
    expect(r.stdout).toContain(`updated secuxflow on ${end.ifname}`);
    expect(r.stdout).toMatch(/in skb mode \(auto: kept the skb mode it was attached in; --mode native changes it\)/);
    expect(r.stdout).not.toContain('native mode failed');
    expect(r.stdout).toMatch(/default policy: drop .*every attached interface and the running daemon\)/);
    expect(await status()).toMatchObject({ rules: { defaultPolicy: 'drop' }, interfaces: [{ fail: 'closed', xdpMode: 'skb' }] });
    expect(daemon.logs.some((l) => l.msg === 'rules reloaded' && l.defaultPolicy === 'drop')).toBe(true);
  });

  it('SIGTERM and detach leave nothing behind', async () => {
    daemon.child.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
    await ok('detach', '--iface', end.ifname);
    expect(await xdpOnLink(end.ns, end.ifname)).toBeNull();
    expect(bpffs.leftovers()).toEqual([]);
  });
});
