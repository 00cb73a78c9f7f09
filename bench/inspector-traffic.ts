// Traffic and configs for benchmarking dlp, scan_flood, ratelimit and
// threat_intel, each on its own kind of traffic; modules-bench.ts folds them
// into its table and its suite run.
import type { RawFrame } from '../host/capture/types.js';
import { buildPacket } from '../host/packet/build.js';
import { LinkType, TcpFlag } from '../host/packet/types.js';
import { tlsClientHello } from '../host/capture/samples.js';

const T0 = 1_767_225_600;
const enc = (s: string) => new TextEncoder().encode(s);

class Frames {
  readonly list: RawFrame[] = [];
  private ns = 0;
  constructor(private readonly gapNs = 20_000) {}
  push(data: Uint8Array): void {
    this.ns += this.gapNs;
    this.list.push({ data, linkType: LinkType.ETHERNET, wireLen: data.length, tsSec: T0 + Math.floor(this.ns / 1e9), tsNsec: this.ns % 1e9, iface: 0 });
  }
}

const client = (i: number) => `198.18.${(i >> 8) & 255}.${i & 255}`;
const server = (i: number) => `198.19.0.${1 + (i % 32)}`;

function session(f: Frames, i: number, port: number, exchange: [boolean, Uint8Array][]): void {
  const c = client(i % 20_000);
  const s = server(i);
  const cport = 20_000 + (i % 40_000);
  let cseq = 1000;
  let sseq = 5000;
  const up = (flags: number, payload?: Uint8Array) => f.push(buildPacket({ src: c, dst: s, proto: 'tcp', srcPort: cport, dstPort: port, seq: cseq, ack: sseq, tcpFlags: flags, ...(payload ? { payload } : {}) }));
  const down = (flags: number, payload?: Uint8Array) => f.push(buildPacket({ src: s, dst: c, proto: 'tcp', srcPort: port, dstPort: cport, seq: sseq, ack: cseq, tcpFlags: flags, ...(payload ? { payload } : {}) }));
  up(TcpFlag.SYN); cseq++;
  down(TcpFlag.SYN | TcpFlag.ACK); sseq++;
  up(TcpFlag.ACK);
  for (const [toServer, p] of exchange) {
    if (toServer) { up(TcpFlag.ACK | TcpFlag.PSH, p); cseq += p.length; } else { down(TcpFlag.ACK | TcpFlag.PSH, p); sseq += p.length; }
  }
  up(TcpFlag.FIN | TcpFlag.ACK); cseq++;
  down(TcpFlag.FIN | TcpFlag.ACK); sseq++;
  up(TcpFlag.ACK);
}

function text(n: number, seed: number): string {
  const words = ['order', 'total', 'item', 'shipping', 'the', 'customer', 'address', 'phone', '555-0100', '2026-11-22', 'qty', '12', 'ok'];
  let s = '';
  for (let i = 0; s.length < n; i++) s += words[(seed * 7 + i * 3) % words.length] + (i % 9 === 8 ? '\n' : ' ');
  return s.slice(0, n);
}

/** HTTP form posts and JSON answers; one body in 20 carries a card number or a token. */
function dlpTraffic(packets: number): RawFrame[] {
  const f = new Frames();
  for (let i = 0; f.list.length < packets; i++) {
    const secret = i % 20 === 0 ? '&card=4111 1111 1111 1111' : i % 20 === 10 ? '&token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln' : '';
    const body = `note=${encodeURIComponent(text(600, i))}${secret}`;
    const req = enc(`POST /orders HTTP/1.1\r\nHost: shop.example\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    const resp = enc(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{"status":"ok","summary":"${text(1200, i + 1)}"}`);
    session(f, i, 80, [[true, req], [false, resp.subarray(0, 1400)], [false, resp.subarray(1400)]]);
  }
  return f.list.slice(0, packets);
}

/** Ordinary L4 mix (short TCP sessions, DNS-like UDP, pings) with a port scan and a ping flood in it. */
function scanTraffic(packets: number): RawFrame[] {
  const f = new Frames();
  for (let i = 0; f.list.length < packets; i++) {
    if (i % 50 === 0) {
      for (let p = 1; p <= 30; p++) f.push(buildPacket({ src: '198.18.250.1', dst: server(i), proto: 'tcp', srcPort: 40000, dstPort: p + (i % 1000), tcpFlags: TcpFlag.SYN }));
    } else if (i % 7 === 0) {
      f.push(buildPacket({ src: client(i), dst: server(i), proto: 'icmp', icmpType: 8, payload: enc('ping payload 0123456789') }));
    } else if (i % 3 === 0) {
      f.push(buildPacket({ src: client(i), dst: server(i), proto: 'udp', srcPort: 30000 + (i % 30000), dstPort: 53, payload: enc('query') }));
      f.push(buildPacket({ src: server(i), dst: client(i), proto: 'udp', srcPort: 53, dstPort: 30000 + (i % 30000), payload: new Uint8Array(120) }));
    } else {
      session(f, i, 443, [[true, new Uint8Array(300)], [false, new Uint8Array(1200)]]);
    }
  }
  return f.list.slice(0, packets);
}

/** Many short connections from many sources, a few of them bursting. */
function rateTraffic(packets: number): RawFrame[] {
  const f = new Frames();
  for (let i = 0; f.list.length < packets; i++) {
    const burst = i % 100 < 5;
    session(f, burst ? 7 : i, burst ? 22 : 80, [[true, enc('GET / HTTP/1.1\r\nHost: a\r\n\r\n')], [false, new Uint8Array(400)]]);
  }
  return f.list.slice(0, packets);
}

/** DNS queries, TLS hellos and HTTP requests; one name in 50 is listed. */
function intelTraffic(packets: number): RawFrame[] {
  const f = new Frames();
  for (let i = 0; f.list.length < packets; i++) {
    const name = i % 50 === 0 ? `x${i}.bad${i % 1000}.example` : `host${i % 997}.good${i % 13}.example`;
    const k = i % 3;
    if (k === 0) {
      const q = [0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, ...name.split('.').flatMap((l) => [l.length, ...enc(l)]), 0, 0, 1, 0, 1];
      f.push(buildPacket({ src: client(i), dst: '198.19.0.53', proto: 'udp', srcPort: 30000 + (i % 30000), dstPort: 53, payload: Uint8Array.from(q) }));
      f.push(buildPacket({ src: '198.19.0.53', dst: client(i), proto: 'udp', srcPort: 53, dstPort: 30000 + (i % 30000), payload: new Uint8Array(80) }));
    } else if (k === 1) {
      session(f, i, 443, [[true, tlsClientHello(name)], [false, new Uint8Array(1400)], [true, new Uint8Array(200)]]);
    } else {
      session(f, i, 80, [[true, enc(`GET /x HTTP/1.1\r\nHost: ${name}\r\nUser-Agent: bench\r\n\r\n`)], [false, new Uint8Array(1000)]]);
    }
  }
  return f.list.slice(0, packets);
}

function iocList(): string {
  const lines = ['# bench IOCs'];
  for (let i = 0; i < 1000; i++) lines.push(`bad${i}.example`);
  for (let i = 0; i < 9000; i++) lines.push(`203.0.${(i >> 8) & 255}.${i & 255}`);
  lines.push('198.51.100.0/24', '2001:db8:bad::/48');
  return lines.join('\n') + '\n';
}

export const INSPECTOR_TRAFFIC: Record<string, (packets: number) => RawFrame[]> = {
  dlp: dlpTraffic,
  scan_flood: scanTraffic,
  ratelimit: rateTraffic,
  threat_intel: intelTraffic,
};

export const INSPECTOR_CONFIGS: Record<string, string> = {
  ratelimit: JSON.stringify({ rules: [{ name: 'web', proto: 'tcp', ports: [80, 443], rate: 50, burst: 100 }, { name: 'ssh', proto: 'tcp', ports: [22], algorithm: 'sliding_window', limit: 10, window_ms: 60000 }] }),
  threat_intel: iocList(),
};
