// An attachment whose program pin (sf_xdp) was removed by hand while its maps
// stayed pinned: status said "nothing is pinned in DIR", though the maps were
// there to see, so the operator looking at DIR doubted the report. It now
// names the missing pin. attach took the program the state directory recorded
// for another tool's ("pinned elsewhere?", with xdp-loader as the way out); it
// is E_STATE with detach as the way out, as docs/kernel.md says. detach still
// removes the program and the maps.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { requireKernel } from './support/kernel.js';
import { labSkipReason } from './lab/gate.js';
import { cliIn } from './lab/cli-lab.js';
import { NetLab } from './lab/netns.js';
import { setUpVethCliLab, type VethCliLab } from './support/veth-labs.js';
import { xdpOnLink } from './lab/bpffs.js';

const kernel = requireKernel();
const labReason = kernel.skip ? null : labSkipReason();
const SUBNET = 85;

describe.skipIf(kernel.skip || labReason !== null).sequential('status when the program pin is gone and the maps are not', () => {
  const lab = new NetLab('ppg');
  let c: VethCliLab;

  const { ok, secuxflow } = cliIn(lab, () => ({ ...c, ns: c.end.ns }));

  beforeAll(async () => {
    c = await setUpVethCliLab(lab, SUBNET);
    await ok('attach', '--iface', c.end.ifname, '--mode', 'skb');
    rmSync(join(c.bpffs.root, c.end.ifname, 'sf_xdp'));
  }, 240_000);

  afterAll(async () => {
    await lab.cleanup();
  });

  it('names the missing program pin', async () => {
    const dir = join(c.bpffs.root, c.end.ifname);
    expect(readdirSync(dir)).toContain('sf_config');
    const s = JSON.parse((await ok('status', '--json')).stdout) as { interfaces: Array<{ live: boolean; problem: string }> };
    expect(s.interfaces).toHaveLength(1);
    expect(s.interfaces[0]!.live).toBe(false);
    expect(s.interfaces[0]!.problem).toBe(`the program pin ${join(dir, 'sf_xdp')} is gone (the maps are still pinned)`);
  });

  it('attach refuses with E_STATE and names detach as the way out', async () => {
    const r = await secuxflow('attach', '--iface', c.end.ifname, '--mode', 'skb');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error[E_STATE]: secuxflow's program runs on ${c.end.ifname} as this state directory recorded, but its pin ${join(c.bpffs.root, c.end.ifname, 'sf_xdp')} is gone`);
    expect(r.stderr).toContain(`hint: secuxflow detach --iface ${c.end.ifname}`);
    expect(r.stderr).not.toContain('xdp-loader');
  });

  it('detach removes the program and the maps', async () => {
    await ok('detach', '--iface', c.end.ifname);
    expect(await xdpOnLink(c.end.ns, c.end.ifname)).toBeNull();
    expect(existsSync(join(c.bpffs.root, c.end.ifname))).toBe(false);
  });
});
