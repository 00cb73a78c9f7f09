// `secuxflow block` without a daemon, as an operator uses it: attach, traffic
// passes; block the client by hand, its TCP and UDP drop in XDP and the list
// shows it with its drops; release it, traffic passes and the lookup switch
// is down again; a short block runs out on its own; bad input changes
// nothing; detach leaves nothing pinned. And the lowering of the lookup
// switch against a writer that lands in the middle of it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { requireKernel } from './support/kernel.js';
import { labSkipReason } from './lab/gate.js';
import { cliIn } from './lab/cli-lab.js';
import { NetLab } from './lab/netns.js';
import { setUpClientServerLab, setUpVethCliLab, withPinned, type ClientServerLab, type VethCliLab } from './support/veth-labs.js';
import { probesAfter, startEchoServers, startTcpProber, udpEchoWorks, type Probe } from './lab/traffic.js';
import { runOk } from './lab/run.js';
import { LAYOUT, MapName, SfActive, SfConfig, decodePenaltyKey } from '../../host/kernel/codec.js';
import { mapDump, mapNextKey } from '../../host/kernel/native.js';
import { readConfigValue } from '../../host/kernel/config.js';
import { deletePenalty, openPinnedVerdictMaps, refreshActiveSwitches, refreshSwitch, writePenalty } from '../../host/kernel/verdictmaps.js';
import { formatIp, parseIp } from '../../host/packet/addr.js';

const kernel = requireKernel();
const labReason = kernel.skip ? null : labSkipReason();
const TCP_PORT = 7070;
const UDP_PORT = 7071;

interface ListJson {
  interfaces: string[];
  expired: number;
  sources: { addr: string; expires_in_sec: number; dropped: number; interfaces: string[] }[];
}

describe.skipIf(kernel.skip || labReason !== null).sequential('block: the penalty box by hand', () => {
  const lab = new NetLab('bk');
  let net: ClientServerLab;
  let probes: Probe[] = [];
  let pinDir = '';
  const { secuxflow, ok } = cliIn(lab, () => ({ ...net, ns: net.server.ns }));
  const list = async (): Promise<ListJson> => JSON.parse((await ok('block', 'list', '--json')).stdout) as ListJson;
  const penaltySwitch = (): { word: number; union: number } => withPinned(join(pinDir, MapName.CONFIG), (fd) => ({
    word: readConfigValue(fd, SfConfig.PENALTY_ACTIVE), union: readConfigValue(fd, SfConfig.VERDICTS_ACTIVE) & SfActive.PENALTY,
  }));

  beforeAll(async () => {
    net = await setUpClientServerLab(lab, 43);
    await startEchoServers(lab, net.server.ns, net.server.addr, TCP_PORT, UDP_PORT);
    probes = (await startTcpProber(lab, net.client.ns, net.server.addr, TCP_PORT, { timeoutMs: 100, pauseMs: 10 })).probes;
    pinDir = join(net.bpffs.root, net.server.ifname);
  }, 120_000);

  afterAll(async () => {
    await lab.cleanup();
  });

  it('with nothing attached, list says so and a change is refused', async () => {
    expect((await ok('block', 'list')).stdout).toMatch(/nothing is attached/);
    const r = await secuxflow('block', 'add', net.client.addr);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error\[E_NOT_ATTACHED\].*penalty box/);
  });

  it('attached, traffic passes and the penalty box is empty', async () => {
    await ok('attach', '--iface', net.server.ifname, '--mode', 'skb');
    expect((await probesAfter(probes, Date.now(), 3)).map((p) => p.ok)).toEqual([true, true, true]);
    expect((await ok('block', 'list')).stdout).toContain(`the penalty box is empty (${net.server.ifname})`);
    expect(penaltySwitch()).toEqual({ word: 0, union: 0 });
  });

  it('block add drops the client in XDP at once, TCP and UDP, and list shows it with its drops', async () => {
    const r = await ok('block', 'add', net.client.addr, '--ttl', '1h');
    const done = Date.now();
    expect(r.stdout).toBe(`blocked ${net.client.addr} for 1h on ${net.server.ifname}\n`);
    expect((await probesAfter(probes, done, 4)).map((p) => p.ok)).toEqual([false, false, false, false]);
    expect(await udpEchoWorks(lab, net.client.ns, net.server.addr, UDP_PORT)).toBe(false);
    const l = await list();
    expect(l.sources).toHaveLength(1);
    expect(l.sources[0]).toMatchObject({ addr: net.client.addr, interfaces: [net.server.ifname] });
    expect(l.sources[0]!.expires_in_sec).toBeGreaterThan(3500);
    expect(l.sources[0]!.expires_in_sec).toBeLessThanOrEqual(3600);
    expect(l.sources[0]!.dropped).toBeGreaterThanOrEqual(4);
    // Blocked by hand: no alert of the daemon's says why.
    expect((await ok('block', 'list')).stdout).toMatch(new RegExp(`^SOURCE +EXPIRES IN +DROPPED +INTERFACES +LAST BLOCKING ALERT\\n${net.client.addr.replace(/\./g, '\\.')} +59m \\d+s +\\d+ +${net.server.ifname} +-\\n1 source blocked`));
    expect(penaltySwitch()).toEqual({ word: 1, union: SfActive.PENALTY });
  });

  it('refuses bad input and leaves the block as it was', async () => {
    const cases: [string[], number, RegExp][] = [
      [['block', 'add', '198.18.43.0/24'], 2, /E_USAGE.*single addresses and IPv6 \/64s, not other networks[\s\S]*hint: .*rule add --src 198\.18\.43\.0\/24 --action drop/],
      [['block', 'add', 'not-an-ip'], 2, /E_USAGE.*"not-an-ip" is not an IPv4 or IPv6 address/],
      [['block', 'add', net.client.addr, '--ttl', '31d'], 2, /E_USAGE.*--ttl 31d: out of range[\s\S]*1s to 30d/],
      [['block', 'add', net.client.addr, '--ttl', 'soon'], 2, /E_USAGE.*--ttl "soon": not a duration/],
      [['block', 'delete', '192.0.2.99'], 1, /E_NOT_BLOCKED.*192\.0\.2\.99 is not in the penalty box/],
      [['block', 'delete', net.client.addr, '192.0.2.99'], 1, /E_NOT_BLOCKED.*192\.0\.2\.99 is not in the penalty box; nothing was released/],
    ];
    for (const [args, code, message] of cases) {
      const r = await secuxflow(...args);
      expect({ args, code: r.code }).toEqual({ args, code });
      expect(r.stderr).toMatch(message);
    }
    const l = await list();
    expect(l.sources.map((s) => s.addr)).toEqual([net.client.addr]);
    expect(l.sources[0]!.expires_in_sec).toBeGreaterThan(3500);
    expect((await probesAfter(probes, Date.now(), 2)).map((p) => p.ok)).toEqual([false, false]);
  });

  it('block delete lets the client through again and lowers the lookup switch', async () => {
    const r = await ok('block', 'delete', net.client.addr);
    const done = Date.now();
    expect(r.stdout).toBe(`released ${net.client.addr} on ${net.server.ifname}\n`);
    expect((await probesAfter(probes, done, 3)).map((p) => p.ok)).toEqual([true, true, true]);
    expect(await udpEchoWorks(lab, net.client.ns, net.server.addr, UDP_PORT)).toBe(true);
    expect((await list()).sources).toEqual([]);
    expect(penaltySwitch()).toEqual({ word: 0, union: 0 });
  });

  it('a short block runs out on its own; list leaves the spent entry out and clear removes it', async () => {
    await ok('block', 'add', `::ffff:${net.client.addr}`, '--ttl', '2s');
    const added = Date.now();
    expect((await probesAfter(probes, added, 2)).map((p) => p.ok)).toEqual([false, false]);
    expect((await list()).sources.map((s) => s.addr)).toEqual([net.client.addr]);
    expect((await probesAfter(probes, added + 2500, 3)).map((p) => p.ok)).toEqual([true, true, true]);
    const l = await list();
    expect(l.sources).toEqual([]);
    expect(l.expired).toBe(1);
    expect((await ok('block', 'clear', '--json')).stdout).toContain(`"released": [\n    "${net.client.addr}"\n  ]`);
    expect((await list()).expired).toBe(0);
    expect(penaltySwitch()).toEqual({ word: 0, union: 0 });
  });

  const client6 = '2001:db8:43::1';
  const server6 = '2001:db8:43::2';
  // One datagram over IPv6 from `from` and its echo, three tries 300 ms apart.
  const ping6 = async (from = client6): Promise<boolean> => (await lab.exec(net.client.ns, [process.execPath, '-e', `const d = require('dgram').createSocket('udp6');
let left = 3; const send = () => { if (left-- <= 0) process.exit(1); d.send('v6', ${UDP_PORT}, '${server6}'); setTimeout(send, 300); };
d.on('message', () => process.exit(0)); d.bind(0, '${from}', send);`], { timeoutMs: 5000 })).code === 0;

  it('an IPv6 source: blocked by its address, listed as the kernel holds it, released', async () => {
    await runOk(['ip', '-n', net.client.ns, 'addr', 'add', `${client6}/64`, 'dev', net.client.ifname, 'nodad']);
    await runOk(['ip', '-n', net.server.ns, 'addr', 'add', `${server6}/64`, 'dev', net.server.ifname, 'nodad']);
    await lab.spawn(net.server.ns, [process.execPath, '-e', `const d = require('dgram').createSocket('udp6');
setTimeout(() => process.exit(0), 120000);
d.on('message', (m, r) => d.send(m, r.port, r.address));
d.bind(${UDP_PORT}, '${server6}', () => console.log('ready'));`], 'ready');
    expect(await ping6()).toBe(true);
    await ok('block', 'add', '2001:DB8:43:0:0:0:0:1', '--ttl', '5m');
    expect(await ping6()).toBe(false);
    expect((await probesAfter(probes, Date.now(), 2)).map((p) => p.ok)).toEqual([true, true]); // its IPv4 address is another source
    expect((await list()).sources.map((s) => s.addr)).toEqual([client6]);
    expect((await ok('block', 'delete', client6)).stdout).toBe(`released ${client6} on ${net.server.ifname}\n`);
    expect(await ping6()).toBe(true);
  });

  it('an IPv6 /64: every address of it dropped in XDP, none outside it; listed and released by that name', async () => {
    const rotated = '2001:db8:43::77:5'; // the same host's next address
    const outside = '2001:db8:44::1';
    await runOk(['ip', '-n', net.client.ns, 'addr', 'add', `${rotated}/64`, 'dev', net.client.ifname, 'nodad']);
    await runOk(['ip', '-n', net.client.ns, 'addr', 'add', `${outside}/64`, 'dev', net.client.ifname, 'nodad']);
    await runOk(['ip', '-n', net.server.ns, 'addr', 'add', '2001:db8:44::2/64', 'dev', net.server.ifname, 'nodad']);
    expect(await ping6(rotated)).toBe(true);
    expect((await ok('block', 'add', '2001:db8:43::1/64', '--ttl', '5m')).stdout).toBe(`blocked 2001:db8:43::/64 for 5m on ${net.server.ifname}\n`);
    expect(await ping6('2001:db8:43::1')).toBe(false);
    expect(await ping6(rotated)).toBe(false);
    expect(await ping6(outside)).toBe(true);
    expect((await list()).sources.map((s) => s.addr)).toEqual(['2001:db8:43::/64']);
    // An expired entry of the address itself does not hide the live /64 (XDP looks both up).
    const fds = openPinnedVerdictMaps(pinDir);
    try {
      writePenalty(fds, parseIp(rotated), process.hrtime.bigint() - 1_000_000_000n);
    } finally {
      fds.close();
    }
    expect(await ping6(rotated)).toBe(false);
    expect((await ok('block', 'delete', '2001:db8:43::/64')).stdout).toBe(`released 2001:db8:43::/64 on ${net.server.ifname}\n`);
    expect(await ping6(rotated)).toBe(true);
    const r = await secuxflow('block', 'add', '2001:db8:43::');
    expect(r.stderr).toMatch(/E_USAGE.*subnet-router anycast address of its \/64[\s\S]*give 2001:db8:43::\/64/);
    await ok('block', 'clear');
  });

  it('lowering the switch never hides an entry a writer adds between the look at the map and the lowering', () => {
    // The interleaving a daemon's queue thread can run against its sweep or
    // this command: the box looks empty, a writer adds an entry and finds the
    // switch still up, then the switch is lowered. Played out in that order.
    const fds = openPinnedVerdictMaps(pinDir);
    const written = parseIp('192.0.2.201');
    const far = process.hrtime.bigint() + 3_600_000_000_000n;
    try {
      writePenalty(fds, parseIp('192.0.2.202'), far);
      deletePenalty(fds, parseIp('192.0.2.202'));
      expect(penaltySwitch()).toEqual({ word: 1, union: SfActive.PENALTY }); // empty box, switch up: what a sweep finds
      let looks = 0;
      refreshSwitch(fds, SfConfig.PENALTY_ACTIVE, () => {
        const empty = mapNextKey(fds.sf_penalty, null, LAYOUT.sf_penalty_key.size) === null;
        if (looks++ === 0) writePenalty(fds, written, far);
        return empty;
      });
      expect(penaltySwitch()).toEqual({ word: 1, union: SfActive.PENALTY });
      // And with nothing written meanwhile, the switch does come down.
      deletePenalty(fds, written);
      refreshActiveSwitches(fds);
      expect(penaltySwitch()).toEqual({ word: 0, union: 0 });
    } finally {
      deletePenalty(fds, written);
      fds.close();
    }
  });

  it('detach leaves nothing pinned, and block then needs an attachment again', async () => {
    await ok('detach', '--iface', net.server.ifname);
    expect(net.bpffs.leftovers()).toEqual([]);
    const r = await secuxflow('block', 'clear');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/E_NOT_ATTACHED/);
  });
});

describe.skipIf(kernel.skip || labReason !== null).sequential('block: every attached interface or none', () => {
  const lab = new NetLab('bkb');
  let c: VethCliLab;
  const { secuxflow, ok } = cliIn(lab, () => ({ ...c, ns: c.ns }));
  const sourcesOn = (iface: string): string[] => withPinned(join(c.bpffs.root, iface, MapName.PENALTY), (fd) => {
    const dump = mapDump(fd);
    const size = LAYOUT.sf_penalty_key.size;
    return Array.from({ length: dump.count }, (_, i) => formatIp(decodePenaltyKey(dump.keys.subarray(i * size, (i + 1) * size)))).sort();
  });

  beforeAll(async () => {
    c = await setUpVethCliLab(lab, 45);
    await ok('attach', '--iface', c.end.ifname, '--mode', 'skb');
    await ok('attach', '--iface', c.peer.ifname, '--mode', 'skb');
  }, 120_000);

  afterAll(async () => {
    await lab.cleanup();
  });

  it('a block goes to both interfaces of a state directory and list names both', async () => {
    expect((await ok('block', 'add', '192.0.2.1')).stdout).toBe(`blocked 192.0.2.1 for 1h on ${c.end.ifname}, ${c.peer.ifname}\n`);
    expect([sourcesOn(c.end.ifname), sourcesOn(c.peer.ifname)]).toEqual([['192.0.2.1'], ['192.0.2.1']]);
    const l = JSON.parse((await ok('block', 'list', '--json')).stdout) as ListJson;
    expect(l.sources.map((s) => [s.addr, s.interfaces])).toEqual([['192.0.2.1', [c.end.ifname, c.peer.ifname]]]);
  });

  it('when the second interface refuses, the first gets its old entries back: no half-applied change', async () => {
    // The second interface's penalty box is gone (unpinned by hand): opening it fails after the first was changed.
    rmSync(join(c.bpffs.root, c.peer.ifname, MapName.PENALTY));
    const add = await secuxflow('block', 'add', '192.0.2.2');
    expect(add.code).toBe(1);
    expect(add.stderr).toMatch(new RegExp(`blocking 192\\.0\\.2\\.2 on ${c.peer.ifname} failed, so no interface was changed`));
    expect(sourcesOn(c.end.ifname)).toEqual(['192.0.2.1']);
    const del = await secuxflow('block', 'delete', '192.0.2.1');
    expect(del.code).toBe(1);
    expect(del.stderr).toMatch(new RegExp(`releasing 192\\.0\\.2\\.1 on ${c.peer.ifname} failed, so no interface was changed`));
    expect(sourcesOn(c.end.ifname)).toEqual(['192.0.2.1']);
    // The entry put back is one XDP reads: the release had left the first box empty and its switch down.
    expect(withPinned(join(c.bpffs.root, c.end.ifname, MapName.CONFIG), (fd) => readConfigValue(fd, SfConfig.VERDICTS_ACTIVE) & SfActive.PENALTY)).toBe(SfActive.PENALTY);
    // The list still reads the first, and says what it cannot read.
    const list = await ok('block', 'list');
    expect(list.stdout).toMatch(/^SOURCE/);
    expect(list.stdout).toContain(`warning: cannot read the penalty box of ${c.peer.ifname}`);
  });
});
