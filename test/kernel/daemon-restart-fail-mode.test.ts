// `attach --fail closed`, then the daemon stopped and started again: the stop
// detaches (maps kept) and removes the record, so the next start attaches
// anew. That attach must keep the operator's fail mode (read from the kept
// config map), not fall back to open; before, every restart of the daemon
// (systemctl restart) silently turned a fail-closed interface fail-open.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireKernel } from './support/kernel.js';
import { labSkipReason } from './lab/gate.js';
import { cliIn } from './lab/cli-lab.js';
import { NetLab } from './lab/netns.js';
import { runOk } from './lab/run.js';
import { xdpOnLink } from './lab/bpffs.js';
import { withPinned } from './support/veth-labs.js';
import { MapName, SfConfig } from '../../host/kernel/codec.js';
import { FAIL_FALLBACK, readConfigValue } from '../../host/kernel/config.js';
import { prepareDaemonOnVeth, runDaemonOnVeth, type DaemonProc, type DaemonVethLab } from './daemon-support.js';

const kernel = requireKernel();
const labReason = kernel.skip ? null : labSkipReason();
const SUBNET = 74;

describe.skipIf(kernel.skip || labReason !== null).sequential('the daemon keeps the fail mode across its own stops', () => {
  const lab = new NetLab('rfm');
  let c: DaemonVethLab;

  const { ok } = cliIn(lab, () => ({ ...c, ns: c.end.ns }));
  const puntFallback = (): number => withPinned(join(c.bpffs.root, c.end.ifname, MapName.CONFIG), (fd) => readConfigValue(fd, SfConfig.PUNT_FALLBACK));
  const start = async (): Promise<DaemonProc> => {
    const d = runDaemonOnVeth(lab, c);
    await d.waitLog((l) => l.msg === 'daemon started', 60_000);
    return d;
  };
  const stop = async (d: DaemonProc): Promise<void> => {
    d.child.kill('SIGTERM');
    expect(await d.exited).toBe(0);
  };
  const statusFail = async (): Promise<string> =>
    (JSON.parse((await ok('status', '--json')).stdout) as { interfaces: Array<{ fail: string }> }).interfaces[0]!.fail;

  beforeAll(async () => {
    c = await prepareDaemonOnVeth(lab, SUBNET);
  }, 240_000);

  // runDaemonOnVeth has the lab kill a daemon still running at cleanup.
  afterAll(async () => {
    await lab.cleanup();
  });

  it('a start after a SIGTERM stop (detached, maps kept) attaches fail-closed again', async () => {
    await ok('attach', '--iface', c.end.ifname, '--mode', 'skb', '--fail', 'closed');
    const first = await start();
    expect(first.logs.some((l) => l.msg === 'reusing attachment')).toBe(true);
    expect(await statusFail()).toBe('closed');
    await stop(first);
    expect(await xdpOnLink(c.end.ns, c.end.ifname)).toBeNull();

    const second = await start();
    expect(await second.waitLog((l) => l.msg === 'attached')).toMatchObject({ iface: c.end.ifname, fail: 'closed' });
    expect(await statusFail()).toBe('closed');
    expect(puntFallback()).toBe(FAIL_FALLBACK.closed);
    await stop(second);
  });

  it('after kill -9, with the program since removed by hand, a start attaches again over its own pins, fail-closed as recorded', async () => {
    const third = await start();
    expect(puntFallback()).toBe(FAIL_FALLBACK.closed);
    third.child.kill('SIGKILL');
    await third.exited;
    // The record stays after kill -9; the program goes by hand.
    await runOk(['ip', '-n', c.end.ns, 'link', 'set', 'dev', c.end.ifname, 'xdpgeneric', 'off']);

    const fourth = await start();
    expect(await fourth.waitLog((l) => l.msg === 'attached')).toMatchObject({ fail: 'closed' });
    expect(puntFallback()).toBe(FAIL_FALLBACK.closed);
    await stop(fourth);
  });

  it('a start over a live attachment of another build (an upgrade) attaches this build over the kept maps, fail-closed still', async () => {
    await ok('attach', '--iface', c.end.ifname, '--mode', 'skb', '--fail', 'closed');
    const file = join(c.stateDir, 'attachments.json');
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { attachments: Array<{ objectDigest?: string; progId: number }> };
    const oldProg = doc.attachments[0]!.progId;
    doc.attachments[0]!.objectDigest = '0123456789abcdef';
    writeFileSync(file, JSON.stringify(doc));
    const d = await start();
    expect(d.logs.some((l) => String(l.msg).startsWith('the attached XDP program is from another build'))).toBe(true);
    expect(await d.waitLog((l) => l.msg === 'attached')).toMatchObject({ iface: c.end.ifname, fail: 'closed' });
    expect((await xdpOnLink(c.end.ns, c.end.ifname))?.id).not.toBe(oldProg);
    await stop(d);
    // Its own attachment is this build's: the next start reuses it.
    await ok('attach', '--iface', c.end.ifname, '--mode', 'skb', '--fail', 'closed');
    const again = await start();
    expect(again.logs.some((l) => l.msg === 'reusing attachment')).toBe(true);
    await stop(again);
  });

  it('a first start with nothing kept is fail-open, as documented; detach leaves nothing pinned', async () => {
    await ok('detach', '--iface', c.end.ifname);
    expect(c.bpffs.leftovers()).toEqual([]);
    const fresh = await start();
    expect(await fresh.waitLog((l) => l.msg === 'attached')).toMatchObject({ fail: 'open' });
    expect(puntFallback()).toBe(FAIL_FALLBACK.open);
    await stop(fresh);
    await ok('detach', '--iface', c.end.ifname);
    expect(await xdpOnLink(c.end.ns, c.end.ifname)).toBeNull();
    expect(c.bpffs.leftovers()).toEqual([]);
  });
});
