// Hostile and malformed frames through the LIVE daemon: a raw AF_PACKET
// sender in the client namespace offers runts, lying length fields, looping
// IPv6 extension chains, bad TCP offsets, fragment games, VLAN stacks, full
// size frames, random bytes and a spoofed SYN flood to the server, whose
// `secuxflow run` (host mode) inspects them with the shipped modules. The
// engine's fuzz tests feed decoded packets; this is the whole path: XDP,
// AF_XDP, the queue thread, the modules, the verdict write-back and the TAP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireKernel } from './support/kernel.js';
import { labSkipReason } from './lab/gate.js';
import { cliIn } from './lab/cli-lab.js';
import { NetLab, type VethEnd } from './lab/netns.js';
import { setUpClientServerLab, type ClientServerLab } from './support/veth-labs.js';
import { REPO_ROOT } from './lab/build.js';
import { runOk } from './lab/run.js';
import { childEnded } from '../support/child-exit.js';
import { hostileFrames, type HostileSet } from './lab/hostile-frames.js';
import { writeFrameFile } from './xsk-lab.js';
import { cleanUpLab, startHostDaemon, startHttpServer, keepAliveClientScript, until, type DaemonProc, type PinnedMaps } from './daemon-support.js';
import { parseIp } from '../../host/packet/addr.js';
import { buildPacket, fragmentIp } from '../../host/packet/build.js';
import type { DaemonStatus } from '../../host/daemon/daemon.js';

const kernel = requireKernel();
const labReason = kernel.skip ? null : labSkipReason();
const PORT = 8080;
const SUBNET = 67;
const SERVER6 = 'fd00:5f:67::2';
const CLIENT6 = 'fd00:5f:67::1';
const MODULES = ['basic_inspect', 'scan_flood', 'http_waf'];

describe.skipIf(kernel.skip || labReason !== null).sequential('secuxflow run under hostile and malformed frames', () => {
  const lab = new NetLab('dm');
  let c: ClientServerLab;
  let daemon: DaemonProc;
  let maps: PinnedMaps;
  let frames: HostileSet;
  let frameFile = '';
  let sender = '';

  const { ok } = cliIn(lab, () => ({ ...c, ns: c.server.ns }));
  // Through the control socket, as a user asks: the CLI, not requestDaemon in this process.
  const status = async (): Promise<DaemonStatus> => JSON.parse((await ok('status', '--json')).stdout) as DaemonStatus;
  const rssKb = (pid: number): number => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
  const mac = async (end: VethEnd): Promise<Uint8Array> => Uint8Array.from((await lab.link(end)).address.split(':').map((h) => parseInt(h, 16)));
  const formatMac = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');
  const errorsLogged = (): Array<Record<string, unknown>> => daemon.logs.filter((l) => l.level === 'error' || /restart|exited|failed/.test(String(l.msg)));

  beforeAll(async () => {
    c = await setUpClientServerLab(lab, SUBNET, { daemon: true });
    await runOk(['ip', '-n', c.client.ns, 'addr', 'add', `${CLIENT6}/64`, 'dev', c.client.ifname, 'nodad']);
    await runOk(['ip', '-n', c.server.ns, 'addr', 'add', `${SERVER6}/64`, 'dev', c.server.ifname, 'nodad']);
    await startHttpServer(lab, c.server.ns, c.server.addr, PORT, 120_000);

    sender = join(c.stateDir, 'sender');
    await runOk(['cc', '-O2', '-o', sender, join(REPO_ROOT, 'bench', 'live', 'sender.c')]);
    const { mtu } = await lab.link(c.client);
    frames = hostileFrames({
      srcMac: await mac(c.client), dstMac: await mac(c.server),
      src4: parseIp(c.client.addr), dst4: parseIp(c.server.addr), src6: parseIp(CLIENT6), dst6: parseIp(SERVER6),
      port: PORT, maxFrame: mtu + 14,
    });
    frameFile = join(c.stateDir, 'hostile.frames');
    writeFrameFile(frameFile, frames.all);

    const bi = join(c.stateDir, 'basic_inspect.json');
    writeFileSync(bi, JSON.stringify({
      patterns: [{ sid: 1000001, content: "' OR '1'='1", nocase: true, severity: 1, action: 'block_flow', msg: 'SQL injection tautology' }],
      block_ttl: 4,
    }));
    const sf = join(c.stateDir, 'scan_flood.json');
    writeFileSync(sf, JSON.stringify({ block_ttl: 4, scan_window_ms: 2000 }));
    const configPath = join(c.stateDir, 'daemon.yaml');
    writeFileSync(configPath, `modules:\n  - name: basic_inspect\n    config: ${bi}\n  - name: scan_flood\n    config: ${sf}\n  - name: http_waf\ninspect_cap:\n  packets: 8\nexpiry_interval: 1\n`);
    // Everything addressed to the server is punted, whatever its protocol, so every frame XDP can parse reaches the daemon.
    await ok('rule', 'add', '--action', 'inspect', '--dst', `${c.server.addr}/32`);
    await ok('rule', 'add', '--action', 'inspect', '--dst', `${SERVER6}/128`);
    ({ daemon, maps } = await startHostDaemon(lab, c, configPath));
  }, 240_000);

  // Whatever happened above, nothing of this lab may be left on the machine.
  afterAll(() => cleanUpLab(lab));

  it('takes a few thousand hostile frames and keeps running: same process, queue up, RSS bounded, no error logged', async () => {
    expect(frames.all.length).toBeGreaterThan(3000);
    const before = await status();
    expect(before.modules.map((m) => m.name)).toEqual(MODULES);
    const pid = before.daemon.pid;
    const rss0 = rssKb(pid);
    const punts0 = maps.punts();
    const packets0 = before.queues[0]!.packets;

    // Twice through the set: the second pass meets flows, fragments and penalties the first left behind.
    const r = await lab.execOk(c.client.ns, [sender, '-i', c.client.ifname, '-f', frameFile, '-c', String(2 * frames.all.length), '-r', '4000', '-t', '10'], { timeoutMs: 20_000 });
    expect((JSON.parse(r.stdout) as { sent: number }).sent).toBe(2 * frames.all.length);

    // Most frames parse in XDP (all but runts, cut headers, bad IHL and some random ones) and are punted.
    expect(await until(() => maps.punts() - punts0 >= frames.all.length, 5000)).toBe(true);
    const after = await until(async () => {
      const s = await status();
      return s.queues[0]!.packets - packets0 > frames.all.length ? s : null;
    }, 8000, 250);
    expect(after, 'the queue did not count the punted frames').not.toBeNull();
    expect(after!.daemon.pid).toBe(pid);
    expect(after!.daemon.running).toBe(true);
    expect(after!.queues).toEqual([expect.objectContaining({ queue: 0, state: 'running', lastError: null })]);
    expect(after!.modules.map((m) => [m.name, m.status])).toEqual(MODULES.map((n) => [n, 'ok']));
    expect(daemon.child.exitCode).toBeNull();
    expect(errorsLogged(), daemon.stderr()).toEqual([]);
    const grownMb = (rssKb(pid) - rss0) / 1024;
    expect(grownMb, `RSS grew ${grownMb.toFixed(1)} MB`).toBeLessThan(200);
  }, 60_000);

  it('no kernel verdict for the port-less key XDP gives fragments and unparsed headers: a later fragmented datagram is still reassembled and inspected', async () => {
    // Fragments and broken headers above went past the inspection cap; a verdict on their shared key would let every later non-first fragment skip the daemon.
    for (const [src, dst] of [[c.client.addr, c.server.addr], [CLIENT6, SERVER6]] as const) {
      for (const proto of [0, 6, 17]) {
        const key = { src: parseIp(src), dst: parseIp(dst), sport: 0, dport: 0, vlanOuter: 0, vlanInner: 0, proto };
        expect(maps.flow(key), `${src} -> ${dst} proto ${proto} without ports`).toBeNull();
      }
    }
    // The pattern straddles the two fragments: only the reassembled datagram shows it.
    const datagram = buildPacket({ src: c.client.addr, dst: c.server.addr, proto: 'udp', srcPort: 45999, dstPort: 9999, payload: "abcd' OR '1'='1 tail",
      srcMac: formatMac(await mac(c.client)), dstMac: formatMac(await mac(c.server)), ipId: 0x4242 });
    const file = join(c.stateDir, 'fragmented.frames');
    writeFrameFile(file, fragmentIp(datagram, 16));
    await lab.execOk(c.client.ns, [sender, '-i', c.client.ifname, '-f', file, '-t', '5'], { timeoutMs: 10_000 });
    const alert = await until(async () => (await ok('alerts', '--json')).stdout.split('\n').find((l) => l.includes('"signature_id":1000001') && l.includes('"src_port":45999')), 5000, 250);
    expect(alert, 'the split pattern was not seen').toBeTruthy();
    expect(JSON.parse(alert!)).toMatchObject({ event_type: 'alert', src_ip: c.client.addr, dest_port: 9999 });
  });

  it('a normal keep-alive HTTP exchange still works end to end, and the daemon allows its flow in XDP', async () => {
    const child = await lab.spawn(c.client.ns, [process.execPath, '-e', keepAliveClientScript(c.server.addr, PORT, { count: 3, gapMs: 100, localPort: 43001 })], 'start');
    const lines: string[] = [];
    child.stdout!.on('data', (b: Buffer) => lines.push(...b.toString().split('\n').filter((l) => l !== '')));
    await childEnded(child);
    expect(lines).toEqual(['R1 200 hello /r1', 'R2 200 hello /r2', 'R3 200 hello /r3']);
    const key = { src: parseIp(c.client.addr), dst: parseIp(c.server.addr), sport: 43001, dport: PORT, vlanOuter: 0, vlanInner: 0, proto: 6 };
    expect((await until(() => maps.flow(key), 3000))?.verdict).toBe(1); // SF_FLOW_ALLOW
    expect(errorsLogged(), daemon.stderr()).toEqual([]);
    expect((await status()).queues[0]!.state).toBe('running');
  });
});
