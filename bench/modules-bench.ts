// Inspector modules on their own protocol's traffic, and the suite together
// on the mixed capture: packets per second and Mbit/s through the whole
// offline pipeline (read, decode, flows, streams, module), in-thread.
// Run by scripts/bench.mjs as `node dist/bench-modules.js <out.json>`.
// To add a module: give it a traffic generator in TRAFFIC (and it joins the suite).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PcapWriter } from '../host/capture/writer.js';
import type { RawFrame } from '../host/capture/types.js';
import { runCapture } from '../host/engine/capture-run.js';
import { loadModules } from '../host/engine/setup.js';
import { buildPacket } from '../host/packet/build.js';
import { LinkType, TcpFlag } from '../host/packet/types.js';
import { tlsClientHello } from '../host/capture/samples.js';
import { makeMixedFrames } from './mixed-capture.js';
import { INSPECTOR_CONFIGS, INSPECTOR_TRAFFIC } from './inspector-traffic.js';

const T0 = 1_767_225_600;

class Frames {
  readonly list: RawFrame[] = [];
  private ns = 0;
  push(data: Uint8Array): void {
    this.ns += 20_000;
    this.list.push({ data, linkType: LinkType.ETHERNET, wireLen: data.length, tsSec: T0 + Math.floor(this.ns / 1e9), tsNsec: this.ns % 1e9, iface: 0 });
  }
}

const addr = (i: number, net: number) => `198.${18 + (net & 1)}.${(i >> 8) & 255}.${i & 255}`;

/** A TCP session: handshake, each [toServer, payload] in order, then FIN both ways. */
function tcpSession(f: Frames, i: number, port: number, exchange: [boolean, Uint8Array][]): void {
  const client = addr(i, 0);
  const server = addr(i % 64, 1);
  const cport = 20_000 + (i % 40_000);
  let cseq = 1000;
  let sseq = 5000;
  const c = (flags: number, payload?: Uint8Array) => f.push(buildPacket({ src: client, dst: server, proto: 'tcp', srcPort: cport, dstPort: port, seq: cseq, ack: sseq, tcpFlags: flags, ...(payload ? { payload } : {}) }));
  const s = (flags: number, payload?: Uint8Array) => f.push(buildPacket({ src: server, dst: client, proto: 'tcp', srcPort: port, dstPort: cport, seq: sseq, ack: cseq, tcpFlags: flags, ...(payload ? { payload } : {}) }));
  c(TcpFlag.SYN); cseq++;
  s(TcpFlag.SYN | TcpFlag.ACK); sseq++;
  c(TcpFlag.ACK);
  for (const [toServer, payload] of exchange) {
    if (toServer) { c(TcpFlag.ACK | TcpFlag.PSH, payload); cseq += payload.length; } else { s(TcpFlag.ACK | TcpFlag.PSH, payload); sseq += payload.length; }
  }
  c(TcpFlag.FIN | TcpFlag.ACK); cseq++;
  s(TcpFlag.FIN | TcpFlag.ACK); sseq++;
  c(TcpFlag.ACK);
}

function filler(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (seed * 31 + i * 7) & 0xff;
  return b;
}

function dnsName(name: string): number[] {
  return [...name.split('.').flatMap((l) => [l.length, ...new TextEncoder().encode(l)]), 0];
}

function dnsTraffic(packets: number): RawFrame[] {
  const f = new Frames();
  for (let i = 0; f.list.length < packets; i++) {
    const name = dnsName(`host${i % 997}.svc${i % 13}.example.com`);
    const q = Uint8Array.from([i >> 8 & 255, i & 255, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, ...name, 0, 1, 0, 1]);
    const r = Uint8Array.from([i >> 8 & 255, i & 255, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, ...name, 0, 1, 0, 1, 0xc0, 12, 0, 1, 0, 1, 0, 0, 1, 0, 0, 4, 198, 18, 7, i & 255]);
    const client = addr(i % 4096, 0);
    const port = 30_000 + (i % 30_000);
    f.push(buildPacket({ src: client, dst: '198.19.0.53', proto: 'udp', srcPort: port, dstPort: 53, payload: q }));
    f.push(buildPacket({ src: '198.19.0.53', dst: client, proto: 'udp', srcPort: 53, dstPort: port, payload: r }));
  }
  return f.list;
}

function serverHello(): Uint8Array {
  const body = [3, 3, ...filler(32, 9), 0, 0x13, 0x01, 0, 0, 6, 0, 0x2b, 0, 2, 3, 4];
  const hs = [2, 0, body.length >> 8, body.length & 255, ...body];
  return Uint8Array.from([22, 3, 3, hs.length >> 8, hs.length & 255, ...hs]);
}

function appData(n: number, seed: number): Uint8Array {
  return Uint8Array.from([23, 3, 3, n >> 8, n & 255, ...filler(n, seed)]);
}

function tlsTraffic(packets: number): RawFrame[] {
  const f = new Frames();
  const sh = serverHello();
  for (let i = 0; f.list.length < packets; i++) {
    tcpSession(f, i, 443, [
      [true, tlsClientHello(`site${i % 500}.example.com`)], [false, sh],
      [false, appData(1200, i)], [true, appData(300, i)], [false, appData(1400, i)], [false, appData(1400, i + 1)], [true, appData(100, i)],
    ]);
  }
  return f.list;
}

function sshTraffic(packets: number): RawFrame[] {
  const f = new Frames();
  const server = new TextEncoder().encode('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n');
  const client = new TextEncoder().encode('SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n');
  for (let i = 0; f.list.length < packets; i++) {
    tcpSession(f, i, 22, [[false, server], [true, client], [true, filler(1000, i)], [false, filler(1100, i)], [true, filler(600, i)], [false, filler(1300, i)], [false, filler(200, i)]]);
  }
  return f.list;
}

/** Ordinary HTTP/1.1: a GET or a form POST, and a response with a body; one attack in fifty. */
function httpTraffic(packets: number): RawFrame[] {
  const f = new Frames();
  const enc = new TextEncoder();
  const page = filler(1200, 3);
  for (let i = 0; f.list.length < packets; i++) {
    const attack = i % 50 === 0;
    const form = 'name=O%27Reilly&city=Paris&zip=75001&x=1';
    const req = i % 3 === 0
      ? `POST /account/update HTTP/1.1\r\nHost: shop${i % 7}.example\r\nUser-Agent: Mozilla/5.0\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${form.length}\r\n\r\n${form}`
      : `GET /search?q=${attack ? "1'+OR+'1'%3D'1" : `item+${i % 500}`}&page=${i % 9} HTTP/1.1\r\nHost: shop${i % 7}.example\r\nUser-Agent: Mozilla/5.0\r\nAccept: text/html\r\n\r\n`;
    const resp = Uint8Array.from([...enc.encode(`HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: ${page.length}\r\n\r\n`), ...page]);
    tcpSession(f, i, 80, [[true, enc.encode(req)], [false, resp]]);
  }
  return f.list;
}

/** Each module with the traffic of its own protocol. */
const TRAFFIC: Record<string, (packets: number) => RawFrame[]> = {
  http_waf: httpTraffic,
  dns_guard: dnsTraffic,
  tls_inspect: tlsTraffic,
  ssh_guard: sshTraffic,
  ...INSPECTOR_TRAFFIC,
};

function cpuNs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

async function measure(dir: string, label: string, frames: RawFrame[], modules: string[], rounds = 3): Promise<Record<string, number>> {
  const pcap = join(dir, `${label}.pcap`);
  const w = new PcapWriter({ path: pcap, nanosecond: true });
  let bytes = 0;
  for (const fr of frames) { w.write(fr); bytes += fr.wireLen; }
  w.close();
  const times: number[] = [];
  let alerts = 0;
  let events = 0;
  for (let r = 0; r < rounds; r++) {
    const configs = new Map(modules.filter((m) => INSPECTOR_CONFIGS[m] !== undefined).map((m) => [m, INSPECTOR_CONFIGS[m]!]));
    const loaded = await loadModules(modules, { unsafeInThread: true, configs });
    const t = cpuNs();
    const res = await runCapture({ pcap, rules: { defaultPolicy: 'inspect', rules: [] }, modules: loaded, onDecision: (d) => { for (const m of d.modules) events += m.events.length; } });
    times.push(cpuNs() - t);
    if (res.error) throw res.error;
    alerts = res.counters.alerts;
    for (const m of loaded) (m.instance as { close?: () => void }).close?.();
  }
  const best = Math.min(...times) / 1e9;
  return {
    packets: frames.length,
    packets_per_sec: Math.round(frames.length / best),
    mbit_per_sec: Math.round((bytes * 8) / best / 1e6 * 10) / 10,
    ns_per_packet: Math.round((best * 1e9) / frames.length),
    alerts,
    events_per_run: Math.round(events / rounds),
  };
}

export async function modulesBench(packets = 100_000): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'sf-modules-bench-'));
  try {
    const out: Record<string, unknown> = { timing: 'process CPU time (user+system), best of 3, whole offline pipeline in-thread' };
    for (const [name, make] of Object.entries(TRAFFIC)) out[name] = await measure(dir, name, make(packets), [name]);
    out.suite_on_mixed_capture = { modules: Object.keys(TRAFFIC).join(','), ...(await measure(dir, 'mixed', makeMixedFrames(packets), Object.keys(TRAFFIC))) };
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2]) {
  const out = await modulesBench(Number(process.env.SECUXFLOW_BENCH_PACKETS ?? 100_000));
  writeFileSync(process.argv[2], JSON.stringify(out, null, 2) + '\n');
  console.log(JSON.stringify(out, null, 2));
}
