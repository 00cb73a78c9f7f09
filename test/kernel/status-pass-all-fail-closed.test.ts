// `status` with no daemon, on a fail-closed attachment that a daemon left with
// pass-all on (on_stop: pass-all). The line said "PASS-ALL ON (daemon stopped
// fail-open)" next to "fail-closed": pass-all comes from the stop policy, not
// from the fail mode, and the operator was left to guess which one held.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { requireKernel } from './support/kernel.js';
import { labSkipReason } from './lab/gate.js';
import { cliIn, setUpCliLab, type CliLab } from './lab/cli-lab.js';
import { NetLab, type VethEnd } from './lab/netns.js';
import { closeFd, objGet } from '../../host/kernel/native.js';
import { MapName, SfConfig } from '../../host/kernel/codec.js';
import { writeConfig } from '../../host/kernel/config.js';

const kernel = requireKernel();
const labReason = kernel.skip ? null : labSkipReason();
const SUBNET = 83;

describe.skipIf(kernel.skip || labReason !== null).sequential('status of a fail-closed attachment left with pass-all on', () => {
  const lab = new NetLab('spa');
  let end: VethEnd;
  let c: CliLab;

  const { ok } = cliIn(lab, () => ({ ns: end.ns, cli: c.cli, stateDir: c.stateDir, env: c.env }));

  beforeAll(async () => {
    c = await setUpCliLab(lab);
    const ns = await lab.addNamespace('n');
    [end] = await lab.vethPair({ ns, role: 'a' }, { ns, role: 'b' }, SUBNET);
    await ok('attach', '--iface', end.ifname, '--mode', 'skb', '--fail', 'closed');
    // What a daemon's stop with on_stop: pass-all writes.
    const fd = objGet(join(c.bpffs.root, end.ifname, MapName.CONFIG));
    try {
      writeConfig(fd, SfConfig.PASS_ALL, 1);
    } finally {
      closeFd(fd);
    }
  }, 240_000);

  afterAll(async () => {
    if (end) await ok('detach', '--iface', end.ifname).catch(() => undefined);
    await lab.cleanup();
  });

  it('names the stop policy, not a fail mode the attachment does not have', async () => {
    const out = (await ok('status')).stdout;
    expect(out).toContain(`${end.ifname}: xdp skb, fail-closed`);
    expect(out).toContain('PASS-ALL ON (the daemon stopped with on_stop: pass-all: every packet passes');
    expect(out).not.toContain('fail-open');
  });
});
