// `secuxflow attach` again on an interface the daemon runs on, to change the
// default policy and the fail mode: the output must say what happened (the
// mode it kept, not a native-mode failure that never happened), and the
// daemon's engine and status must follow the new default policy, as they do
// after `rule default`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireKernel } from './support/kernel.js';
import { labSkipReason } from './lab/gate.js';
import { cliIn } from './lab/cli-lab.js';
import { NetLab } from './lab/netns.js';
import { xdpOnLink } from './lab/bpffs.js';
import { startDaemonOnVeth, type DaemonOnVeth } from './daemon-support.js';

const kernel = requireKernel();
const labReason = kernel.skip ? null : labSkipReason();
const SUBNET = 78;

interface Status { rules: { defaultPolicy: string }; interfaces: Array<{ fail: string; xdpMode: string }> }

describe.skipIf(kernel.skip || labReason !== null).sequential('attach while the daemon runs', () => {
  const lab = new NetLab('awd');
  let d: DaemonOnVeth;

  const { ok } = cliIn(lab, () => ({ ns: d.end.ns, cli: d.cli, stateDir: d.stateDir, env: d.env }));
  const status = async (): Promise<Status> => JSON.parse((await ok('status', '--json')).stdout) as Status;

  beforeAll(async () => {
    d = await startDaemonOnVeth(lab, SUBNET);
  }, 240_000);

  afterAll(async () => {
    await lab.cleanup();
  });

  it('attach --policy deny --fail closed: says it kept skb mode, and the daemon takes the new default', async () => {
    expect(await status()).toMatchObject({ rules: { defaultPolicy: 'pass' }, interfaces: [{ fail: 'open', xdpMode: 'skb' }] });
    const r = await ok('attach', '--iface', d.end.ifname, '--policy', 'deny', '--fail', 'closed');
    expect(r.stdout).toContain(`updated secuxflow on ${d.end.ifname}`);
    expect(r.stdout).toMatch(/in skb mode \(auto: kept the skb mode it was attached in; --mode native changes it\)/);
    expect(r.stdout).not.toContain('native mode failed');
    expect(r.stdout).toMatch(/default policy: drop .*every attached interface and the running daemon\)/);
    expect(await status()).toMatchObject({ rules: { defaultPolicy: 'drop' }, interfaces: [{ fail: 'closed', xdpMode: 'skb' }] });
    expect(d.daemon.logs.some((l) => l.msg === 'rules reloaded' && l.defaultPolicy === 'drop')).toBe(true);
  });

  it('SIGTERM and detach leave nothing behind', async () => {
    d.daemon.child.kill('SIGTERM');
    expect(await d.daemon.exited).toBe(0);
    await ok('detach', '--iface', d.end.ifname);
    expect(await xdpOnLink(d.end.ns, d.end.ifname)).toBeNull();
    expect(d.bpffs.leftovers()).toEqual([]);
  });
});
