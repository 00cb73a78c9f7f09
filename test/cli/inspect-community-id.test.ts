// `inspect --pcap --eve`: every EVE record about a packet or a flow carries
// `community_id`, and it is the Community ID v1 (seed 0) that tshark's
// communityid dissector computes for that flow's packets, the value Suricata
// (community-id: true) and Zeek write. A SOC joins our records to theirs on it.
// The capture holds TCP over IPv4 and IPv6, UDP, ICMP and ICMPv6 echo both
// ways, a one-way ICMP message and a protocol without ports; the records
// include alerts, protocol events, drops, flow records and records a module
// gives when a flow ends.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tlsClientHello } from '../../host/capture/samples.js';
import { PcapWriter } from '../../host/capture/writer.js';
import { buildPacket, type PacketSpec } from '../../host/packet/build.js';
import { SKIP_TSHARK, tsharkFields } from '../host/capture/tshark.js';
import { cli, requireBuilt, tempDir } from './support.js';

const SYN = 0x02, ACK = 0x10, PSH = 0x08, FIN = 0x01;

function makeCapture(path: string): number {
  const w = new PcapWriter({ path });
  let t = 0;
  const emit = (spec: PacketSpec): void => {
    w.write({ data: buildPacket(spec), tsSec: 1_767_225_600 + Math.floor(t / 1000), tsNsec: (t % 1000) * 1_000_000 });
    t += 10;
  };
  /** A TCP connection: handshake, the client's request, the server's answer (unless null), FINs. */
  const tcp = (client: string, server: string, cport: number, sport: number, request: string | Uint8Array, answer: string | null): void => {
    let c = 1000, s = 5000;
    const up = { src: client, dst: server, proto: 'tcp' as const, srcPort: cport, dstPort: sport };
    const down = { src: server, dst: client, proto: 'tcp' as const, srcPort: sport, dstPort: cport };
    emit({ ...up, tcpFlags: SYN, seq: c++ });
    emit({ ...down, tcpFlags: SYN | ACK, seq: s++, ack: c });
    emit({ ...up, tcpFlags: ACK, seq: c, ack: s });
    emit({ ...up, tcpFlags: PSH | ACK, seq: c, ack: s, payload: request });
    c += typeof request === 'string' ? Buffer.byteLength(request) : request.length;
    if (answer !== null) {
      emit({ ...down, tcpFlags: PSH | ACK, seq: s, ack: c, payload: answer });
      s += Buffer.byteLength(answer);
      emit({ ...up, tcpFlags: FIN | ACK, seq: c++, ack: s });
      emit({ ...down, tcpFlags: FIN | ACK, seq: s++, ack: c });
      emit({ ...up, tcpFlags: ACK, seq: c, ack: s });
    }
  };
  const ok = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
  // An SQL injection: alerts and an http event per packet.
  tcp('198.18.0.1', '198.18.0.10', 41000, 80, "GET /search?q=1' OR '1'='1' -- HTTP/1.1\r\nHost: shop.example\r\n\r\n", ok);
  // The server's address is the smaller: the hash orders the endpoints the other way.
  tcp('198.18.0.200', '198.18.0.10', 41001, 8080, 'GET /index.html HTTP/1.1\r\nHost: a.example\r\n\r\n', ok);
  // IPv6, a request never answered: its http event comes when the flow ends.
  tcp('2001:db8::1', '2001:db8::10', 41002, 80, 'GET /unanswered HTTP/1.1\r\nHost: v6.example\r\n\r\n', null);
  tcp('198.18.0.6', '198.18.0.20', 41003, 443, tlsClientHello('secure.example.com'), null);
  // DNS over UDP, both ways.
  const dnsQuery = Uint8Array.from([0x1a, 0x01, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 4, 0x73, 0x68, 0x6f, 0x70, 7, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0, 0, 1, 0, 1]);
  const dnsAnswer = Uint8Array.from([...dnsQuery.subarray(0, 2), 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, ...dnsQuery.subarray(12),
    0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 198, 18, 0, 10]);
  emit({ src: '198.18.0.1', dst: '198.18.0.53', proto: 'udp', srcPort: 53001, dstPort: 53, payload: dnsQuery });
  emit({ src: '198.18.0.53', dst: '198.18.0.1', proto: 'udp', srcPort: 53, dstPort: 53001, payload: dnsAnswer });
  // ICMP and ICMPv6 echo, request and reply.
  emit({ src: '198.18.0.1', dst: '198.18.0.10', proto: 'icmp', icmpType: 8, payload: 'ping' });
  emit({ src: '198.18.0.10', dst: '198.18.0.1', proto: 'icmp', icmpType: 0, payload: 'ping' });
  emit({ src: '2001:db8::10', dst: '2001:db8::1', proto: 'icmp', icmpType: 128, payload: 'ping6' });
  emit({ src: '2001:db8::1', dst: '2001:db8::10', proto: 'icmp', icmpType: 129, payload: 'ping6' });
  // Dropped by the rules below: echo both ways, a one-way ICMP message from the bigger address, UDP.
  emit({ src: '198.18.0.77', dst: '198.18.0.1', proto: 'icmp', icmpType: 8, payload: 'ping' });
  emit({ src: '198.18.0.1', dst: '198.18.0.77', proto: 'icmp', icmpType: 0, payload: 'ping' });
  emit({ src: '198.18.0.254', dst: '198.18.0.1', proto: 'icmp', icmpType: 3, icmpCode: 1, payload: 'unreachable' });
  emit({ src: '198.18.0.254', dst: '198.18.0.1', proto: 'icmp', icmpType: 3, icmpCode: 1, payload: 'unreachable' });
  emit({ src: '2001:db8::99', dst: '2001:db8::1', proto: 'udp', srcPort: 9999, dstPort: 40000, payload: 'x' });
  emit({ src: '2001:db8::1', dst: '2001:db8::99', proto: 'udp', srcPort: 40000, dstPort: 9999, payload: 'y' });
  // GRE: no ports.
  emit({ src: '192.0.2.9', dst: '192.0.2.1', proto: 47, payload: Uint8Array.of(0, 0, 0x12, 0x34, 1, 2, 3, 4) });
  emit({ src: '192.0.2.1', dst: '192.0.2.9', proto: 47, payload: Uint8Array.of(0, 0, 0x12, 0x34, 5, 6, 7, 8) });
  w.close();
  return t / 10;
}

interface Rec {
  event_type: string;
  src_ip?: string;
  dest_ip?: string;
  src_port?: number;
  dest_port?: number;
  proto?: string;
  direction?: string;
  community_id?: string;
}

const PROTO_NUMBERS: Record<string, number> = { TCP: 6, UDP: 17, ICMP: 1, 'IPv6-ICMP': 58 };

/** A flow's key, whichever way round: protocol and the two endpoints (for ICMP the two hosts). */
function key(proto: number, a: string, ap: string, b: string, bp: string): string {
  const ports = proto === 6 || proto === 17;
  const [x, y] = [`${a}/${ports ? ap : ''}`, `${b}/${ports ? bp : ''}`].sort();
  return `${proto} ${x} ${y}`;
}

describe.skipIf(SKIP_TSHARK)('inspect --eve: community_id agrees with tshark', () => {
  beforeAll(() => requireBuilt());

  it('on every alert, protocol event, drop and flow record, for TCP, UDP, ICMP, ICMPv6 and GRE over IPv4 and IPv6', () => {
    const dir = tempDir('community-id');
    const pcap = join(dir, 'flows.pcap');
    const frames = makeCapture(pcap);
    const rules = join(dir, 'rules.yaml');
    writeFileSync(rules, [
      'default_policy: inspect',
      'rules:',
      '  - { id: 1, action: drop, proto: icmp, src: 198.18.0.77 }',
      '  - { id: 2, action: drop, proto: icmp, dst: 198.18.0.77 }',
      '  - { id: 3, action: drop, proto: icmp, src: 198.18.0.254 }',
      '  - { id: 4, action: drop, proto: udp, src: "2001:db8::99" }',
      '  - { id: 5, action: drop, proto: udp, dst: "2001:db8::99" }',
      '',
    ].join('\n'));
    const eve = join(dir, 'eve.json');
    const r = cli(['inspect', '--pcap', pcap, '--rules', rules, '--eve', eve, '--no-progress']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const records = readFileSync(eve, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Rec);

    // tshark's Community ID of every frame, by flow.
    const rows = tsharkFields(pcap, ['ip.src', 'ipv6.src', 'ip.dst', 'ipv6.dst', 'ip.proto', 'ipv6.nxt', 'tcp.srcport', 'udp.srcport', 'tcp.dstport', 'udp.dstport', 'communityid'],
      ['--enable-protocol', 'communityid']);
    expect(rows).toHaveLength(frames);
    const byFlow = new Map<string, Set<string>>();
    for (const [ip4s, ip6s, ip4d, ip6d, p4, p6, tsp, usp, tdp, udp, cid] of rows) {
      expect(cid, `tshark gave no community id for ${ip4s}${ip6s}`).toMatch(/^1:/);
      const k = key(Number(p4 || p6), ip4s || ip6s!, tsp || usp!, ip4d || ip6d!, tdp || udp!);
      byFlow.set(k, (byFlow.get(k) ?? new Set()).add(cid!));
    }
    // One id per flow, tshark says so too (an echo and its reply share theirs).
    expect([...byFlow.values()].every((ids) => ids.size === 1)).toBe(true);
    expect(byFlow.size).toBe(11);

    const described = records.filter((x) => x.event_type !== 'stats');
    const seen = new Set<string>();
    for (const x of described) {
      const proto = PROTO_NUMBERS[x.proto!] ?? Number(x.proto);
      const want = byFlow.get(key(proto, x.src_ip!, String(x.src_port ?? ''), x.dest_ip!, String(x.dest_port ?? '')));
      expect(want, `no tshark frames for ${JSON.stringify(x)}`).toBeDefined();
      expect(x.community_id, JSON.stringify(x)).toBe([...want!][0]);
      seen.add(`${x.event_type}${x.direction === undefined ? ' (flow)' : ''} ${x.proto}`);
    }
    // The kinds of record the capture was made to produce, all checked above.
    for (const kind of ['alert TCP', 'http TCP', 'http (flow) TCP', 'tls TCP', 'dns UDP', 'drop ICMP', 'drop UDP', 'flow (flow) TCP', 'flow (flow) UDP',
      'flow (flow) ICMP', 'flow (flow) IPv6-ICMP', 'flow (flow) 47']) {
      expect([...seen], kind).toContain(kind);
    }
    // A flow record for each of the 11 flows.
    expect(described.filter((x) => x.event_type === 'flow')).toHaveLength(11);
  });
});
