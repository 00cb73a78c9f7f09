// The decoder against tshark on mutated frames: thousands of seeded frames,
// each a built packet (VLAN tags of every kind, IPv4 options, IPv6 extension
// headers, fragments, MPLS label stacks, PPPoE sessions) with a few header
// bytes changed or its tail cut. Where
// both call a frame well formed, they must agree on the VLAN ids, whether
// there is IP, the addresses and the TCP/UDP ports. The demo capture's
// cross-check (test/host/capture) only sees frames the project built
// correctly; this one walks the odd corners a hostile sender would use.
//
// Malformed verdicts are not compared: the decoder is stricter on purpose
// (docs/reassembly.md, and the header of host/packet/decode.ts), and tshark
// also calls a frame malformed when an application dissector fails.
// Behind a label stack or PPP, Wireshark opens payloads the decoder leaves
// closed on purpose (it guesses Ethernet over MPLS behind a first nibble
// other than 4 or 6; PPP header compression such as 0x0061 carries IP):
// where tshark's layer after mpls/ppp is not ip or ipv6 and the decoder
// found no IP, the frame is not compared. Neither is a frame tshark reads as
// MACsec (0x88e5, which a mutation can produce): the decoder leaves it
// closed, since its payload is for the host's macsec device, where
// secuxflow attaches to see the traffic inside.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PcapWriter } from '../../../host/capture/writer.js';
import { formatIp } from '../../../host/packet/addr.js';
import { buildPacket, fragmentIp, type PacketSpec } from '../../../host/packet/build.js';
import { decodePacket } from '../../../host/packet/decode.js';
import { LinkType, type DecodedPacket } from '../../../host/packet/types.js';
import { SKIP_TSHARK, tsharkFields } from '../capture/tshark.js';
import { xorshift32 } from '../../support/random.js';
import { tempDir } from '../../support/temp-dir.js';

const FRAMES = 12_000;
const FIELDS = ['ieee8021ad.id', 'vlan.id', 'ip.src', 'ip.dst', 'ipv6.src', 'ipv6.dst',
  'tcp.srcport', 'tcp.dstport', 'udp.srcport', 'udp.dstport', '_ws.malformed', 'frame.protocols'];
// Per packet, as the decoder sees it.
const NO_REASSEMBLY = ['-o', 'ip.defragment:FALSE', '-o', 'ipv6.defragment:FALSE', '-o', 'tcp.desegment_tcp_streams:FALSE'];

/** Rewrites the TPID of VLAN tag `i` (0 outermost) of a built frame. */
function withTpid(frame: Uint8Array, i: number, tpid: number): Uint8Array {
  frame[12 + 4 * i] = tpid >> 8;
  frame[13 + 4 * i] = tpid & 0xff;
  return frame;
}

function corpus(): Uint8Array[] {
  const v4 = { src: '198.18.0.1', dst: '198.18.0.2' };
  const v6 = { src: '2001:db8::1', dst: '2001:db8::2' };
  const specs: PacketSpec[] = [
    { ...v4, proto: 'tcp', dstPort: 80, payload: 'GET / HTTP/1.1\r\n\r\n' },
    { ...v4, proto: 'udp', dstPort: 123, payload: 'ntp', vlans: [10] },
    { ...v4, proto: 'icmp', vlans: [1, 2] },
    { ...v4, proto: 'tcp', ipv4Options: new Uint8Array(12).fill(1) },
    { ...v6, proto: 'tcp', dstPort: 443, payload: 'x'.repeat(40) },
    { ...v6, proto: 'udp', dstPort: 9999, ipv6ExtHeaders: [{ type: 0 }, { type: 43, length: 16 }, { type: 60 }] },
    { ...v6, proto: 'icmp', vlans: [7] },
    { ...v4, proto: 'tcp', dstPort: 80, payload: 'GET / HTTP/1.1\r\n\r\n', mplsLabels: [100, 200] },
    { ...v6, proto: 'udp', dstPort: 4500, payload: 'ike', vlans: [11], mplsLabels: [16] },
    { ...v4, proto: 'udp', dstPort: 5060, payload: 'sip', mplsLabels: [1, 2, 3, 4, 5, 6, 7, 8] },
    { ...v4, proto: 'tcp', dstPort: 25, payload: 'EHLO x\r\n', pppoeSession: 0x2a },
    { ...v6, proto: 'tcp', dstPort: 443, vlans: [12], pppoeSession: 1 },
  ];
  const out = specs.map(buildPacket);
  out.push(withTpid(buildPacket({ ...v4, proto: 'tcp', dstPort: 22, vlans: [30, 40] }), 0, 0x9100));
  out.push(withTpid(buildPacket({ ...v6, proto: 'udp', dstPort: 500, vlans: [50, 60] }), 1, 0x9100));
  out.push(withTpid(buildPacket({ ...v4, proto: 'udp', dstPort: 4789, vlans: [70] }), 0, 0x9100));
  out.push(...fragmentIp(buildPacket({ ...v4, proto: 'udp', dstPort: 7, payload: 'f'.repeat(60) }), 24));
  out.push(...fragmentIp(buildPacket({ ...v6, proto: 'tcp', ipv6ExtHeaders: [{ type: 0 }], payload: 'g'.repeat(60) }), 32));
  out.push(...fragmentIp(buildPacket({ ...v4, proto: 'udp', dstPort: 9, payload: 'h'.repeat(60), pppoeSession: 3 }), 24));
  return out;
}

/** Seeded frames: the corpus as built, then mutated copies (1-3 header bytes past the MACs, 1 in 8 also cut short). */
function mutatedFrames(seed: number): Uint8Array[] {
  const rand = xorshift32(seed);
  const base = corpus();
  const frames = base.map((f) => f.slice());
  while (frames.length < FRAMES) {
    const f = base[rand() % base.length]!.slice();
    for (let m = 1 + (rand() % 3); m > 0; m--) f[12 + (rand() % Math.min(80, f.length - 12))] = rand() & 0xff;
    frames.push((rand() & 7) === 0 ? f.slice(0, 14 + (rand() % (f.length - 14))) : f);
  }
  return frames;
}

type Row = Record<string, string>;

function tsharkRows(path: string): Row[] {
  return tsharkFields(path, FIELDS, NO_REASSEMBLY, true).map((cols) => Object.fromEntries(FIELDS.map((f, i) => [f, cols[i] ?? ''])));
}

const first = (v: string | undefined): string => (v ?? '').split(',')[0]!;

/** What tshark and the decoder disagree on for one frame both call well formed, or null. */
function disagreement(p: DecodedPacket, t: Row): string | null {
  // tshark files an 802.1ad outer tag under its own field, the others under vlan.id.
  const vlans = [...t['ieee8021ad.id']!.split(','), ...t['vlan.id']!.split(',')].filter((v) => v !== '');
  if (vlans.join() !== p.vlans.join()) return `VLAN ids: ours [${p.vlans}], tshark [${vlans}]`;
  const tsharkIp = t['ip.src'] ? 4 : t['ipv6.src'] ? 6 : 0;
  if (tsharkIp !== p.ipVersion) return `IP version: ours ${p.ipVersion}, tshark ${tsharkIp}`;
  if (p.ipVersion !== 0) {
    const [src, dst] = p.ipVersion === 4 ? [t['ip.src'], t['ip.dst']] : [t['ipv6.src'], t['ipv6.dst']];
    const ours = `${formatIp(p.src)} > ${formatIp(p.dst)}`;
    if (ours !== `${first(src)} > ${first(dst)}`) return `addresses: ours ${ours}, tshark ${first(src)} > ${first(dst)}`;
  }
  for (const [proto, name] of [[6, 'tcp'], [17, 'udp']] as const) {
    if (p.proto !== proto) continue;
    const theirs = t[`${name}.srcport`] ? `${first(t[`${name}.srcport`])} > ${first(t[`${name}.dstport`])}` : 'none';
    // A fragment that is not the first carries no ports for either; a first one may hold only part of the header.
    if (p.fragment !== null && p.l4Offset < 0) continue;
    const ours = p.l4Offset >= 0 ? `${p.srcPort} > ${p.dstPort}` : 'none';
    if (ours !== theirs) return `${name} ports: ours ${ours}, tshark ${theirs}`;
  }
  return null;
}

describe.skipIf(SKIP_TSHARK)('decoder against tshark on mutated frames', () => {
  it(`agrees on VLAN ids, IP, addresses and ports of ${FRAMES} seeded frames both call well formed, MPLS and PPPoE included`, () => {
    const seed = Number(process.env.SECUXFLOW_FUZZ_SEED ?? 0x7a5c0de) >>> 0;
    const frames = mutatedFrames(seed);
    const path = join(tempDir('tshark-mut'), 'mutated.pcap');
    const w = new PcapWriter({ path });
    frames.forEach((data, i) => w.write({ data, tsSec: 1_700_000_000 + i, tsNsec: 0 }));
    w.close();
    const rows = tsharkRows(path);
    expect(rows.length).toBe(frames.length);

    const problems: string[] = [];
    let compared = 0;
    let legacyQinq = 0;
    const inside = { mpls: 0, pppoe: 0 };
    frames.forEach((data, i) => {
      const p = decodePacket(data, LinkType.ETHERNET);
      const t = rows[i]!;
      if (p.malformed !== null || t['_ws.malformed'] !== '') return;
      const carried = /:(?:mpls|ppp):([a-z0-9]+)/.exec(t['frame.protocols']!);
      if (carried !== null && carried[1] !== 'ip' && carried[1] !== 'ipv6' && p.ipVersion === 0) return;
      if (p.ipVersion === 0 && /:macsec:/.test(`${t['frame.protocols']}:`)) return;
      compared++;
      if (((data[12]! << 8) | data[13]!) === 0x9100 && p.ipVersion !== 0) legacyQinq++;
      if (p.ipVersion !== 0 && /:mpls:ipv?6?:/.test(`${t['frame.protocols']}:`)) inside.mpls++;
      if (p.ipVersion !== 0 && /:pppoes:ppp:ipv?6?:/.test(`${t['frame.protocols']}:`)) inside.pppoe++;
      const d = disagreement(p, t);
      if (d !== null) problems.push(`frame ${i + 1} (seed ${seed}): ${d} [${t['frame.protocols']}] ${Buffer.from(data).toString('hex')}`);
    });
    expect(problems.slice(0, 8), `${problems.length} disagreements`).toEqual([]);
    // The comparison must have had material: most frames well formed, and IP seen behind a 0x9100 tag.
    expect(compared).toBeGreaterThan(FRAMES / 3);
    expect(legacyQinq).toBeGreaterThan(0);
    // ... and IP under MPLS and in PPPoE, as both read it.
    expect(inside.mpls).toBeGreaterThan(FRAMES / 40);
    expect(inside.pppoe).toBeGreaterThan(FRAMES / 40);
  });
});
