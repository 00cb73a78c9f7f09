// Our reader and decoder against tshark on the demo capture written in every
// format: same frame count, lengths, timestamps, VLANs, addresses, ports and
// TCP fields, and agreement on which frame is malformed.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCapture } from '../../../host/capture/reader.js';
import { makeDemoCapture, writeSamples } from '../../../host/capture/samples.js';
import { PcapWriter, PcapngWriter } from '../../../host/capture/writer.js';
import { formatIp } from '../../../host/packet/addr.js';
import { toLinkType } from '../../../host/packet/build.js';
import { decodePacket } from '../../../host/packet/decode.js';
import { LinkType } from '../../../host/packet/types.js';
import { rawPcap } from './raw-pcap.js';
import { IN_CI, SKIP_TSHARK, TSHARK, tsharkFields } from './tshark.js';

const FIELDS = ['frame.number', 'frame.len', 'frame.cap_len', 'frame.time_epoch', 'ieee8021ad.id', 'vlan.id',
  'ip.src', 'ip.dst', 'ipv6.src', 'ipv6.dst', 'tcp.srcport', 'tcp.dstport', 'udp.srcport', 'udp.dstport',
  'tcp.flags', 'tcp.seq_raw', 'tcp.ack_raw', 'icmp.type', 'icmpv6.type', '_ws.malformed'];
// Compare per packet as the decoder sees it: no IP or TCP reassembly.
const NO_REASSEMBLY = ['-o', 'ip.defragment:FALSE', '-o', 'ipv6.defragment:FALSE', '-o', 'tcp.desegment_tcp_streams:FALSE'];

interface Row { [field: string]: string }

function tsharkRows(path: string): Row[] {
  return tsharkFields(path, FIELDS, NO_REASSEMBLY).map((cols) => Object.fromEntries(FIELDS.map((f, i) => [f, cols[i] ?? ''])));
}

function compare(path: string, expectedFrames: number): void {
  const rows = tsharkRows(path);
  const ours = [...openCapture(path).frames()];
  expect(ours.length).toBe(expectedFrames);
  expect(rows.length).toBe(ours.length);
  let malformedSeen = 0;
  ours.forEach((f, i) => {
    const t = rows[i]!;
    const where = `${path} frame ${i + 1}`;
    const p = decodePacket(f.data, f.linkType, f.tsSec, f.tsNsec, f.wireLen);
    expect(t['frame.len'], where).toBe(String(f.wireLen));
    expect(t['frame.cap_len'], where).toBe(String(f.data.length));
    const [sec, frac = ''] = t['frame.time_epoch']!.split('.');
    expect([Number(sec), Number(frac.padEnd(9, '0'))], where).toEqual([f.tsSec, f.tsNsec]);

    const tagged = t['ieee8021ad.id'] ? [t['ieee8021ad.id'], t['vlan.id']] : t['vlan.id'] ? [t['vlan.id']] : [];
    expect(p.vlans.map(String), where).toEqual(tagged);

    if (p.ipVersion === 4) expect([formatIp(p.src), formatIp(p.dst)], where).toEqual([t['ip.src'], t['ip.dst']]);
    else if (p.ipVersion === 6) expect([formatIp(p.src), formatIp(p.dst)], where).toEqual([t['ipv6.src'], t['ipv6.dst']]);
    else expect(t['ip.src'] + t['ipv6.src'], where).toBe('');

    const isMalformedForTshark = t['_ws.malformed'] !== '';
    expect(p.malformed !== null, `${where}: ours '${p.malformed}', tshark '${t['_ws.malformed']}'`).toBe(isMalformedForTshark);
    if (p.malformed !== null) { malformedSeen++; return; }

    if (p.proto === 6 && p.l4Offset >= 0) {
      expect([p.srcPort, p.dstPort].map(String), where).toEqual([t['tcp.srcport'], t['tcp.dstport']]);
      expect(p.tcpFlags, where).toBe(parseInt(t['tcp.flags']!, 16));
      expect([p.tcpSeq, p.tcpAck].map(String), where).toEqual([t['tcp.seq_raw'], t['tcp.ack_raw']]);
    } else if (p.proto === 17 && p.l4Offset >= 0) {
      expect([p.srcPort, p.dstPort].map(String), where).toEqual([t['udp.srcport'], t['udp.dstport']]);
    } else {
      // Non-first fragments and ICMP: tshark shows no ports either.
      expect(t['tcp.srcport'] + t['udp.srcport'], where).toBe('');
    }
    if (p.proto === 1 && p.icmpType >= 0) expect(String(p.icmpType), where).toBe(t['icmp.type']);
    if (p.proto === 58 && p.icmpType >= 0) expect(String(p.icmpType), where).toBe(t['icmpv6.type']);
  });
  // The demo's one broken frame is in every variant.
  expect(malformedSeen).toBe(1);
}

const T0 = 1_767_225_600;

describe.skipIf(SKIP_TSHARK)('tshark cross-check of the demo capture', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sf-tshark-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const demo = makeDemoCapture();

  it('tshark is present (required in CI)', () => {
    if (IN_CI) expect(TSHARK, 'CI=true needs tshark (apt-get install tshark)').not.toBeNull();
    expect(TSHARK).not.toBeNull();
  });

  it('demo.pcap and demo.pcapng as shipped', () => {
    const out = writeSamples(dir);
    expect(out.frames).toBe(demo.length);
    compare(out.pcap, demo.length);
    compare(out.pcapng, demo.length);
  });

  it.each([['microsecond', false], ['nanosecond', true]])('%s pcap records with a timestamp fraction of a second or more: the instant tshark gives them', (_what, nano) => {
    const limit = nano ? 1e9 : 1e6;
    // Good records first: wiretap takes a microsecond file whose first records look wrong for another pcap variant.
    // Fractions stay below 2^31 ns, where wiretap's signed nanoseconds wrap (it shows -1767225600.000001 for 0xffffffff us).
    const records = [0, 1, 2, 3, 4].map((i) => ({ sec: T0 + i, frac: 5 + i }));
    records.push({ sec: T0, frac: limit }, { sec: T0, frac: 1.5 * limit }, { sec: T0 + 9, frac: 2 * limit - 1 }, { sec: T0 + 9, frac: 7 });
    const path = join(dir, `odd-ts-${nano ? 'ns' : 'us'}.pcap`);
    writeFileSync(path, rawPcap(records, { nano }));
    const rows = tsharkFields(path, ['frame.time_epoch', '_ws.expert.message']);
    const cap = openCapture(path);
    const ours = [...cap.frames()];
    expect(rows.length).toBe(records.length);
    expect(ours.length).toBe(records.length);
    ours.forEach((f, i) => {
      // tshark prints seconds '.' the nanoseconds field as it is (%09d): 1767225600.1500000000 is 1.5 s past T0.
      const [sec, frac] = rows[i]![0]!.split('.');
      expect(BigInt(f.tsSec) * 1_000_000_000n + BigInt(f.tsNsec), `frame ${i + 1}`).toBe(BigInt(sec!) * 1_000_000_000n + BigInt(frac!));
      expect(f.tsNsec).toBeLessThan(1e9);
    });
    // tshark notes each one ("Fractional second ... is invalid") and reads on; we count them.
    const flagged = rows.filter((r) => /Fractional second/.test(r[1] ?? '')).length;
    expect(flagged).toBe(3);
    expect(cap.timestampsOutOfRange).toBe(flagged);
  });

  it('big-endian nanosecond pcap', () => {
    const path = join(dir, 'be-ns.pcap');
    const w = new PcapWriter({ path, bigEndian: true, nanosecond: true });
    demo.forEach((f, i) => w.write({ ...f, tsNsec: f.tsNsec + ((i * 7919) % 1000) }));
    w.close();
    compare(path, demo.length);
  });

  it('pcapng with an Ethernet and a Linux SLL2 interface, nanosecond resolution, and SPBs', () => {
    const path = join(dir, 'two-ifaces.pcapng');
    const w = new PcapngWriter({ path, interfaces: [
      { linkType: LinkType.ETHERNET },
      { linkType: LinkType.LINUX_SLL2, tsresol: 9 },
    ] });
    demo.forEach((f, i) => {
      if (i % 2 === 1) w.write({ data: toLinkType(f.data, LinkType.LINUX_SLL2), tsSec: f.tsSec, tsNsec: f.tsNsec + 1, iface: 1 });
      else w.write(f);
    });
    w.writeSimple(demo[0]!.data);
    w.writeSimple(demo[3]!.data);
    w.close();
    compare(path, demo.length + 2);
  });

  it('a 96-byte snaplen pcap: cut frames are not malformed for either side', () => {
    const path = join(dir, 'snap96.pcap');
    const w = new PcapWriter({ path, snaplen: 96 });
    for (const f of demo) w.write(f);
    w.close();
    compare(path, demo.length);
  });

  it('a pcap whose header snaplen (64) is below the frames it holds whole: both read every frame whole', () => {
    const path = join(dir, 'snaplen-below-frames.pcap');
    const w = new PcapWriter({ path });
    for (const f of demo) w.write(f);
    w.close();
    const bytes = readFileSync(path);
    bytes.writeUInt32LE(64, 16);
    writeFileSync(path, bytes);
    compare(path, demo.length);
  });

  it('BSD loopback link types: NULL (0) as macOS writes it and LOOP (108) as OpenBSD does', () => {
    for (const linkType of [LinkType.NULL, LinkType.LOOP]) {
      const path = join(dir, `loopback-${linkType}.pcap`);
      const w = new PcapWriter({ path, linkType });
      for (const f of demo) w.write({ data: toLinkType(f.data, linkType), tsSec: f.tsSec, tsNsec: f.tsNsec });
      w.close();
      compare(path, demo.length);
    }
  });

  it('raw IPv4/IPv6 link type (101) in a little-endian microsecond pcap', () => {
    const path = join(dir, 'raw.pcap');
    const w = new PcapWriter({ path, linkType: LinkType.RAW });
    for (const f of demo) w.write({ data: toLinkType(f.data, LinkType.RAW), tsSec: f.tsSec, tsNsec: f.tsNsec });
    w.close();
    compare(path, demo.length);
  });
});
