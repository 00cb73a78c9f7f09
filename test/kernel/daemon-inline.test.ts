// The daemon in inline mode: client namespace - two veths bridged in the
// daemon's namespace - server namespace. XDP runs on both bridge ports;
// packets it passes are forwarded by the bridge, punted ones reach the
// server only because the daemon sends them out of the peer's AF_XDP socket.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { requireKernel } from './support/kernel.js';
import { labSkipReason } from './lab/gate.js';
import { cliIn } from './lab/cli-lab.js';
import { NetLab } from './lab/netns.js';
import { xdpOnLink, type PrivateBpffs } from './lab/bpffs.js';
import { runOk, type RunResult } from './lab/run.js';
import { prepareDaemonLab, openPinnedMaps, startDaemon, startHttpServer, until, type DaemonProc, type PinnedMaps } from './daemon-support.js';
import { requestDaemon } from '../../host/control/client.js';
import type { DaemonStatus } from '../../host/daemon/daemon.js';
import { parseIp } from '../../host/packet/addr.js';
import { REPO_ROOT } from './lab/build.js';
import { writeFrameFile } from './xsk-lab.js';
import { buildPacket } from '../../host/packet/build.js';
import { decodePacket } from '../../host/packet/decode.js';
import { finishChecksum, pseudoHeaderSumAt, sumWords } from '../../host/packet/checksum.js';
import { TcpFlag, dstAddrOffset, ipLayerEnd, srcAddrOffset } from '../../host/packet/types.js';
import { openCapture } from '../../host/capture/reader.js';
import { SfStat } from '../../host/kernel/codec.js';

const kernel = requireKernel();
const labReason = kernel.skip ? null : labSkipReason();
const PORT = 8080;
const CLIENT = '198.18.62.1';
const SERVER = '198.18.62.2';

describe.skipIf(kernel.skip || labReason !== null).sequential('secuxflow run --peer (inline)', () => {
  const lab = new NetLab('di');
  let cns = '';
  let dns = '';
  let sns = '';
  let inIf = '';
  let outIf = '';
  let cIf = '';
  let sIf = '';
  let cli = '';
  let bpffs: PrivateBpffs;
  let stateDir = '';
  let env: NodeJS.ProcessEnv;
  let daemon: DaemonProc;
  let inMaps: PinnedMaps;
  let outMaps: PinnedMaps;

  const { secuxflow } = cliIn(lab, () => ({ ns: dns, cli, stateDir, env }));
  const curl = (...args: string[]): Promise<RunResult> =>
    lab.exec(cns, ['curl', '-s', '-m', '3', ...args, `http://${SERVER}:${PORT}/`], { timeoutMs: 10_000 });

  beforeAll(async () => {
    ({ cli, stateDir, bpffs, env } = await prepareDaemonLab(lab));
    cns = await lab.addNamespace('c');
    dns = await lab.addNamespace('d');
    sns = await lab.addNamespace('s');
    cIf = lab.name('cv');
    inIf = lab.name('di');
    outIf = lab.name('do');
    sIf = lab.name('sv');
    await runOk(['ip', 'link', 'add', cIf, 'netns', cns, 'type', 'veth', 'peer', 'name', inIf, 'netns', dns]);
    await runOk(['ip', 'link', 'add', outIf, 'netns', dns, 'type', 'veth', 'peer', 'name', sIf, 'netns', sns]);
    const br = lab.name('br');
    await runOk(['ip', '-n', dns, 'link', 'add', br, 'type', 'bridge']);
    for (const i of [inIf, outIf]) {
      await runOk(['ip', '-n', dns, 'link', 'set', i, 'master', br]);
      await runOk(['ip', '-n', dns, 'link', 'set', i, 'up']);
    }
    await runOk(['ip', '-n', dns, 'link', 'set', br, 'up']);
    await runOk(['ip', '-n', cns, 'addr', 'add', `${CLIENT}/24`, 'dev', cIf]);
    await runOk(['ip', '-n', cns, 'link', 'set', cIf, 'up']);
    await runOk(['ip', '-n', sns, 'addr', 'add', `${SERVER}/24`, 'dev', sIf]);
    await runOk(['ip', '-n', sns, 'link', 'set', sIf, 'up']);
    await startHttpServer(lab, sns, SERVER, PORT);
    expect((await curl()).stdout).toBe('hello /'); // the bridge works before secuxflow

    const bi = join(stateDir, 'basic_inspect.json');
    writeFileSync(bi, JSON.stringify({ patterns: [{ sid: 1000001, content: "' OR '1'='1", nocase: true, severity: 1, action: 'block_flow', msg: 'SQL injection tautology' }] }));
    const config = join(stateDir, 'daemon.yaml');
    writeFileSync(config, `modules:\n  - name: basic_inspect\n    config: ${bi}\ninspect_cap:\n  packets: 8\n`);
    const add = await secuxflow('rule', 'add', '--action', 'inspect', '--proto', 'tcp', '--port', String(PORT));
    expect(add.code, add.stderr).toBe(0);
    daemon = startDaemon(lab, dns, cli, ['--iface', inIf, '--peer', outIf, '--mode', 'skb', '--state-dir', stateDir, '--config', config], env);
    await daemon.waitLog((l) => l.msg === 'daemon started', 60_000);
    inMaps = openPinnedMaps(join(bpffs.root, inIf));
    outMaps = openPinnedMaps(join(bpffs.root, outIf));
  }, 240_000);

  afterAll(async () => {
    inMaps?.close();
    outMaps?.close();
    await lab.cleanup();
  });

  it('attaches to both bridge ports', async () => {
    expect((await xdpOnLink(dns, inIf))?.name).toBe('sf_xdp');
    expect((await xdpOnLink(dns, outIf))?.name).toBe('sf_xdp');
  });

  it('punted packets reach the server through TX on the peer, and the answer comes back', async () => {
    const punts = inMaps.punts();
    const r = await curl('--local-port', '42001');
    expect(r.stdout).toBe('hello /');
    expect(inMaps.punts()).toBeGreaterThan(punts);
    const s = (await requestDaemon(stateDir, 'status')) as DaemonStatus;
    const peerSock = s.queues[0]!.sockets.find((k) => k.iface === outIf);
    expect(peerSock!.txPackets).toBeGreaterThan(0);
    expect(s.interfaces.map((i) => i.role)).toEqual(['protected', 'peer']);
  });

  it('a blocked request never reaches the server, and the verdict is in both ports\' maps', async () => {
    const r = await curl('-H', "X-Q: 1' OR '1'='1", '--local-port', '42002');
    expect(r.stdout).not.toContain('hello');
    const k = { src: parseIp(CLIENT), dst: parseIp(SERVER), sport: 42002, dport: PORT, vlanOuter: 0, vlanInner: 0, proto: 6 };
    expect((await until(() => inMaps.flow(k), 2000))?.verdict).toBe(2);
    expect(outMaps.flow({ ...k, src: k.dst, dst: k.src, sport: PORT, dport: 42002 })?.verdict).toBe(2);
  });

  // Ptacek and Newsham's insertion against inline mode: a benign decoy with a
  // bad TCP checksum, then the attack in the same bytes. The daemon once
  // recomputed every checksum it forwarded, so the server took the decoy as
  // good data and the modules read the decoy; now the decoy goes on as wrong
  // as it came (the server drops it) and the modules read the attack.
  it('a bad-checksum decoy is not repaired on its way to the server, and the modules read the attack behind it', async () => {
    const sport = 29100;
    const sender = join(stateDir, 'sender');
    if (!existsSync(sender)) await runOk(['cc', '-O2', '-o', sender, join(REPO_ROOT, 'bench', 'live', 'sender.c')]);
    const mac = async (ns: string, dev: string): Promise<string> =>
      (JSON.parse((await lab.exec(ns, ['ip', '-j', 'link', 'show', 'dev', dev])).stdout) as Array<{ address: string }>)[0]!.address;
    const srcMac = await mac(cns, cIf);
    const dstMac = await mac(sns, sIf);
    const seg = (flags: number, seq: number, payload: string): Uint8Array =>
      buildPacket({ src: CLIENT, dst: SERVER, proto: 'tcp', srcPort: sport, dstPort: PORT, tcpFlags: flags, seq, ack: flags & TcpFlag.SYN ? 0 : 1, payload, srcMac, dstMac });
    const sqli = "' OR '1'='1";
    const attack = `GET /?q=1${sqli} HTTP/1.1\r\nHost: s\r\n\r\n`;
    const benign = `GET /?q=1${'x'.repeat(sqli.length)} HTTP/1.1\r\nHost: s\r\n\r\n`;
    const decoy = seg(TcpFlag.ACK | TcpFlag.PSH, 1, benign);
    decoy[14 + 20 + 16]! ^= 0xff; // the TCP checksum
    const pcap = join(stateDir, 'inline-decoy.pcap');
    const dump = await lab.spawn(sns, ['sh', '-c', `exec tcpdump -i ${sIf} -n -U --immediate-mode -w ${pcap} tcp src port ${sport} 2>&1`], 'listening on', 10_000);
    const file = join(stateDir, 'decoy.frames');
    writeFrameFile(file, [seg(TcpFlag.SYN, 0, ''), decoy, seg(TcpFlag.ACK | TcpFlag.PSH, 1, attack)]);
    await lab.execOk(cns, [sender, '-i', cIf, '-f', file, '-c', '3', '-r', '1000', '-t', '10'], { timeoutMs: 20_000 });
    const alert = await until(async () => (await secuxflow('alerts', '--json')).stdout.split('\n')
      .find((l) => l.includes(`"src_port":${sport}`) && l.includes('"signature_id":1000001')), 5000, 250);
    const dumped = new Promise<void>((r) => dump.once('exit', () => r()));
    dump.kill('SIGINT');
    await Promise.race([dumped, new Promise((r) => setTimeout(r, 3000))]);
    expect(alert, 'basic_inspect read the decoy, not the attack').toBeTruthy();
    const s = (await requestDaemon(stateDir, 'status')) as DaemonStatus;
    expect(s.engine!.checksumsRefused).toBeGreaterThanOrEqual(1);

    const seen = [...openCapture(pcap).frames()].map((f) => decodePacket(f.data, f.linkType));
    expect(seen.some((p) => p.tcpFlags & TcpFlag.SYN), 'the capture at the server saw nothing').toBe(true);
    const tcpRight = (p: ReturnType<typeof decodePacket>): boolean =>
      finishChecksum(sumWords(p.data, p.l4Offset, ipLayerEnd(p), pseudoHeaderSumAt(p.data, srcAddrOffset(p), p.data, dstAddrOffset(p), 4, 6, ipLayerEnd(p) - p.l4Offset))) === 0;
    const decoys = seen.filter((p) => p.payloadLength > 0 && Buffer.from(p.data.subarray(p.payloadOffset, p.payloadOffset + p.payloadLength)).toString() === benign);
    for (const d of decoys) expect(tcpRight(d), 'the decoy reached the server with a repaired checksum').toBe(false);
  });

  // The client's veth hands the bridge port TCP segments of up to 64 KiB
  // (GSO), which skb mode shows XDP whole. No socket frame holds one: the
  // kernel used to drop them on the socket, unseen, and uploads stalled. They
  // now get the fail policy (open here: passed on, counted as punt fallback).
  it('a 4 MB upload through an inspected port completes: frames too long to punt get the fail policy', async () => {
    const upload = `
const http = require('http');
const s = http.createServer((req, res) => { let n = 0; req.on('data', (c) => (n += c.length)); req.on('end', () => res.end('got ' + n)); });
s.listen(${PORT + 1}, '${SERVER}', () => console.log('ready'));`;
    await lab.spawn(sns, [process.execPath, '-e', upload], 'ready');
    expect((await secuxflow('rule', 'add', '--action', 'inspect', '--proto', 'tcp', '--port', String(PORT + 1))).code).toBe(0);
    const body = join(stateDir, 'upload.bin');
    writeFileSync(body, randomBytes(4_000_000));
    const fallback = inMaps.stat(SfStat.PUNT_FALLBACK);
    const punts = inMaps.punts();
    const r = await lab.exec(cns, ['curl', '-s', '-m', '15', '--data-binary', `@${body}`, `http://${SERVER}:${PORT + 1}/`], { timeoutMs: 30_000 });
    expect(r.stdout, `curl exit ${r.code}`).toBe('got 4000000');
    expect(inMaps.stat(SfStat.PUNT_FALLBACK)).toBeGreaterThan(fallback);
    expect(inMaps.punts(), 'the upload\'s small segments are still inspected').toBeGreaterThan(punts);
    const s = (await requestDaemon(stateDir, 'status')) as DaemonStatus;
    expect(s.queues[0]!.sockets.find((k) => k.iface === inIf)!.rxDropped).toBe(0);
    expect(daemon.logs.map((l) => String(l.msg)).find((m) => m.includes(`${inIf} is in skb mode: GSO segments`))).toContain('cannot be punted; they get the fail mode (fail-open');
  }, 60_000);

  it('SIGTERM detaches both ports; the bridge forwards again on its own', async () => {
    daemon.child.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
    expect(await xdpOnLink(dns, inIf)).toBeNull();
    expect(await xdpOnLink(dns, outIf)).toBeNull();
    expect((await curl()).stdout).toBe('hello /');
  });
});
