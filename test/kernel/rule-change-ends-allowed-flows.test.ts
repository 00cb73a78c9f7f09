// The operator's workflow with flows the fast path already allowed: a flow
// verdict comes before rules in the kernel, so an allowed connection used to
// go on flowing past a drop rule added for it, for as long as it stayed busy.
// Now `rule add` turns the allowed flows the new rules drop into blocked ones
// (both directions) and says how many; other allowed flows, and flows that
// were blocked, keep their verdicts. Undoing the change (rule delete, a
// default back to pass) allows those flows again, while a flow a module
// blocked stays blocked. Run on the attached program itself
// (BPF_PROG_TEST_RUN on its pins), with the link down so no stray traffic
// counts. The rule commands also warn when the program passes everything.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { requireKernel } from './support/kernel.js';
import { labSkipReason } from './lab/gate.js';
import { cliIn } from './lab/cli-lab.js';
import { NetLab } from './lab/netns.js';
import { setUpVethCliLab, type VethCliLab } from './support/veth-labs.js';
import { runOk } from './lab/run.js';
import { buildPacket } from '../../host/packet/build.js';
import { parseIp } from '../../host/packet/addr.js';
import { closeFd, objGet, progTestRun, XdpAction } from '../../host/kernel/native.js';
import { MapName, PROG_NAME, SfConfig, SfFlowOrigin, SfFlowVerdict, reverseFlowKey, type FlowKey } from '../../host/kernel/codec.js';
import { writeConfig } from '../../host/kernel/config.js';
import { readFlowVerdict, writeFlowVerdicts, type VerdictMapFds } from '../../host/kernel/verdictmaps.js';

const kernel = requireKernel();
const labReason = kernel.skip ? null : labSkipReason();

const CLIENT = '198.18.79.1';
const SERVER = '198.18.79.2';

function tcpKey(dport: number, proto = 6): FlowKey {
  return { src: parseIp(CLIENT), dst: parseIp(SERVER), sport: 40_000, dport, vlanOuter: 0, vlanInner: 0, proto };
}

function frame(k: FlowKey): Uint8Array {
  const addr = (b: Uint8Array): string => [...b].join('.');
  return buildPacket({ src: addr(k.src), dst: addr(k.dst), proto: k.proto === 6 ? 'tcp' : 'udp', srcPort: k.sport, dstPort: k.dport });
}

describe.skipIf(kernel.skip || labReason !== null).sequential('a rule change reaches flows the kernel already allowed', () => {
  const lab = new NetLab('rcf');
  let c: VethCliLab;
  const fds: number[] = [];
  let maps: VerdictMapFds;
  let progFd = -1;
  const { ok } = cliIn(lab, () => ({ ...c, ns: c.end.ns }));

  const web = tcpKey(80);
  const tls = tcpKey(443);
  const dns = tcpKey(53, 17);
  const verdictOf = (k: FlowKey): number | null => readFlowVerdict(maps, k)?.verdict ?? null;
  const xdp = (k: FlowKey): number => progTestRun(progFd, frame(k)).retval;

  beforeAll(async () => {
    c = await setUpVethCliLab(lab, 79);
    await ok('attach', '--iface', c.end.ifname, '--mode', 'skb');
    await runOk(['ip', '-n', c.ns, 'link', 'set', c.end.ifname, 'down']);
    const open = (name: string): number => {
      const fd = objGet(join(c.bpffs.root, c.end.ifname, name));
      fds.push(fd);
      return fd;
    };
    maps = { [MapName.CONFIG]: open(MapName.CONFIG), [MapName.FLOWS]: open(MapName.FLOWS), [MapName.PENALTY]: open(MapName.PENALTY) } as VerdictMapFds;
    progFd = open(PROG_NAME);
    // What a daemon's modules decided: the web and TLS flows allowed, the DNS flow blocked.
    writeFlowVerdicts(maps, web, 'allow');
    writeFlowVerdicts(maps, tls, 'allow');
    writeFlowVerdicts(maps, dns, 'block');
  });

  afterAll(async () => {
    for (const fd of fds.splice(0)) closeFd(fd);
    await lab.cleanup();
  });

  it('before: a drop rule alone would not stop the allowed web flow (the flow verdict comes first)', () => {
    expect(xdp(web)).toBe(XdpAction.PASS);
    expect(xdp(dns)).toBe(XdpAction.DROP);
  });

  it('rule add --action drop for the web flow blocks it, both ways, and says so; the TLS flow stays allowed', async () => {
    const r = await ok('rule', 'add', '--id', '500', '--dst', SERVER, '--port', '80', '--proto', 'tcp', '--action', 'drop');
    expect(r.stdout).toContain('1 running flow the kernel had allowed and the new rules drop is now blocked');
    expect([verdictOf(web), verdictOf(reverseFlowKey(web))]).toEqual([SfFlowVerdict.BLOCK, SfFlowVerdict.BLOCK]);
    expect(readFlowVerdict(maps, web)?.origin).toBe(SfFlowOrigin.RULE_CHANGE);
    expect(xdp(web)).toBe(XdpAction.DROP);
    expect(xdp(reverseFlowKey(web))).toBe(XdpAction.DROP);
    expect([verdictOf(tls), verdictOf(reverseFlowKey(tls))]).toEqual([SfFlowVerdict.ALLOW, SfFlowVerdict.ALLOW]);
    expect(xdp(tls)).toBe(XdpAction.PASS);
    expect(verdictOf(dns)).toBe(SfFlowVerdict.BLOCK);
  });

  it('a change that drops nothing allowed leaves every flow verdict as it was', async () => {
    const r = await ok('rule', 'add', '--dst', SERVER, '--port', '22', '--proto', 'tcp', '--action', 'drop', '--json');
    expect(JSON.parse(r.stdout)).toMatchObject({ flows_blocked: 0, flows_restored: 0 });
    expect([verdictOf(web), verdictOf(tls), verdictOf(dns)]).toEqual([SfFlowVerdict.BLOCK, SfFlowVerdict.ALLOW, SfFlowVerdict.BLOCK]);
  });

  it('deleting the drop rule allows the web flow again, once no other rule drops it; the flow a module blocked stays blocked', async () => {
    await ok('rule', 'add', '--id', '700', '--src', CLIENT, '--port', '80', '--proto', 'tcp', '--action', 'drop');
    const still = await ok('rule', 'delete', '--id', '500');
    expect(still.stdout).not.toContain('allowed again');
    expect(verdictOf(web)).toBe(SfFlowVerdict.BLOCK);
    expect(xdp(web)).toBe(XdpAction.DROP);

    const r = await ok('rule', 'delete', '--id', '700');
    expect(r.stdout).toContain('1 flow an earlier rule change had blocked and the rules no longer drop is allowed again');
    expect([verdictOf(web), verdictOf(reverseFlowKey(web))]).toEqual([SfFlowVerdict.ALLOW, SfFlowVerdict.ALLOW]);
    expect(readFlowVerdict(maps, web)?.origin).toBe(SfFlowOrigin.DAEMON);
    expect(xdp(web)).toBe(XdpAction.PASS);
    expect(xdp(reverseFlowKey(web))).toBe(XdpAction.PASS);
    expect(verdictOf(dns)).toBe(SfFlowVerdict.BLOCK);
    expect(xdp(dns)).toBe(XdpAction.DROP);
  });

  it('a default policy of drop ends the allowed flows no rule lets through; back to pass, they run again', async () => {
    const r = await ok('rule', 'default', 'drop');
    expect(r.stdout).toContain('2 running flows the kernel had allowed and the new rules drop are now blocked');
    expect([verdictOf(web), verdictOf(tls)]).toEqual([SfFlowVerdict.BLOCK, SfFlowVerdict.BLOCK]);
    const back = await ok('rule', 'default', 'pass');
    expect(back.stdout).toContain('2 flows an earlier rule change had blocked and the rules no longer drop are allowed again');
    expect([verdictOf(web), verdictOf(tls), verdictOf(dns)]).toEqual([SfFlowVerdict.ALLOW, SfFlowVerdict.ALLOW, SfFlowVerdict.BLOCK]);
    expect(xdp(tls)).toBe(XdpAction.PASS);
  });

  it('warns that the rules wait while the program passes everything (a daemon stopped fail-open)', async () => {
    writeConfig(maps[MapName.CONFIG], SfConfig.PASS_ALL, 1);
    try {
      const r = await ok('rule', 'add', '--dst', SERVER, '--port', '25', '--proto', 'tcp', '--action', 'drop');
      expect(r.stdout).toContain(`warning: ${c.end.ifname} passes everything`);
      expect(r.stdout).toContain(`secuxflow attach --iface ${c.end.ifname}`);
    } finally {
      writeConfig(maps[MapName.CONFIG], SfConfig.PASS_ALL, 0);
    }
    const quiet = await ok('rule', 'add', '--dst', SERVER, '--port', '26', '--proto', 'tcp', '--action', 'drop');
    expect(quiet.stdout).not.toContain('passes everything');
  });

  it('detach leaves nothing pinned', async () => {
    for (const fd of fds.splice(0)) closeFd(fd);
    await ok('detach', '--iface', c.end.ifname);
    expect(c.bpffs.leftovers()).toEqual([]);
  });
});
