// `secuxflow flow list|delete|clear` on a real attachment: entries written
// through the pins as the daemon and a rule change write them, real UDP and
// TCP traffic from a client namespace that XDP then decides on its own, the
// listing naming each flow once with the packets XDP counted, filtered and
// limited as asked; `delete` forgets the flows picked (the blocked connection
// then connects), `clear` the rest; bad filters are refused, changing nothing.
// (daemon-operator.test.ts has the daemon's side of a delete.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { requireKernel } from './support/kernel.js';
import { labSkipReason } from './lab/gate.js';
import { cliIn } from './lab/cli-lab.js';
import { NetLab } from './lab/netns.js';
import { setUpClientServerLab, type ClientServerLab } from './support/veth-labs.js';
import { startEchoServers } from './lab/traffic.js';
import { SfConfig, SfFlowOrigin, reverseFlowKey, type FlowKey } from '../../host/kernel/codec.js';
import { openPinnedVerdictMaps, readFlowVerdict, writeFlowVerdicts } from '../../host/kernel/verdictmaps.js';
import { readConfigValue } from '../../host/kernel/config.js';
import { parseIp } from '../../host/packet/addr.js';

const kernel = requireKernel();
const labReason = kernel.skip ? null : labSkipReason();
const TCP_PORT = 7080;
const UDP_PORT = 7081;
const UDP_SPORT = 40001;
const TCP_SPORT = 40002;

interface FlowJson {
  interface: string; src_ip: string; src_port: number; dest_ip: string; dest_port: number; proto: string; vlan: number[];
  verdict: string; origin: string; forward: { packets: number; bytes: number }; reverse: { packets: number; bytes: number } | null;
}

/** A node client in the namespace: `count` UDP datagrams from a fixed source port, or one TCP connect from one. */
const udpFrom = (dst: string, sport: number, count: number): string[] => [process.execPath, '-e', `
const s = require('dgram').createSocket('udp4');
s.bind(${sport}, () => { let n = 0; const t = setInterval(() => { s.send('ping', ${UDP_PORT}, '${dst}'); if (++n === ${count}) { clearInterval(t); setTimeout(() => process.exit(0), 200); } }, 20); });`];
const tcpFrom = (dst: string, sport: number): string[] => [process.execPath, '-e', `
const c = require('net').connect({ host: '${dst}', port: ${TCP_PORT}, localPort: ${sport} }, () => { console.log('connected'); process.exit(0); });
c.on('error', (e) => { console.log(e.code); process.exit(0); });
setTimeout(() => { console.log('timeout'); process.exit(0); }, 1500);`];

describe.skipIf(kernel.skip || labReason !== null).sequential('flow list, delete and clear: the kernel fast path by name', () => {
  const lab = new NetLab('fl');
  let net: ClientServerLab;
  const { secuxflow, ok } = cliIn(lab, () => ({ ...net, ns: net.server.ns }));
  const list = async (...args: string[]): Promise<FlowJson[]> => (JSON.parse((await ok('flow', 'list', '--json', ...args)).stdout) as { flows: FlowJson[] }).flows;
  const key = (proto: number, sport: number, dport: number): FlowKey => ({
    src: parseIp(net.client.addr), dst: parseIp(net.server.addr), sport, dport, vlanOuter: 0, vlanInner: 0, proto,
  });

  beforeAll(async () => {
    net = await setUpClientServerLab(lab, 46);
    await startEchoServers(lab, net.server.ns, net.server.addr, TCP_PORT, UDP_PORT);
  }, 120_000);

  afterAll(async () => {
    await lab.cleanup();
  });

  it('before and after attach, with nothing decided yet', async () => {
    expect((await ok('flow', 'list')).stdout).toMatch(/^nothing is attached/);
    for (const args of [['delete', '--host', net.client.addr], ['clear']]) {
      const r = await secuxflow('flow', ...args);
      expect({ args, code: r.code }).toEqual({ args, code: 1 });
      expect(r.stderr).toMatch(/E_NOT_ATTACHED.*nothing is attached with state directory .*: the flow verdict map lives in an attached interface's maps/);
    }
    await ok('attach', '--iface', net.server.ifname, '--mode', 'skb');
    expect((await ok('flow', 'list')).stdout).toBe(`no flow is decided in the kernel (${net.server.ifname})\n`);
  });

  it('names each decided flow once, busiest first, with the packets XDP handled in each direction', async () => {
    const fds = openPinnedVerdictMaps(join(net.bpffs.root, net.server.ifname));
    try {
      writeFlowVerdicts(fds, key(17, UDP_SPORT, UDP_PORT), 'allow');
      writeFlowVerdicts(fds, key(6, TCP_SPORT, TCP_PORT), 'block', SfFlowOrigin.RULE_CHANGE);
    } finally {
      fds.close();
    }
    await lab.exec(net.client.ns, udpFrom(net.server.addr, UDP_SPORT, 5), { timeoutMs: 5000 });
    // The blocked flow's SYNs are dropped in XDP: the connect times out.
    expect((await lab.exec(net.client.ns, tcpFrom(net.server.addr, TCP_SPORT), { timeoutMs: 5000 })).stdout.trim()).toBe('timeout');

    const flows = await list();
    expect(flows.map((f) => [f.proto, f.src_ip, f.src_port, f.dest_ip, f.dest_port, f.verdict, f.origin, f.interface])).toEqual([
      ['UDP', net.client.addr, UDP_SPORT, net.server.addr, UDP_PORT, 'allow', 'daemon', net.server.ifname],
      ['TCP', net.client.addr, TCP_SPORT, net.server.addr, TCP_PORT, 'block', 'rule-change', net.server.ifname],
    ]);
    expect(flows[0]!.forward.packets).toBe(5);
    expect(flows[0]!.forward.bytes).toBe(5 * (14 + 20 + 8 + 4));
    // Only ingress passes XDP here: the server's replies leave without touching the reverse entry.
    expect(flows[0]!.reverse).toEqual({ packets: 0, bytes: 0 });
    expect(flows[1]!.forward.packets).toBeGreaterThanOrEqual(1);

    const text = (await ok('flow', 'list')).stdout;
    expect(text).toMatch(/^FLOW +VERDICT +BY +PACKETS →\/← +BYTES →\/← +INTERFACE\n/);
    expect(text).toContain(`${net.client.addr}:${UDP_SPORT} ⇄ ${net.server.addr}:${UDP_PORT}/udp`);
    expect(text).toMatch(/allow +daemon +5\/0 +230\/0 /);
    expect(text).toMatch(/\n2 flows decided in the kernel; XDP counts each direction in its own entry\n$/);
  });

  it('filters by verdict, host and port, and limits the rows', async () => {
    expect((await list('--verdict', 'block')).map((f) => f.proto)).toEqual(['TCP']);
    expect((await list('--port', String(UDP_SPORT))).map((f) => f.proto)).toEqual(['UDP']);
    expect((await list('--port', String(TCP_PORT))).map((f) => f.proto)).toEqual(['TCP']);
    expect((await list('--host', net.client.addr)).length).toBe(2);
    expect((await list('--host', net.server.addr)).length).toBe(2);
    expect((await ok('flow', 'list', '--host', '192.0.2.9')).stdout).toBe('none of the 2 flows decided in the kernel matches\n');
    const limited = (await ok('flow', 'list', '--limit', '1')).stdout;
    expect(limited.split('\n').filter((l) => l.includes('⇄'))).toHaveLength(1);
    expect(limited).toContain('2 flows decided in the kernel; 1 more not shown (--limit 0 shows all)');
  });

  it('refuses filters it cannot apply, naming them', async () => {
    const cases: [string[], RegExp][] = [
      [['--verdict', 'maybe'], /E_USAGE.*--verdict "maybe": not a flow verdict[\s\S]*allow or --verdict block/],
      [['--limit', 'ten'], /E_USAGE.*--limit "ten"/],
      [['--host', '198.18.46.0/24'], /E_USAGE.*--host "198.18.46.0\/24": not an IPv4 or IPv6 address \(a network; flows are picked by one address\)/],
      [['--port', '70000'], /E_USAGE.*--port "70000": not a port number/],
    ];
    for (const [args, message] of cases) {
      const r = await secuxflow('flow', 'list', ...args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toMatch(message);
    }
  });

  it('flow delete refuses what picks nothing, and deletes nothing then', async () => {
    const refused: [string[], RegExp][] = [
      [[], /E_USAGE.*name the flows to delete with --host, --port or --verdict[\s\S]*secuxflow flow clear/],
      [['--host', '192.0.2.9'], /E_NO_FLOW.*no flow decided in the kernel matches host 192\.0\.2\.9; nothing was deleted/],
      [['--port', '22', '--verdict', 'allow'], /E_NO_FLOW.*matches port 22, verdict allow/],
      [['--verdict', 'drop'], /E_USAGE.*--verdict "drop"/],
    ];
    for (const [args, message] of refused) {
      const r = await secuxflow('flow', 'delete', ...args);
      expect({ args, code: r.code }).toEqual({ args, code: message.source.startsWith('E_USAGE') ? 2 : 1 });
      expect(r.stderr).toMatch(message);
    }
    expect((await secuxflow('flow', 'clear', '--host', net.client.addr)).stderr).toMatch(/E_USAGE.*unknown option '--host'/);
    expect(await list()).toHaveLength(2);
  });

  it('flow delete forgets the flows picked, both directions: the blocked connection now connects', async () => {
    const r = await ok('flow', 'delete', '--verdict', 'block', '--host', net.server.addr);
    expect(r.stdout).toBe(`deleted 1 flow on ${net.server.ifname}\n  ${net.client.addr}:${TCP_SPORT} ⇄ ${net.server.addr}:${TCP_PORT}/tcp (block, ${net.server.ifname})\n`);
    expect((await list()).map((f) => f.proto)).toEqual(['UDP']);
    const fds = openPinnedVerdictMaps(join(net.bpffs.root, net.server.ifname));
    try {
      expect(readFlowVerdict(fds, reverseFlowKey(key(6, TCP_SPORT, TCP_PORT)))).toBeNull();
    } finally {
      fds.close();
    }
    // No rule, default pass: the SYN reaches the server now.
    expect((await lab.exec(net.client.ns, tcpFrom(net.server.addr, TCP_SPORT), { timeoutMs: 5000 })).stdout.trim()).toBe('connected');
  });

  it('flow clear forgets the rest and lowers the lookup switch; clearing an empty map deletes 0', async () => {
    const r = JSON.parse((await ok('flow', 'clear', '--json')).stdout) as { deleted: FlowJson[]; interfaces: string[]; daemon: { running: boolean } };
    expect(r.deleted.map((f) => [f.proto, f.src_port, f.verdict])).toEqual([['UDP', UDP_SPORT, 'allow']]);
    expect(r).toMatchObject({ interfaces: [net.server.ifname], daemon: { running: false } });
    expect(await list()).toEqual([]);
    const fds = openPinnedVerdictMaps(join(net.bpffs.root, net.server.ifname));
    try {
      expect(readConfigValue(fds.sf_config, SfConfig.FLOWS_ACTIVE)).toBe(0);
    } finally {
      fds.close();
    }
    expect((await ok('flow', 'clear')).stdout).toBe(`deleted 0 flows on ${net.server.ifname}\n`);
  });

  it('detach leaves nothing pinned', async () => {
    await ok('detach', '--iface', net.server.ifname);
    expect(net.bpffs.leftovers()).toEqual([]);
  });
});
