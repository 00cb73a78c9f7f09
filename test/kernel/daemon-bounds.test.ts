// The live daemon when an attacker goes for its resources rather than its
// detections: with sf_flows full, verdicts cannot reach the kernel, and with
// stream buffers at their memory cap, segments cannot be kept. Each bound must
// hold, keep its documented policy (blocked flows stay blocked in the daemon,
// segments past the cap are dropped, never passed uninspected), cost a bounded
// amount (no write retried per packet, no warning per packet), and show in
// `secuxflow status`. Last, a flood of 100,000 new flows from spoofed sources
// goes past the engine's 65,536-flow table: it evicts and says so, the
// daemon's memory stays bounded, no module traps, and http_waf keeps
// inspecting. (http_waf's
// 64 MiB hold all the flows the engine keeps; test/host/sandbox/
// memory-exhaustion checks that a module that fills up gets a new instance
// rather than quarantine.) And one detection the memory must not cost: a
// bad-checksum decoy, which the host drops, is not what the modules read.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireKernel } from './support/kernel.js';
import { labSkipReason } from './lab/gate.js';
import { cliIn } from './lab/cli-lab.js';
import { NetLab } from './lab/netns.js';
import { setUpClientServerLab, type ClientServerLab } from './support/veth-labs.js';
import { REPO_ROOT } from './lab/build.js';
import { runOk } from './lab/run.js';
import { writeFrameFile } from './xsk-lab.js';
import { cleanUpLab, sleep, startHostDaemon, startHttpServer, until, type DaemonProc, type PinnedMaps } from './daemon-support.js';
import { parseIp } from '../../host/packet/addr.js';
import { buildPacket } from '../../host/packet/build.js';
import { TcpFlag } from '../../host/packet/types.js';
import { MapName, SF } from '../../host/kernel/codec.js';
import { closeFd, objGet } from '../../host/kernel/native.js';
import { writeFlowVerdicts } from '../../host/kernel/verdictmaps.js';
import type { DaemonStatus } from '../../host/daemon/daemon.js';

const kernel = requireKernel();
const labReason = kernel.skip ? null : labSkipReason();
const PORT = 8080;
const SUBNET = 71;
const SQLI = "' OR '1'='1";
const FLOOD = 100_000;

describe.skipIf(kernel.skip || labReason !== null).sequential('secuxflow run at its resource bounds', () => {
  const lab = new NetLab('db');
  let c: ClientServerLab;
  let daemon: DaemonProc;
  let maps: PinnedMaps;
  let sender = '';
  let srcMac = '';
  let dstMac = '';

  const { ok } = cliIn(lab, () => ({ ...c, ns: c.server.ns }));
  const status = async (): Promise<DaemonStatus> => JSON.parse((await ok('status', '--json')).stdout) as DaemonStatus;
  const rssMb = (pid: number): number => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
  const tcp = (sport: number, seq: number, payload: string): Uint8Array => buildPacket({
    src: c.client.addr, dst: c.server.addr, proto: 'tcp', srcPort: sport, dstPort: PORT, tcpFlags: TcpFlag.ACK | TcpFlag.PSH, seq, ack: 1, payload, srcMac, dstMac,
  });
  const send = async (name: string, frames: Uint8Array[], rate = 4000): Promise<void> => {
    const file = join(c.stateDir, `${name}.frames`);
    writeFrameFile(file, frames);
    const r = await lab.execOk(c.client.ns, [sender, '-i', c.client.ifname, '-f', file, '-c', String(frames.length), '-r', String(rate), '-t', '10'], { timeoutMs: 20_000 });
    expect((JSON.parse(r.stdout) as { sent: number }).sent).toBe(frames.length);
  };

  beforeAll(async () => {
    c = await setUpClientServerLab(lab, SUBNET, { daemon: true });
    srcMac = (await lab.link(c.client)).address;
    dstMac = (await lab.link(c.server)).address;
    await startHttpServer(lab, c.server.ns, c.server.addr, PORT, 120_000);
    sender = join(c.stateDir, 'sender');
    await runOk(['cc', '-O2', '-o', sender, join(REPO_ROOT, 'bench', 'live', 'sender.c')]);
    const bi = join(c.stateDir, 'basic_inspect.json');
    writeFileSync(bi, JSON.stringify({ patterns: [{ sid: 1000001, content: SQLI, nocase: true, severity: 1, action: 'block_flow', msg: 'SQL injection tautology' }] }));
    const configPath = join(c.stateDir, 'daemon.yaml');
    // The smallest stream cap the config takes: 16 flows' worth of 64 KiB buffers (the blocked flows' small ones come first).
    writeFileSync(configPath, `modules:\n  - name: basic_inspect\n    config: ${bi}\n  - name: http_waf\nstream_memcap: 1048576\n`);
    await ok('rule', 'add', '--action', 'inspect', '--dst', `${c.server.addr}/32`);
    ({ daemon, maps } = await startHostDaemon(lab, c, configPath));
  }, 240_000);

  afterAll(() => cleanUpLab(lab));

  it('with sf_flows full, blocked flows stay blocked in the daemon, the write is not retried per packet, and one warning says so', async () => {
    // Fill the kernel's flow map with entries no packet here matches.
    const flows = objGet(join(c.bpffs.root, c.server.ifname, MapName.FLOWS));
    const fds = { sf_flows: flows, sf_config: objGet(join(c.bpffs.root, c.server.ifname, MapName.CONFIG)), sf_penalty: -1 };
    try {
      for (let i = 0; i < SF.MAX_FLOWS / 2; i++) {
        writeFlowVerdicts(fds, { src: parseIp(`10.222.${i >> 8}.${i & 255}`), dst: parseIp('10.223.0.1'), sport: 1 + (i & 0x7fff), dport: 1, vlanOuter: 0, vlanInner: 0, proto: 6 }, 'allow');
      }
    } finally {
      closeFd(fds.sf_flows);
      closeFd(fds.sf_config);
    }
    expect(maps.flowCount()).toBe(SF.MAX_FLOWS);
    const before = await status();
    const warningsBefore = daemon.logs.filter((l) => l.msg === 'verdict write-back failed').length;
    // 40 attacks, each its own flow, then 60 more packets of the first ones.
    const attacks = Array.from({ length: 40 }, (_, i) => tcp(30000 + i, 5000, `GET /?q=${SQLI} HTTP/1.1\r\n`));
    const more = Array.from({ length: 60 }, (_, i) => tcp(30000 + (i % 3), 5100 + i * 10, 'x'));
    await send('blocked', [...attacks, ...more]);
    const after = await until(async () => {
      const s = await status();
      return s.queues[0]!.packets - before.queues[0]!.packets >= 100 ? s : null;
    }, 8000, 250);
    expect(after, 'the queue did not see the frames').not.toBeNull();
    const errors = after!.writeBack.writeErrors! - (before.writeBack.writeErrors ?? 0);
    // One failed write per flow (the follow-ups came within the second): not one per packet.
    expect(errors).toBeGreaterThanOrEqual(40);
    expect(errors).toBeLessThan(50);
    // Every packet of those flows was dropped by the daemon, the follow-ups included.
    expect(after!.queues[0]!.dropped - before.queues[0]!.dropped).toBe(100);
    expect(maps.flow({ src: parseIp(c.client.addr), dst: parseIp(c.server.addr), sport: 30000, dport: PORT, vlanOuter: 0, vlanInner: 0, proto: 6 })).toBeNull();
    // The worker's log lines reach the main thread on their own schedule: the
    // first is waited for, then a second must not follow within a second.
    const warnings = (): number => daemon.logs.filter((l) => l.msg === 'verdict write-back failed').length - warningsBefore;
    await until(() => (warnings() >= 1 ? true : null), 10_000, 100);
    await sleep(1000);
    expect(warnings()).toBe(1);
    expect((await ok('status')).stdout).toMatch(/FAILED \d+ \(a full map/);
    expect((await status()).queues[0]!.state).toBe('running');
  });

  it('segments past the stream memory cap are dropped, counted and shown; the daemon keeps deciding', async () => {
    const before = await status();
    // Two tiny segments a flow, the second just inside the 64 KiB depth: a whole-depth buffer each.
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 64; i++) frames.push(tcp(20000 + i, 1000, 'a'), tcp(20000 + i, 1000 + 65000, 'b'));
    await send('memcap', frames);
    const after = await until(async () => {
      const s = await status();
      return s.queues[0]!.packets - before.queues[0]!.packets >= frames.length ? s : null;
    }, 8000, 250);
    expect(after, 'the queue did not see the frames').not.toBeNull();
    const e = after!.engine!;
    expect(e.streamMemcap).toBe(1048576);
    expect(e.streamBytes).toBeLessThanOrEqual(1048576);
    // 64 flows want 4 MiB; at most 16 of their second segments fit.
    expect(e.streamMemcapDrops).toBeGreaterThanOrEqual(64 - 16);
    expect(after!.queues[0]!.dropped - before.queues[0]!.dropped).toBeGreaterThanOrEqual(e.streamMemcapDrops);
    expect((await ok('status')).stdout).toMatch(/streams [\d.]+ MiB\/1\.0 MiB, MEMCAP DROPS \d+/);
  });

  it('evicts past the flow table and counts it, keeps its memory bounded, no module traps, and http_waf still inspects', async () => {
    const before = await status();
    const pid = before.daemon.pid;
    const rss0 = rssMb(pid);
    const frames = Array.from({ length: FLOOD }, (_, i) => buildPacket({
      src: `10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`, dst: c.server.addr, proto: 'tcp', srcPort: 1024 + (i % 60000), dstPort: PORT,
      tcpFlags: TcpFlag.SYN, seq: i, srcMac, dstMac,
    }));
    // The sender reads at most 65,536 frames from a file: two halves.
    await send('flood0', frames.slice(0, FLOOD / 2), 40_000);
    await send('flood1', frames.slice(FLOOD / 2), 40_000);
    const after = await until(async () => {
      const s = await status();
      return s.queues[0]!.packets - before.queues[0]!.packets >= FLOOD * 0.95 ? s : null;
    }, 15_000, 500);
    expect(after, 'the queue did not see the flood').not.toBeNull();
    const e = after!.engine!;
    expect(e.flows).toBeLessThanOrEqual(e.flowsMax);
    expect(e.flowsEvicted).toBeGreaterThan(FLOOD * 0.95 - e.flowsMax - 1000);
    // Every module holds the churn, not http_waf alone (basic_inspect, on 16
    // MiB and a per-flow map that rebuilt itself, was quarantined by longer
    // floods; test/modules/basic_inspect/long-run-memory covers that one).
    for (const m of after!.modules) {
      expect(m.status, `${m.name}: ${m.quarantineReason ?? ''}`).not.toBe('quarantined');
      expect(m.traps, `${m.name} trapped`).toBe(0);
    }
    expect(daemon.logs.filter((l) => l.level === 'error'), daemon.stderr()).toEqual([]);
    const grown = rssMb(pid) - rss0;
    expect(grown, `RSS grew ${grown.toFixed(0)} MB`).toBeLessThan(300);

    const r = await lab.exec(c.client.ns, ['curl', '-s', '-m', '3', '-o', '/dev/null', '-w', '%{http_code}', `http://${c.server.addr}:${PORT}/item?id=1%27%20OR%20%271%27=%271`], { timeoutMs: 10_000 });
    expect(r.stdout).toBe('200');
    const alert = await until(async () => (await ok('alerts', '--json')).stdout.split('\n').find((l) => l.includes('HTTP SQL injection')), 5000, 250);
    expect(alert, 'http_waf did not see the request after the flood').toBeTruthy();
  }, 60_000);

  // Ptacek and Newsham's insertion against host mode: a benign decoy with a
  // bad TCP checksum, then the attack in the same bytes. The server's stack
  // drops the decoy and takes the attack, so the modules must read the attack.
  // Last: the tests above fill sf_flows, and the alert is what tells here.
  it('a bad-checksum decoy ahead of the attack: the host drops it, and the modules read the attack, not the decoy', async () => {
    const sport = 29000;
    const attack = `GET /item?id=1${SQLI} HTTP/1.1\r\nHost: shop\r\n\r\n`;
    const benign = `GET /item?id=1${'x'.repeat(SQLI.length)} HTTP/1.1\r\nHost: shop\r\n\r\n`;
    const syn = buildPacket({ src: c.client.addr, dst: c.server.addr, proto: 'tcp', srcPort: sport, dstPort: PORT, tcpFlags: TcpFlag.SYN, seq: 0, srcMac, dstMac });
    const decoy = tcp(sport, 1, benign);
    decoy[14 + 20 + 16]! ^= 0xff; // the TCP checksum
    await send('decoy', [syn, decoy, tcp(sport, 1, attack)], 1000);
    const alert = await until(async () => (await ok('alerts', '--json')).stdout.split('\n').find((l) => l.includes(`"src_port":${sport}`) && l.includes('"signature_id":1000001')), 5000, 250);
    expect(alert, 'basic_inspect read the decoy, not the attack').toBeTruthy();
    const e = (await status()).engine!;
    expect(e.checksumsRefused).toBeGreaterThanOrEqual(1);
  });

  // The flood above is sent as two files because of this bound: past it the
  // sender used to cycle through the first frames without a word.
  it('the sender refuses a frame file longer than it reads, before sending anything', async () => {
    const file = join(c.stateDir, 'too-long.frames');
    const frame = tcp(31000, 1, 'x');
    writeFrameFile(file, Array.from({ length: 65_537 }, () => frame));
    const r = await lab.exec(c.client.ns, [sender, '-i', c.client.ifname, '-f', file, '-c', '1', '-t', '5'], { timeoutMs: 20_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('holds more than 65536 frames; split it into files of at most 65536');
  });
});
