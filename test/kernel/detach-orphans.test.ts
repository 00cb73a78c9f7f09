// detach when the ground moved under secuxflow: its pins removed by hand, or
// the interface renamed. The program must come off the link (found by the id
// recorded at attach, or by the recorded ifindex), the output must say what
// happened, and attach must work again afterwards. A bpffs remounted
// read-only is refused up front by every command that would change it. Left behind, the program
// would go on filtering with rules no command could reach.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireKernel } from './support/kernel.js';
import { labSkipReason } from './lab/gate.js';
import { cliIn } from './lab/cli-lab.js';
import { NetLab } from './lab/netns.js';
import { setUpVethCliLab, type VethCliLab } from './support/veth-labs.js';
import { xdpOnLink } from './lab/bpffs.js';
import { run, runOk } from './lab/run.js';
import { StateStore } from '../../host/state/store.js';
import type { Rule } from '../../host/rules/types.js';
import { applyRulesIfAttached } from '../../host/kernel/apply.js';
import { closeFd, objGet } from '../../host/kernel/native.js';
import { MapName, SfConfig } from '../../host/kernel/codec.js';
import { writeConfig } from '../../host/kernel/config.js';

const kernel = requireKernel();
const labReason = kernel.skip ? null : labSkipReason();

describe.skipIf(kernel.skip || labReason !== null).sequential('detach after pins or names changed', () => {
  const lab = new NetLab('do');
  let c: VethCliLab;

  const { secuxflow, ok } = cliIn(lab, () => ({ ...c, ns: c.ns }));

  beforeAll(async () => {
    c = await setUpVethCliLab(lab, 60);
  });

  afterAll(async () => {
    await lab.cleanup();
  });

  it('pins removed by hand: detach still takes the program off the link and says how it found it', async () => {
    await ok('rule', 'add', '--port', '81', '--proto', 'tcp', '--action', 'drop');
    await ok('attach', '--iface', c.end.ifname, '--mode', 'skb');
    const prog = await xdpOnLink(c.ns, c.end.ifname);
    expect(prog?.name).toBe('sf_xdp');
    rmSync(join(c.bpffs.root, c.end.ifname), { recursive: true, force: true });
    const r = await ok('detach', '--iface', c.end.ifname);
    expect(r.stdout).toMatch(new RegExp(`note: its pins in .* were gone; the program was found by the id recorded at attach \\(${prog!.id}\\) and removed`));
    expect(await xdpOnLink(c.ns, c.end.ifname)).toBeNull();
    await ok('attach', '--iface', c.end.ifname, '--mode', 'skb');
    expect((await xdpOnLink(c.ns, c.end.ifname))?.name).toBe('sf_xdp');
    await ok('detach', '--iface', c.end.ifname);
    expect(c.bpffs.leftovers()).toEqual([]);
  });

  it('maps kept by detach --keep-maps are removed by a later detach, the upgrade path docs/kernel.md gives', async () => {
    await ok('attach', '--iface', c.end.ifname, '--mode', 'skb');
    await ok('detach', '--iface', c.end.ifname, '--keep-maps');
    expect(c.bpffs.leftovers().length).toBeGreaterThan(0);
    const r = await ok('detach', '--iface', c.end.ifname);
    expect(r.stdout).toContain(`note: nothing was attached to ${c.end.ifname}; the maps an earlier detach --keep-maps kept were removed`);
    expect(c.bpffs.leftovers()).toEqual([]);
    // and with nothing kept either, detach is refused as before
    const again = await secuxflow('detach', '--iface', c.end.ifname);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/error\[E_NOT_ATTACHED\]/);
  });

  it('a rule change on an interface whose program was removed behind secuxflow\'s back says it is not live', async () => {
    await ok('attach', '--iface', c.end.ifname, '--mode', 'skb');
    const live = await ok('rule', 'add', '--port', '82', '--proto', 'tcp', '--action', 'drop');
    expect(live.stdout).toContain(`applied to ${c.end.ifname}`);
    expect(live.stdout).not.toMatch(/warning/);
    await runOk(['ip', '-n', c.ns, 'link', 'set', 'dev', c.end.ifname, 'xdpgeneric', 'off']);
    const r = await ok('rule', 'add', '--port', '83', '--proto', 'tcp', '--action', 'drop');
    expect(r.stdout).toContain(`warning: ${c.end.ifname} is not live (no XDP program is attached to ${c.end.ifname}): its maps took the change, but no secuxflow program reads them; secuxflow detach --iface ${c.end.ifname}, then attach, puts it back`);
    // the advice works: the rules come back with the program
    await ok('detach', '--iface', c.end.ifname);
    await ok('attach', '--iface', c.end.ifname, '--mode', 'skb');
    expect((await xdpOnLink(c.ns, c.end.ifname))?.name).toBe('sf_xdp');
    expect((await ok('rule', 'add', '--port', '84', '--proto', 'tcp', '--action', 'drop')).stdout).not.toMatch(/warning/);
    await ok('detach', '--iface', c.end.ifname);
    expect(c.bpffs.leftovers()).toEqual([]);
  });

  it('a rule command killed between its kernel swap and its state write: rule list says the kernel is out of step, and attach puts the stored rules back', async () => {
    await ok('attach', '--iface', c.end.ifname, '--mode', 'skb');
    const inStep = JSON.parse((await ok('rule', 'list', '--json')).stdout) as { kernel_out_of_step: string[]; rules: unknown[] };
    expect(inStep.kernel_out_of_step).toEqual([]);
    // What the killed command left: the kernel swapped to a set with one more rule; rules.json never got it.
    const stored = new StateStore(c.stateDir).readRules();
    const extra: Rule = { ...stored.rules[0]!, id: 999, comment: 'never stored' };
    // (maps are not per namespace: the pins are reachable from here)
    expect((await applyRulesIfAttached(c.stateDir, { ...stored, rules: [...stored.rules, extra] })).appliedTo).toEqual([c.end.ifname]);
    const list = await ok('rule', 'list');
    expect(list.stdout).toContain(`warning: the kernel on ${c.end.ifname} holds another rule set than this one (a rule command was interrupted?)`);
    expect((JSON.parse((await ok('rule', 'list', '--json')).stdout) as { kernel_out_of_step: string[] }).kernel_out_of_step).toEqual([c.end.ifname]);
    // a swap cut short (the stamp still 0) reads the same way
    await applyRulesIfAttached(c.stateDir, stored);
    expect((await ok('rule', 'list')).stdout).not.toMatch(/warning/);
    const fd = objGet(join(c.bpffs.root, c.end.ifname, MapName.CONFIG));
    try {
      writeConfig(fd, SfConfig.RULES_STAMP, 0);
    } finally {
      closeFd(fd);
    }
    expect((await ok('rule', 'list')).stdout).toContain(`warning: the kernel on ${c.end.ifname} holds another rule set`);
    await ok('attach', '--iface', c.end.ifname, '--mode', 'skb');
    expect((await ok('rule', 'list')).stdout).not.toMatch(/warning/);
    await ok('detach', '--iface', c.end.ifname);
    expect(c.bpffs.leftovers()).toEqual([]);
  });

  it('a read-only bpffs: rule list and status still read the kernel; rule add, attach and detach are refused before anything changes', async () => {
    await ok('attach', '--iface', c.end.ifname, '--mode', 'skb');
    const prog = await xdpOnLink(c.ns, c.end.ifname);
    const listBefore = (await ok('rule', 'list')).stdout;
    await runOk(['mount', '-o', 'remount,ro', c.bpffs.mount]);
    try {
      const list = JSON.parse((await ok('rule', 'list', '--json')).stdout) as { attached: boolean; rules: Array<{ hits: unknown }> };
      expect(list.attached).toBe(true);
      expect(list.rules.length).toBeGreaterThan(0);
      expect(list.rules.every((r) => r.hits !== null)).toBe(true);
      const status = JSON.parse((await ok('status', '--json')).stdout) as { interfaces: Array<{ iface: string; live: boolean; kernel: unknown }> };
      expect(status.interfaces).toMatchObject([{ iface: c.end.ifname, live: true }]);
      expect(status.interfaces[0]!.kernel).not.toBeNull();
      for (const args of [['rule', 'add', '--port', '85', '--proto', 'tcp', '--action', 'drop'], ['detach', '--iface', c.end.ifname], ['attach', '--iface', c.end.ifname, '--mode', 'skb']]) {
        const r = await secuxflow(...args);
        expect(r.code, args.join(' ')).toBe(1);
        expect(r.stderr).toContain(`error[E_BPFFS_READONLY]: the bpffs at ${c.bpffs.mount} is mounted read-only`);
        expect(r.stderr).toContain(`hint: remount it read-write: mount -o remount,rw ${c.bpffs.mount}`);
      }
      // nothing changed: same program on the link, same stored rules
      expect((await xdpOnLink(c.ns, c.end.ifname))?.id).toBe(prog!.id);
      expect((await ok('rule', 'list')).stdout).toBe(listBefore);
    } finally {
      await runOk(['mount', '-o', 'remount,rw', c.bpffs.mount]);
    }
    await ok('detach', '--iface', c.end.ifname);
    expect(await xdpOnLink(c.ns, c.end.ifname)).toBeNull();
    expect(c.bpffs.leftovers()).toEqual([]);
  });

  it('a full disk at detach: the error says the program is already off the link, and a second detach drops the record', async () => {
    const full = mkdtempSync(join(tmpdir(), `sf-${lab.tag}-full-`));
    await runOk(['mount', '-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', full]);
    lab.onCleanup(() => {
      execFileSync('umount', ['-l', full], { stdio: 'ignore', timeout: 10_000 });
      rmdirSync(full);
    });
    const inFull = cliIn(lab, () => ({ ns: c.ns, cli: c.cli, stateDir: full, env: c.env })).secuxflow;
    expect((await inFull('attach', '--iface', c.end.ifname, '--mode', 'skb')).code).toBe(0);
    // Full but one page: room for the lock file detach takes, none for the new state file.
    await run(['dd', 'if=/dev/zero', `of=${join(full, 'filler')}`, 'bs=4096']); // runs until ENOSPC
    await runOk(['truncate', '-s', '-4096', join(full, 'filler')]);
    const r = await inFull('detach', '--iface', c.end.ifname);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error[E_STATE]: the XDP program was removed from ${c.end.ifname} and ${join(c.bpffs.root, c.end.ifname)} was unpinned, but attachments.json still lists it: cannot write`);
    expect(r.stderr).toContain(`run detach --iface ${c.end.ifname} again to drop the record`);
    expect(await xdpOnLink(c.ns, c.end.ifname)).toBeNull();
    expect(c.bpffs.leftovers()).toEqual([]);
    rmSync(join(full, 'filler'));
    const again = await inFull('detach', '--iface', c.end.ifname);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`note: no XDP program was attached to ${c.end.ifname} any more`);
    expect(JSON.parse(readFileSync(join(full, 'attachments.json'), 'utf8')).attachments).toEqual([]);
  });

  it('interface renamed: detach by its old name finds it by index, and says so', async () => {
    await ok('attach', '--iface', c.end.ifname, '--mode', 'skb');
    const renamed = `${c.end.ifname.slice(0, 10)}rn`;
    await runOk(['ip', '-n', c.ns, 'link', 'set', 'dev', c.end.ifname, 'down']);
    await runOk(['ip', '-n', c.ns, 'link', 'set', 'dev', c.end.ifname, 'name', renamed]);
    try {
      const r = await ok('detach', '--iface', c.end.ifname);
      expect(r.stdout).toContain(`note: ${c.end.ifname} is now called ${renamed}`);
      expect(await xdpOnLink(c.ns, renamed)).toBeNull();
      expect(c.bpffs.leftovers()).toEqual([]);
    } finally {
      await runOk(['ip', '-n', c.ns, 'link', 'set', 'dev', renamed, 'name', c.end.ifname]);
    }
  });
});
