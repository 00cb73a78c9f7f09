// The program left the link without a detach: removed by hand (`ip link set
// dev IF xdpgeneric off`, `xdp-loader unload --all`) or with the interface,
// deleted and made again. The record and the pins are still this state
// directory's own, so `attach` attaches again over them (kept maps and all)
// instead of refusing with E_XDP_BUSY as if another namespace used the pins.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { requireKernel } from './support/kernel.js';
import { labSkipReason } from './lab/gate.js';
import { cliIn } from './lab/cli-lab.js';
import { NetLab } from './lab/netns.js';
import { setUpVethCliLab, type VethCliLab, withPinned } from './support/veth-labs.js';
import { runOk } from './lab/run.js';
import { xdpOnLink } from './lab/bpffs.js';
import { mapLookup, mapUpdate, progInfo } from '../../host/kernel/native.js';
import { MapName } from '../../host/kernel/codec.js';
import type { AttachResult } from '../../host/kernel/attach.js';

const kernel = requireKernel();
const labReason = kernel.skip ? null : labSkipReason();
const SUBNET = 75;

describe.skipIf(kernel.skip || labReason !== null).sequential('attach after the program left the link without a detach', () => {
  const lab = new NetLab('apr');
  let c: VethCliLab;

  const { secuxflow, ok } = cliIn(lab, () => ({ ...c, ns: c.ns }));
  const attachJson = async (...args: string[]): Promise<AttachResult> => JSON.parse((await ok('attach', '--json', ...args)).stdout) as AttachResult;
  const pinned = <T>(iface: string, name: string, fn: (fd: number) => T): T => withPinned(join(c.bpffs.root, iface, name), fn);
  const penaltyKey = new Uint8Array(16).fill(7);
  const listed = async (): Promise<Array<{ iface: string; live: boolean; fail: string }>> =>
    (JSON.parse((await ok('status', '--json')).stdout) as { interfaces: Array<{ iface: string; live: boolean; fail: string }> }).interfaces;

  beforeAll(async () => {
    c = await setUpVethCliLab(lab, SUBNET);
    await ok('rule', 'add', '--action', 'drop', '--proto', 'tcp', '--port', '23');
  }, 240_000);

  afterAll(async () => {
    await lab.cleanup();
  });

  it('removed by hand: attach again reuses the maps and records the new program', async () => {
    await attachJson('--iface', c.end.ifname, '--mode', 'skb', '--fail', 'closed');
    pinned(c.end.ifname, MapName.PENALTY, (fd) => mapUpdate(fd, penaltyKey, new Uint8Array(16).fill(1)));
    await runOk(['ip', '-n', c.ns, 'link', 'set', 'dev', c.end.ifname, 'xdpgeneric', 'off']);
    expect((await listed())[0]).toMatchObject({ iface: c.end.ifname, live: false });

    const r = await attachJson('--iface', c.end.ifname, '--mode', 'skb', '--fail', 'closed');
    expect(r).toMatchObject({ mode: 'skb', reattached: false, rulesApplied: 1 });
    expect(r.reusedMaps).toContain(MapName.PENALTY);
    expect((await xdpOnLink(c.ns, c.end.ifname))?.id).toBe(r.progId);
    expect(pinned(c.end.ifname, 'sf_xdp', (fd) => progInfo(fd).id)).toBe(r.progId);
    expect(pinned(c.end.ifname, MapName.PENALTY, (fd) => mapLookup(fd, penaltyKey, 16))).not.toBeNull();
    expect(await listed()).toEqual([expect.objectContaining({ iface: c.end.ifname, live: true, fail: 'closed' })]);
  });

  it('deleted and made again under the same name: attach works on the new interface', async () => {
    const peer = lab.name('c');
    await runOk(['ip', '-n', c.ns, 'link', 'del', c.end.ifname]);
    await runOk(['ip', '-n', c.ns, 'link', 'add', c.end.ifname, 'type', 'veth', 'peer', 'name', peer]);
    const r = await attachJson('--iface', c.end.ifname, '--mode', 'skb');
    expect((await xdpOnLink(c.ns, c.end.ifname))?.id).toBe(r.progId);
    expect(await listed()).toEqual([expect.objectContaining({ iface: c.end.ifname, live: true })]);
    await ok('detach', '--iface', c.end.ifname);
    expect(c.bpffs.leftovers()).toEqual([]);
  });

  it('a failed attach over the left-behind pin puts the pin back as it was', async () => {
    const first = await attachJson('--iface', 'lo', '--mode', 'skb');
    await runOk(['ip', '-n', c.ns, 'link', 'set', 'dev', 'lo', 'xdpgeneric', 'off']);
    const pinsBefore = c.bpffs.leftovers();
    const r = await secuxflow('attach', '--iface', 'lo', '--mode', 'native');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/E_KERNEL.*lo cannot run XDP in native mode/);
    expect(await xdpOnLink(c.ns, 'lo')).toBeNull();
    expect(c.bpffs.leftovers()).toEqual(pinsBefore);
    expect(pinned('lo', 'sf_xdp', (fd) => progInfo(fd).id)).toBe(first.progId);
    await ok('detach', '--iface', 'lo');
    expect(c.bpffs.leftovers()).toEqual([]);
  });

  it('pins of a same-named interface in another state directory are still refused', async () => {
    await attachJson('--iface', c.end.ifname, '--mode', 'skb');
    await runOk(['ip', '-n', c.ns, 'link', 'set', 'dev', c.end.ifname, 'xdpgeneric', 'off']);
    const other = cliIn(lab, () => ({ ns: c.ns, cli: c.cli, stateDir: join(c.stateDir, 'other'), env: c.env }));
    const r = await other.secuxflow('attach', '--iface', c.end.ifname, '--mode', 'skb');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[E_XDP_BUSY]');
    expect(await xdpOnLink(c.ns, c.end.ifname)).toBeNull();
    await ok('detach', '--iface', c.end.ifname);
    expect(c.bpffs.leftovers()).toEqual([]);
  });
});
