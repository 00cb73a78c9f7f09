// `attach` again without --fail, as kernel.md says to pick up a rebuilt
// object or change the policy: it turned a fail-closed interface fail-open
// (the flag's default), so with no daemon bound every packet an inspect rule
// punts passed uninspected. --policy already kept the stored value, and
// `secuxflow run` keeps the recorded fail mode; attach now does the same, from
// the record or, after `detach --keep-maps`, from the kept config map.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { requireKernel } from './support/kernel.js';
import { labSkipReason } from './lab/gate.js';
import { cliIn } from './lab/cli-lab.js';
import { NetLab } from './lab/netns.js';
import { setUpVethCliLab, type VethCliLab, withPinned } from './support/veth-labs.js';
import { MapName, SfAction, SfConfig } from '../../host/kernel/codec.js';
import { readConfigValue } from '../../host/kernel/config.js';

const kernel = requireKernel();
const labReason = kernel.skip ? null : labSkipReason();
const SUBNET = 84;

describe.skipIf(kernel.skip || labReason !== null).sequential('attach again without --fail', () => {
  const lab = new NetLab('akf');
  let c: VethCliLab;

  const { ok } = cliIn(lab, () => ({ ...c, ns: c.end.ns }));
  const kernelFallback = (): number => withPinned(join(c.bpffs.root, c.end.ifname, MapName.CONFIG), (fd) => readConfigValue(fd, SfConfig.PUNT_FALLBACK));
  const failOf = async (...args: string[]): Promise<string> => (JSON.parse((await ok('attach', '--iface', c.end.ifname, '--mode', 'skb', ...args, '--json')).stdout) as { fail: string }).fail;

  beforeAll(async () => {
    c = await setUpVethCliLab(lab, SUBNET);
  }, 240_000);

  afterAll(async () => {
    if (c) await ok('detach', '--iface', c.end.ifname).catch(() => undefined);
    await lab.cleanup();
  });

  it('a first attach is fail-open', async () => {
    expect(await failOf()).toBe('open');
    expect(kernelFallback()).not.toBe(SfAction.DROP);
  });

  it('a re-attach keeps fail-closed, in the record and in the kernel', async () => {
    expect(await failOf('--fail', 'closed')).toBe('closed');
    const out = (await ok('attach', '--iface', c.end.ifname, '--mode', 'skb')).stdout;
    expect(out).toContain('fail mode: closed');
    expect(kernelFallback()).toBe(SfAction.DROP);
  });

  it('an attach over maps kept by detach --keep-maps keeps it too', async () => {
    await ok('detach', '--iface', c.end.ifname, '--keep-maps');
    expect(await failOf()).toBe('closed');
    expect(kernelFallback()).toBe(SfAction.DROP);
  });

  it('--fail open still changes it', async () => {
    expect(await failOf('--fail', 'open')).toBe('open');
    expect(kernelFallback()).not.toBe(SfAction.DROP);
  });
});
