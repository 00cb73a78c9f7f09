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
import { cliIn, setUpCliLab, type CliLab } from './lab/cli-lab.js';
import { NetLab, type VethEnd } from './lab/netns.js';
import { closeFd, objGet } from '../../host/kernel/native.js';
import { MapName, SfAction, SfConfig } from '../../host/kernel/codec.js';
import { readConfigValue } from '../../host/kernel/config.js';

const kernel = requireKernel();
const labReason = kernel.skip ? null : labSkipReason();
const SUBNET = 84;

describe.skipIf(kernel.skip || labReason !== null).sequential('attach again without --fail', () => {
  const lab = new NetLab('akf');
  let end: VethEnd;
  let c: CliLab;

  const { ok } = cliIn(lab, () => ({ ns: end.ns, cli: c.cli, stateDir: c.stateDir, env: c.env }));
  const kernelFallback = (): number => {
    const fd = objGet(join(c.bpffs.root, end.ifname, MapName.CONFIG));
    try {
      return readConfigValue(fd, SfConfig.PUNT_FALLBACK);
    } finally {
      closeFd(fd);
    }
  };
  const failOf = async (...args: string[]): Promise<string> => (JSON.parse((await ok('attach', '--iface', end.ifname, '--mode', 'skb', ...args, '--json')).stdout) as { fail: string }).fail;

  beforeAll(async () => {
    c = await setUpCliLab(lab);
    const ns = await lab.addNamespace('n');
    [end] = await lab.vethPair({ ns, role: 'a' }, { ns, role: 'b' }, SUBNET);
  }, 240_000);

  afterAll(async () => {
    if (end) await ok('detach', '--iface', end.ifname).catch(() => undefined);
    await lab.cleanup();
  });

  it('a first attach is fail-open', async () => {
    expect(await failOf()).toBe('open');
    expect(kernelFallback()).not.toBe(SfAction.DROP);
  });

  it('a re-attach keeps fail-closed, in the record and in the kernel', async () => {
    expect(await failOf('--fail', 'closed')).toBe('closed');
    const out = (await ok('attach', '--iface', end.ifname, '--mode', 'skb')).stdout;
    expect(out).toContain('fail mode: closed');
    expect(kernelFallback()).toBe(SfAction.DROP);
  });

  it('an attach over maps kept by detach --keep-maps keeps it too', async () => {
    await ok('detach', '--iface', end.ifname, '--keep-maps');
    expect(await failOf()).toBe('closed');
    expect(kernelFallback()).toBe(SfAction.DROP);
  });

  it('--fail open still changes it', async () => {
    expect(await failOf('--fail', 'open')).toBe('open');
    expect(kernelFallback()).not.toBe(SfAction.DROP);
  });
});
