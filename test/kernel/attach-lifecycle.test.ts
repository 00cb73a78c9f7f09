// attach/detach over a program's life: re-attach in place (new config, same
// maps, rules kept), a mode change, the auto fallback, detach --keep-maps and
// the next attach reusing the kept state, and the kernel check of
// listAttachments when the program was removed behind secuxflow's back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireKernel } from './support/kernel.js';
import { labSkipReason } from './lab/gate.js';
import { cliIn } from './lab/cli-lab.js';
import { NetLab } from './lab/netns.js';
import { setUpVethCliLab, type VethCliLab, withPinned } from './support/veth-labs.js';
import { bundleScript } from './lab/build.js';
import { xdpOnLink } from './lab/bpffs.js';
import { run, runOk, type RunResult } from './lab/run.js';
import { mapLookup, mapUpdate, progTestRun } from '../../host/kernel/native.js';
import { buildPacket } from '../../host/packet/build.js';
import { MapName, SfConfig, type RulesetMeta } from '../../host/kernel/codec.js';
import { readConfigValue, readRulesetMeta } from '../../host/kernel/config.js';
import type { AttachResult, AttachmentStatus, DetachResult } from '../../host/kernel/attach.js';

const kernel = requireKernel();
const labReason = kernel.skip ? null : labSkipReason();

describe.skipIf(kernel.skip || labReason !== null).sequential('attach lifecycle', () => {
  const lab = new NetLab('lc');
  let c: VethCliLab;
  let lister = '';
  let pinDir = '';

  const { ok: secuxflow } = cliIn(lab, () => ({ ...c, ns: c.ns }));
  const attachJson = async (...args: string[]): Promise<AttachResult> => JSON.parse((await secuxflow('attach', '--json', ...args)).stdout) as AttachResult;
  const detachJson = async (...args: string[]): Promise<DetachResult> => JSON.parse((await secuxflow('detach', '--json', ...args)).stdout) as DetachResult;
  const list = async (inside: boolean): Promise<AttachmentStatus[]> => {
    const argv = [process.execPath, lister, c.stateDir];
    const r = inside ? await lab.execOk(c.ns, argv, { env: c.env }) : await runOk(argv, { env: c.env });
    return JSON.parse(r.stdout) as AttachmentStatus[];
  };
  const pinned = <T>(name: string, fn: (fd: number) => T): T => withPinned(join(pinDir, name), fn);
  const config = (index: number): number => pinned(MapName.CONFIG, (fd) => readConfigValue(fd, index));
  const activeMeta = (dir = pinDir): RulesetMeta => withPinned(join(dir, MapName.CONFIG), (fd) => readRulesetMeta(fd, readConfigValue(fd, SfConfig.ACTIVE_GEN)));

  beforeAll(async () => {
    c = await setUpVethCliLab(lab, 50);
    lister = await bundleScript(fileURLToPath(new URL('./lab/list-attachments.ts', import.meta.url)), lab.tag, 'list-attachments');
    pinDir = join(c.bpffs.root, c.end.ifname);
  });

  afterAll(async () => {
    await lab.cleanup();
  });

  it('attach in skb mode with a stored rule, fail open by default', async () => {
    await secuxflow('rule', 'add', '--dst', '198.18.50.0/24', '--proto', 'udp', '--port', '53', '--action', 'inspect');
    const r = await attachJson('--iface', c.end.ifname, '--mode', 'skb');
    expect(r).toMatchObject({ iface: c.end.ifname, mode: 'skb', requestedMode: 'skb', reattached: false, rulesApplied: 1, defaultPolicy: 'pass', policyChanged: false, fail: 'open', reusedMaps: [] });
    expect((await xdpOnLink(c.ns, c.end.ifname))?.id).toBe(r.progId);
    expect(config(SfConfig.PUNT_FALLBACK)).toBe(1);
    expect(activeMeta()).toMatchObject({ v4Count: 1, defaultAction: 1 });
  });

  it('attach again: the program is replaced in place, config updated, every map reused', async () => {
    const before = await xdpOnLink(c.ns, c.end.ifname);
    // state a running daemon would have written (a penalty-box entry) must survive
    pinned(MapName.PENALTY, (fd) => mapUpdate(fd, new Uint8Array(16).fill(9), new Uint8Array(16).fill(1)));
    const r = await attachJson('--iface', c.end.ifname, '--policy', 'deny', '--fail', 'closed');
    expect(r).toMatchObject({ mode: 'skb', requestedMode: 'auto', reattached: true, defaultPolicy: 'drop', policyChanged: true, fail: 'closed', rulesApplied: 1 });
    // one default policy for kernel and engine: --policy deny is now the rule set's default
    expect(JSON.parse((await secuxflow('rule', 'list', '--json')).stdout).default_policy).toBe('drop');
    expect(r.reusedMaps).toContain(MapName.PENALTY);
    expect(r.reusedMaps).toContain(MapName.CONFIG);
    const now = await xdpOnLink(c.ns, c.end.ifname);
    expect(now?.id).toBe(r.progId);
    expect(now?.id).not.toBe(before?.id);
    expect(config(SfConfig.PUNT_FALLBACK)).toBe(2);
    expect(activeMeta()).toMatchObject({ v4Count: 1, defaultAction: 2 });
    expect(pinned(MapName.PENALTY, (fd) => mapLookup(fd, new Uint8Array(16).fill(9), 16))).not.toBeNull();
  });

  it('rule default changes what the attached program does with unmatched packets; the engine and the attachment list read the same value', async () => {
    const activeDefault = (): number => activeMeta().defaultAction;
    await secuxflow('rule', 'default', 'pass');
    expect(activeDefault()).toBe(1);
    expect(JSON.parse((await secuxflow('rule', 'list', '--json')).stdout).default_policy).toBe('pass');
    // the attachment reports the rule set's policy, not the one of its attach
    expect((await list(true))[0]).toMatchObject({ iface: c.end.ifname, policy: 'allow' });
    await secuxflow('rule', 'default', 'drop');
    expect(activeDefault()).toBe(2);
    expect((await list(true))[0]).toMatchObject({ iface: c.end.ifname, policy: 'deny' });
  });

  it('a mode change detaches and re-attaches in the new mode', async () => {
    const r = await attachJson('--iface', c.end.ifname, '--mode', 'native');
    expect(r).toMatchObject({ mode: 'native', reattached: true });
    expect((await xdpOnLink(c.ns, c.end.ifname))?.mode).toBe(1); // XDP_ATTACHED_DRV
  });

  it('listAttachments checks the kernel: live here, unverifiable from another netns, dead once removed by hand', async () => {
    const inside = await list(true);
    expect(inside).toHaveLength(1);
    expect(inside[0]).toMatchObject({ iface: c.end.ifname, live: true, problem: null, mode: 'native' });
    const outside = await list(false);
    expect(outside[0]).toMatchObject({ live: false });
    expect(outside[0]!.problem).toMatch(/another network namespace/);

    await runOk(['ip', '-n', c.ns, 'link', 'set', 'dev', c.end.ifname, 'xdpdrv', 'off']);
    const after = await list(true);
    expect(after[0]).toMatchObject({ live: false, problem: `no XDP program is attached to ${c.end.ifname}` });

    const d = await detachJson('--iface', c.end.ifname);
    expect(d).toMatchObject({ wasAttached: false, keptMaps: false });
    expect(d.notes.join(' ')).toMatch(/no XDP program was attached/);
    expect(c.bpffs.leftovers()).toEqual([]);
    expect(await list(true)).toEqual([]);
  });

  it('detach --keep-maps keeps the maps for the next attach, which reuses them', async () => {
    await attachJson('--iface', c.end.ifname);
    pinned(MapName.PENALTY, (fd) => mapUpdate(fd, new Uint8Array(16).fill(5), new Uint8Array(16).fill(1)));
    const d = await detachJson('--iface', c.end.ifname, '--keep-maps');
    expect(d).toMatchObject({ wasAttached: true, keptMaps: true });
    expect(await xdpOnLink(c.ns, c.end.ifname)).toBeNull();
    const left = c.bpffs.leftovers();
    expect(left).toContain(`secuxflow/${c.end.ifname}/${MapName.PENALTY}`);
    expect(left).not.toContain(`secuxflow/${c.end.ifname}/sf_xdp`);

    const r = await attachJson('--iface', c.end.ifname);
    expect(r.reattached).toBe(false);
    expect(r.reusedMaps).toContain(MapName.PENALTY);
    expect(pinned(MapName.PENALTY, (fd) => mapLookup(fd, new Uint8Array(16).fill(5), 16))).not.toBeNull();
    await detachJson('--iface', c.end.ifname);
    expect(c.bpffs.leftovers()).toEqual([]);
  });

  it('a same-named interface in another namespace cannot take over the shared pins', async () => {
    await attachJson('--iface', c.end.ifname, '--mode', 'skb');
    const ns2 = await lab.addNamespace('m');
    await runOk(['ip', '-n', ns2, 'link', 'add', c.end.ifname, 'type', 'veth', 'peer', 'name', lab.name('p')]);
    const otherState = mkdtempSync(join(tmpdir(), `sf-${lab.tag}-state2-`));
    lab.removeAtCleanup(otherState);
    const before = c.bpffs.leftovers();
    const inNs2 = (dir: string, ...args: string[]): Promise<RunResult> => cliIn(lab, () => ({ ns: ns2, cli: c.cli, stateDir: dir, env: c.env })).secuxflow(...args);

    const sameState = await inNs2(c.stateDir, 'attach', '--iface', c.end.ifname, '--mode', 'skb');
    expect(sameState.code).toBe(1);
    expect(sameState.stderr).toMatch(/E_XDP_BUSY.*in another network namespace/);
    const otherStateDir = await inNs2(otherState, 'attach', '--iface', c.end.ifname, '--mode', 'skb');
    expect(otherStateDir.code).toBe(1);
    expect(otherStateDir.stderr).toMatch(/E_XDP_BUSY.*pinned in .* but is not attached to/);
    const detachThere = await inNs2(c.stateDir, 'detach', '--iface', c.end.ifname);
    expect(detachThere.code).toBe(1);
    expect(detachThere.stderr).toMatch(/E_NOT_ATTACHED.*in this network namespace/);

    expect(c.bpffs.leftovers()).toEqual(before);
    expect((await xdpOnLink(c.ns, c.end.ifname))?.name).toBe('sf_xdp');
    expect(await xdpOnLink(ns2, c.end.ifname)).toBeNull();
    await detachJson('--iface', c.end.ifname);
    expect(c.bpffs.leftovers()).toEqual([]);
  });

  it('a failed re-attach (a mode lo cannot do) puts back the old program, mode, policy and fail mode', async () => {
    await secuxflow('rule', 'default', 'pass');
    const first = await attachJson('--iface', 'lo', '--mode', 'skb');
    const rulesBefore = readFileSync(join(c.stateDir, 'rules.json'), 'utf8');
    const loDir = join(c.bpffs.root, 'lo');
    const activeDefault = (): number => activeMeta(loDir).defaultAction;
    expect(activeDefault()).toBe(1);
    const pinsBefore = c.bpffs.leftovers();
    const stateBefore = readFileSync(join(c.stateDir, 'attachments.json'), 'utf8');

    const r = await lab.exec(c.ns, [process.execPath, c.cli, 'attach', '--iface', 'lo', '--mode', 'native', '--policy', 'deny', '--fail', 'closed', '--state-dir', c.stateDir], { env: c.env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/E_KERNEL.*lo cannot run XDP in native mode/);

    const now = await xdpOnLink(c.ns, 'lo');
    expect(now).toMatchObject({ id: first.progId, mode: 2 }); // XDP_ATTACHED_SKB, the old program
    expect(activeDefault()).toBe(1);
    withPinned(join(loDir, MapName.CONFIG), (cfg) => expect(readConfigValue(cfg, SfConfig.PUNT_FALLBACK)).toBe(1));
    expect(c.bpffs.leftovers()).toEqual(pinsBefore);
    expect(readFileSync(join(c.stateDir, 'attachments.json'), 'utf8')).toBe(stateBefore);
    expect(readFileSync(join(c.stateDir, 'rules.json'), 'utf8')).toBe(rulesBefore);
    await secuxflow('detach', '--iface', 'lo');
  });

  it('auto on an interface without native XDP falls back to skb and says why', async () => {
    const r = await lab.exec(c.ns, [process.execPath, c.cli, 'attach', '--iface', 'lo', '--state-dir', c.stateDir], { env: c.env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/in skb mode \(native mode failed: .*not supported.*; fell back to skb\)/i);
    await secuxflow('detach', '--iface', 'lo');
    expect(c.bpffs.leftovers()).toEqual([]);
    expect((await run(['ip', '-n', c.ns, '-d', '-j', 'link', 'show', 'dev', 'lo'])).stdout).not.toContain('"xdp"');
  });

  it('with two interfaces attached, a rule change reaches both and hits are summed over them', async () => {
    await attachJson('--iface', c.end.ifname, '--mode', 'skb');
    await attachJson('--iface', c.peer.ifname, '--mode', 'skb');
    const dirs = [join(c.bpffs.root, c.end.ifname), join(c.bpffs.root, c.peer.ifname)];
    const listed = async () => JSON.parse((await secuxflow('rule', 'list', '--json')).stdout) as { rules: Array<{ id: number; hits: { packets: number } | null }> };

    const r = await secuxflow('rule', 'add', '--src', '198.18.51.0/24', '--proto', 'tcp', '--action', 'drop');
    expect(r.stdout).toContain(c.end.ifname);
    expect(r.stdout).toContain(c.peer.ifname);
    expect(dirs.map((d) => activeMeta(d).v4Count)).toEqual([2, 2]);

    // the stored inspect rule (UDP to 198.18.50.0/24 port 53) decides this packet
    const dns = buildPacket({ src: '198.18.52.7', dst: '198.18.50.2', proto: 'udp', srcPort: 3333, dstPort: 53, payload: 'q' });
    const runs = [1, 2];
    dirs.forEach((dir, i) => {
      withPinned(join(dir, 'sf_xdp'), (prog) => { for (let n = 0; n < runs[i]!; n++) progTestRun(prog, dns, 1); });
    });
    const inspectRule = (await listed()).rules.find((x) => x.id === 1);
    expect(inspectRule?.hits?.packets).toBe(3);

    await secuxflow('detach', '--iface', c.end.ifname);
    await secuxflow('detach', '--iface', c.peer.ifname);
    expect(c.bpffs.leftovers()).toEqual([]);
    expect((await listed()).rules.every((x) => x.hits === null)).toBe(true);
  });
});
