// `status` with no daemon, on a fail-closed attachment that a daemon left with
// pass-all on (on_stop: pass-all). The line said "PASS-ALL ON (daemon stopped
// fail-open)" next to "fail-closed": pass-all comes from the stop policy, not
// from the fail mode, and the operator was left to guess which one held.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { requireKernel } from './support/kernel.js';
import { labSkipReason } from './lab/gate.js';
import { cliIn } from './lab/cli-lab.js';
import { NetLab } from './lab/netns.js';
import { setUpVethCliLab, type VethCliLab, withPinned } from './support/veth-labs.js';
import { MapName, SfConfig } from '../../host/kernel/codec.js';
import { writeConfig } from '../../host/kernel/config.js';

const kernel = requireKernel();
const labReason = kernel.skip ? null : labSkipReason();
const SUBNET = 83;

describe.skipIf(kernel.skip || labReason !== null).sequential('status of a fail-closed attachment left with pass-all on', () => {
  const lab = new NetLab('spa');
  let c: VethCliLab;

  const { ok } = cliIn(lab, () => ({ ...c, ns: c.end.ns }));

  beforeAll(async () => {
    c = await setUpVethCliLab(lab, SUBNET);
    await ok('attach', '--iface', c.end.ifname, '--mode', 'skb', '--fail', 'closed');
    // What a daemon's stop with on_stop: pass-all writes.
    withPinned(join(c.bpffs.root, c.end.ifname, MapName.CONFIG), (fd) => writeConfig(fd, SfConfig.PASS_ALL, 1));
  }, 240_000);

  afterAll(async () => {
    if (c) await ok('detach', '--iface', c.end.ifname).catch(() => undefined);
    await lab.cleanup();
  });

  it('names the stop policy, not a fail mode the attachment does not have', async () => {
    const out = (await ok('status')).stdout;
    expect(out).toContain(`${c.end.ifname}: xdp skb, fail-closed`);
    expect(out).toContain('PASS-ALL ON (the daemon stopped with on_stop: pass-all: every packet passes');
    expect(out).not.toContain('fail-open');
  });

  // What a daemon's stop with on_stop: detach leaves: status said "attached:
  // nothing" and no more, while the next run would bring back decided flows.
  it('maps kept by a detach are shown, with what they hold and how to drop them', async () => {
    await ok('detach', '--iface', c.end.ifname, '--keep-maps');
    const out = (await ok('status')).stdout;
    expect(out).toContain('attached: nothing\n');
    expect(out).toContain(`${c.end.ifname}: not attached; maps kept in ${join(c.bpffs.root, c.end.ifname)} (0 flow verdicts, 0 penalty entries) for the next run or attach there`);
    expect(out).toContain(`secuxflow detach --iface ${c.end.ifname} drops them`);
    const json = JSON.parse((await ok('status', '--json')).stdout) as { keptMaps: Array<{ iface: string; flows: number }> };
    expect(json.keptMaps).toEqual([{ iface: c.end.ifname, pinDir: join(c.bpffs.root, c.end.ifname), flows: 0, penalty: 0 }]);
    await ok('detach', '--iface', c.end.ifname);
    expect(JSON.parse((await ok('status', '--json')).stdout)).toMatchObject({ keptMaps: [] });
    expect(c.bpffs.leftovers()).toEqual([]);
  });
});
