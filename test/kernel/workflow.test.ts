// The user's workflow with real traffic: a client and a server namespace on a
// veth pair, secuxflow attached on the server side through the built CLI,
// TCP/UDP clients and nmap from the client side, rules added and removed
// while traffic flows, then detach leaves nothing attached or pinned.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireKernel } from './support/kernel.js';
import { labSkipReason } from './lab/gate.js';
import { cliIn } from './lab/cli-lab.js';
import { NetLab } from './lab/netns.js';
import { setUpClientServerLab, type ClientServerLab } from './support/veth-labs.js';
import { xdpOnLink } from './lab/bpffs.js';
import { nmapTcpPortState, probesAfter, startEchoServers, startTcpProber, udpEchoWorks, type Probe } from './lab/traffic.js';
import { closeFd, mapDump, objGet } from '../../host/kernel/native.js';
import { MapName } from '../../host/kernel/codec.js';

const kernel = requireKernel();
const labReason = kernel.skip ? null : labSkipReason();
const TCP_PORT = 81; // inside nmap's 1-100 range
const UDP_PORT = 5353;

interface ListedRuleJson {
  id: number;
  hits: { packets: number; bytes: number } | null;
}

describe.skipIf(kernel.skip || labReason !== null).sequential('workflow: attach, rules under live traffic, nmap, detach', () => {
  const lab = new NetLab('wf');
  let c: ClientServerLab;
  let probes: Probe[] = [];

  const { secuxflow, ok } = cliIn(lab, () => ({ ...c, ns: c.server.ns }));

  /** Runs a rule command and returns when it finished (epoch ms). */
  const timed = async (...args: string[]): Promise<number> => {
    await ok(...args);
    return Date.now();
  };

  const nmapPortState = (): Promise<string> => nmapTcpPortState(lab, c.client.ns, c.server.addr, TCP_PORT, { scan: '1-100' });

  beforeAll(async () => {
    c = await setUpClientServerLab(lab, 20);
    await startEchoServers(lab, c.server.ns, c.server.addr, TCP_PORT, UDP_PORT);
    const prober = await startTcpProber(lab, c.client.ns, c.server.addr, TCP_PORT, { timeoutMs: 100, pauseMs: 10 });
    probes = prober.probes;
  });

  afterAll(async () => {
    await lab.cleanup();
  });

  it('attaches on the server veth and traffic passes', async () => {
    const r = await ok('attach', '--iface', c.server.ifname, '--mode', 'auto');
    expect(r.stdout).toMatch(/attached secuxflow on .* in (native|skb) mode/);
    const prog = await xdpOnLink(c.server.ns, c.server.ifname);
    expect(prog?.name).toBe('sf_xdp');
    expect(c.bpffs.leftovers()).toContain(`secuxflow/${c.server.ifname}/sf_config`);
    const recorded = JSON.parse(readFileSync(join(c.stateDir, 'attachments.json'), 'utf8')) as { attachments: Array<{ iface: string; progId: number }> };
    expect(recorded.attachments.map((a) => [a.iface, a.progId])).toEqual([[c.server.ifname, prog?.id]]);

    const after = await probesAfter(probes, Date.now(), 3);
    expect(after.map((p) => p.ok)).toEqual([true, true, true]);
    expect(await udpEchoWorks(lab, c.client.ns, c.server.addr, UDP_PORT)).toBe(true);
  });

  it('rule add drops the TCP port within 100 ms, UDP still passes, and the hit counter moves', async () => {
    const done = await timed('rule', 'add', '--src', `${c.client.addr}/32`, '--port', String(TCP_PORT), '--proto', 'tcp', '--action', 'drop');
    const after = await probesAfter(probes, done, 4);
    expect(after.map((p) => p.ok)).toEqual([false, false, false, false]);
    // Drop latency: the first failing attempt after the last successful one
    // must start within 100 ms of the command's return (it may even start
    // before it: the kernel has the rule before the CLI exits).
    const lastOk = probes.filter((p) => p.ok && p.t < done).at(-1);
    const firstFail = probes.find((p) => !p.ok && lastOk !== undefined && p.t > lastOk.t);
    expect(firstFail).toBeDefined();
    expect(firstFail!.t - done).toBeLessThan(100);
    expect(await udpEchoWorks(lab, c.client.ns, c.server.addr, UDP_PORT)).toBe(true);

    const list = JSON.parse((await ok('rule', 'list', '--json')).stdout) as { attached: boolean; rules: ListedRuleJson[] };
    expect(list.attached).toBe(true);
    expect(list.rules).toHaveLength(1);
    expect(list.rules[0]!.hits?.packets ?? 0).toBeGreaterThanOrEqual(4);
  });

  it('rule delete lets traffic flow again', async () => {
    const list = JSON.parse((await ok('rule', 'list', '--json')).stdout) as { rules: ListedRuleJson[] };
    const done = await timed('rule', 'delete', '--id', String(list.rules[0]!.id));
    const after = await probesAfter(probes, done, 3);
    expect(after.map((p) => p.ok)).toEqual([true, true, true]);
  });

  it('rule add again, then rule clear lets traffic flow again', async () => {
    const added = await timed('rule', 'add', '--src', `${c.client.addr}/32`, '--port', String(TCP_PORT), '--proto', 'tcp', '--action', 'drop');
    expect((await probesAfter(probes, added, 2)).map((p) => p.ok)).toEqual([false, false]);
    const cleared = await timed('rule', 'clear');
    expect((await probesAfter(probes, cleared, 3)).map((p) => p.ok)).toEqual([true, true, true]);
  });

  it('rule import applies a whole file at once, refuses one the kernel cannot hold, and a replacing file lets traffic flow', async () => {
    const dir = mkdtempSync(join(tmpdir(), `sf-${lab.tag}-files-`));
    lab.removeAtCleanup(dir);
    const write = (name: string, text: string): string => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    const blocking = write('block.yaml', [
      'default_policy: pass',
      'rules:',
      `  - { src: ${c.client.addr}/32, dst_port: ${TCP_PORT}, proto: tcp, action: drop, comment: from a file }`,
      '  - { dst_port: 9, proto: udp, action: drop }',
      '  - { dst: 192.0.2.0/24, action: drop }',
    ].join('\n'));
    const imported = await timed('rule', 'import', blocking);
    expect((await probesAfter(probes, imported, 3)).map((p) => p.ok)).toEqual([false, false, false]);
    expect(await udpEchoWorks(lab, c.client.ns, c.server.addr, UDP_PORT)).toBe(true);
    const rulesBefore = readFileSync(join(c.stateDir, 'rules.json'), 'utf8');

    // More scanned IPv4 rules than the kernel holds: refused before any map changes.
    const tooMany = Array.from({ length: 4097 }, (_, i) => `  - { src: 10.${i >> 8}.${i & 255}.0/24, dst_port: ${1000 + (i % 5000)}, proto: tcp, action: pass }`);
    const refused = await secuxflow('rule', 'import', write('too-many.yaml', ['rules:', ...tooMany].join('\n')));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/error\[E_[A-Z_]+\]: .*4097 .*at most 4096/);
    expect(readFileSync(join(c.stateDir, 'rules.json'), 'utf8')).toBe(rulesBefore);
    expect((await probesAfter(probes, Date.now(), 2)).map((p) => p.ok)).toEqual([false, false]);
    // the refused swap put back the stamp of the set the kernel still holds
    expect((JSON.parse((await ok('rule', 'list', '--json')).stdout) as { kernel_out_of_step: string[] }).kernel_out_of_step).toEqual([]);

    const opening = await timed('rule', 'import', write('open.yaml', 'rules: []\n'));
    expect((await probesAfter(probes, opening, 3)).map((p) => p.ok)).toEqual([true, true, true]);
    const list = JSON.parse((await ok('rule', 'list', '--json')).stdout) as { rules: ListedRuleJson[] };
    expect(list.rules).toHaveLength(0);
  });

  it('nmap sees the port open, then filtered under a drop rule', async () => {
    expect(await nmapPortState()).toBe('open');
    // a port-only rule: the kernel finds it through the port index, not the scan
    await ok('rule', 'add', '--port', String(TCP_PORT), '--proto', 'tcp', '--action', 'drop');
    const ports = objGet(join(c.bpffs.root, c.server.ifname, MapName.PORTS));
    try {
      expect(mapDump(ports).count).toBe(1);
    } finally {
      closeFd(ports);
    }
    expect(await nmapPortState()).toBe('filtered');
    await ok('rule', 'clear');
  });

  it('detach leaves nothing attached and nothing pinned', async () => {
    const r = await ok('detach', '--iface', c.server.ifname);
    expect(r.stdout).toContain(`detached secuxflow from ${c.server.ifname}`);
    expect(await xdpOnLink(c.server.ns, c.server.ifname)).toBeNull();
    expect(c.bpffs.leftovers()).toEqual([]);
    const recorded = JSON.parse(readFileSync(join(c.stateDir, 'attachments.json'), 'utf8')) as { attachments: unknown[] };
    expect(recorded.attachments).toEqual([]);
    // with nothing attached, traffic is untouched by the (cleared) rules
    expect((await probesAfter(probes, Date.now(), 2)).map((p) => p.ok)).toEqual([true, true]);
  });
});
