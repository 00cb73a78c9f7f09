// IP under an MPLS label stack or in a PPPoE session: the decoder opens both,
// behind VLAN tags too, and says the same thing as the XDP program about
// every stack it gives up on (test/kernel/differential.test.ts holds the two
// together). Here: the fields, where l3Offset points, the faults, and what
// the modules' meta record and the daemon's flow key make of such packets.
import { describe, expect, it } from 'vitest';
import { formatIp } from '../../../host/packet/addr.js';
import { buildPacket, fragmentIp, toLinkType, type PacketSpec } from '../../../host/packet/build.js';
import { decodePacket } from '../../../host/packet/decode.js';
import { LinkType, type DecodedPacket } from '../../../host/packet/types.js';
import { Defragmenter } from '../../../host/flow/defrag.js';
import { flowKeyOf } from '../../../host/daemon/writeback.js';
import { META } from '../../../host/wasm/abi.js';
import { BatchPacker, type BatchArea } from '../../../host/wasm/batch-packer.js';

const V4 = { src: '198.18.0.1', dst: '198.18.0.2' };
const V6 = { src: '2001:db8::1', dst: '2001:db8::2' };
const decode = (spec: PacketSpec): DecodedPacket => decodePacket(buildPacket(spec), LinkType.ETHERNET);
const summary = (p: DecodedPacket) => ({
  ipVersion: p.ipVersion, l3Offset: p.l3Offset, src: p.ipVersion ? formatIp(p.src) : '', dst: p.ipVersion ? formatIp(p.dst) : '',
  proto: p.proto, srcPort: p.srcPort, dstPort: p.dstPort, vlans: p.vlans, malformed: p.malformed,
});
const put16 = (f: Uint8Array, at: number, v: number): void => { f[at] = v >> 8; f[at + 1] = v & 0xff; };

describe('MPLS', () => {
  it('IPv4 and IPv6 under a label stack: fields from the inner packet, l3Offset after the bottom label', () => {
    const p = decode({ ...V4, proto: 'tcp', srcPort: 40000, dstPort: 80, payload: 'GET /', mplsLabels: [100, 200] });
    expect(summary(p)).toEqual({ ipVersion: 4, l3Offset: 14 + 8, ...V4, proto: 6, srcPort: 40000, dstPort: 80, vlans: [], malformed: null });
    expect(p.l4Offset).toBe(22 + 20);
    expect(new TextDecoder().decode(p.data.subarray(p.payloadOffset, p.payloadOffset + p.payloadLength))).toBe('GET /');
    const q = decode({ ...V6, proto: 'udp', srcPort: 5353, dstPort: 53, mplsLabels: [16] });
    expect(summary(q)).toEqual({ ipVersion: 6, l3Offset: 18, ...V6, proto: 17, srcPort: 5353, dstPort: 53, vlans: [], malformed: null });
  });

  it('behind VLAN tags, which keep their ids; the multicast ethertype 0x8848 reads the same', () => {
    const p = decode({ ...V4, proto: 'udp', dstPort: 123, vlans: [10, 20], mplsLabels: [3000, 4000, 5000] });
    expect(summary(p)).toMatchObject({ ipVersion: 4, l3Offset: 22 + 12, vlans: [10, 20], dstPort: 123, malformed: null });
    const f = buildPacket({ ...V6, proto: 'tcp', dstPort: 443, vlans: [7], mplsLabels: [1] });
    put16(f, 16, 0x8848);
    expect(summary(decodePacket(f, LinkType.ETHERNET))).toMatchObject({ ipVersion: 6, l3Offset: 22, vlans: [7], dstPort: 443, malformed: null });
  });

  it('8 labels are walked; a ninth is malformed and not IP, as the XDP program gives up on it', () => {
    const labels = [1, 2, 3, 4, 5, 6, 7, 8];
    expect(summary(decode({ ...V4, proto: 'tcp', mplsLabels: labels }))).toMatchObject({ ipVersion: 4, l3Offset: 14 + 32, malformed: null });
    const p = decode({ ...V4, proto: 'tcp', mplsLabels: [...labels, 9] });
    expect(summary(p)).toMatchObject({ ipVersion: 0, l3Offset: -1, proto: 0, malformed: 'mpls: more than 8 labels' });
  });

  it('a stack without its bottom label, or with nothing after it, is truncated; a snaplen cut is not malformed', () => {
    const f = buildPacket({ ...V4, proto: 'tcp', mplsLabels: [100] });
    f[16]! &= 0xfe; // no bottom-of-stack bit: the IP header is read as more labels
    expect(summary(decodePacket(f.slice(0, 14 + 4 + 8), LinkType.ETHERNET))).toMatchObject({ ipVersion: 0, malformed: 'mpls: label stack truncated' });
    const bottomOnly = buildPacket({ ...V4, proto: 'tcp', mplsLabels: [100] }).slice(0, 18);
    expect(decodePacket(bottomOnly, LinkType.ETHERNET).malformed).toBe('mpls: label stack truncated');
    expect(decodePacket(bottomOnly.slice(0, 16), LinkType.ETHERNET).malformed).toBe('mpls: label stack truncated');
    expect(decodePacket(bottomOnly, LinkType.ETHERNET, 0, 0, 100).malformed).toBeNull();
  });

  it('a payload that is not IP (control word, Ethernet over MPLS, PW-ACH) is not opened: no IP layer, not malformed', () => {
    const inner = buildPacket({ ...V4, proto: 'udp', dstPort: 53 });
    for (const cw of [[0, 0, 0, 0], [], [0x10, 0, 0, 0x21]]) {
      const f = new Uint8Array(14 + 4 + cw.length + inner.length);
      f.set(inner.subarray(0, 12));
      put16(f, 12, 0x8847);
      f.set([0x00, 0x06, 0x41, 0x40], 14); // label 100, bottom of stack, TTL 64
      f.set(cw, 18);
      f.set(inner, 18 + cw.length);
      expect(summary(decodePacket(f, LinkType.ETHERNET))).toMatchObject({ ipVersion: 0, l3Offset: -1, proto: 0, malformed: null });
    }
  });

  it('a GAL (label 13) at the bottom carries an associated channel, not IP, whatever follows; above the bottom it is a label like any other', () => {
    expect(summary(decode({ ...V4, proto: 'tcp', mplsLabels: [100, 13] }))).toMatchObject({ ipVersion: 0, l3Offset: -1, malformed: null });
    expect(summary(decode({ ...V6, proto: 'udp', mplsLabels: [13] }))).toMatchObject({ ipVersion: 0, malformed: null });
    expect(summary(decode({ ...V4, proto: 'tcp', mplsLabels: [13, 100] }))).toMatchObject({ ipVersion: 4, l3Offset: 22, malformed: null });
    expect(summary(decode({ ...V4, proto: 'tcp', mplsLabels: [0] }))).toMatchObject({ ipVersion: 4, l3Offset: 18, malformed: null });
  });

  it('an IP header under the stack is checked as any other', () => {
    const f = buildPacket({ ...V4, proto: 'tcp', mplsLabels: [100] });
    f[18] = 0x43; // IHL 3
    expect(summary(decodePacket(f, LinkType.ETHERNET))).toMatchObject({ ipVersion: 0, malformed: 'ipv4: header length 3 < 5' });
  });
});

describe('PPPoE session', () => {
  it('IPv4 (PPP 0x0021) and IPv6 (0x0057), behind a VLAN tag too; l3Offset after the PPP protocol', () => {
    const p = decode({ ...V4, proto: 'tcp', srcPort: 1234, dstPort: 22, pppoeSession: 0x1234 });
    expect(summary(p)).toEqual({ ipVersion: 4, l3Offset: 22, ...V4, proto: 6, srcPort: 1234, dstPort: 22, vlans: [], malformed: null });
    const q = decode({ ...V6, proto: 'icmp', vlans: [300], pppoeSession: 1 });
    expect(summary(q)).toMatchObject({ ipVersion: 6, l3Offset: 26, ...V6, proto: 58, vlans: [300], malformed: null });
    expect(q.icmpType).toBe(128);
  });

  it('the builder writes the PPPoE length over PPP protocol and IP packet, also in each fragment', () => {
    const f = buildPacket({ ...V4, proto: 'udp', payload: 'x'.repeat(50), pppoeSession: 9 });
    expect((f[18]! << 8) | f[19]!).toBe(f.length - 20);
    for (const g of fragmentIp(f, 16)) {
      expect((g[18]! << 8) | g[19]!).toBe(g.length - 20);
      expect(decodePacket(g, LinkType.ETHERNET)).toMatchObject({ l3Offset: 22, malformed: null });
    }
    expect(() => buildPacket({ ...V4, proto: 'udp', pppoeSession: 9, mplsLabels: [1] })).toThrow(/cannot be combined/);
  });

  it('other PPP protocols (LCP, IPCP, a compressed protocol field) and PPPoE discovery are not IP and not malformed', () => {
    for (const proto of [0xc021, 0x8021, 0x8057, 0x2145]) {
      const f = buildPacket({ ...V4, proto: 'tcp', pppoeSession: 1 });
      put16(f, 20, proto);
      expect(summary(decodePacket(f, LinkType.ETHERNET)), `PPP 0x${proto.toString(16)}`).toMatchObject({ ipVersion: 0, l3Offset: -1, malformed: null });
    }
    const d = buildPacket({ ...V4, proto: 'tcp', pppoeSession: 1 });
    put16(d, 12, 0x8863);
    expect(summary(decodePacket(d, LinkType.ETHERNET))).toMatchObject({ ipVersion: 0, malformed: null });
  });

  it('a version/type other than 0x11, a non-zero code or a header cut short is malformed and not IP', () => {
    const f = buildPacket({ ...V4, proto: 'tcp', pppoeSession: 1 });
    const a = f.slice(); a[14] = 0x12;
    expect(summary(decodePacket(a, LinkType.ETHERNET))).toMatchObject({ ipVersion: 0, malformed: 'pppoe: version/type 0x12 != 0x11' });
    const b = f.slice(); b[15] = 0x09;
    expect(summary(decodePacket(b, LinkType.ETHERNET))).toMatchObject({ ipVersion: 0, malformed: 'pppoe: session code 0x9 != 0' });
    for (let n = 14; n < 22; n++) expect(decodePacket(f.slice(0, n), LinkType.ETHERNET).malformed).toBe('pppoe: header truncated');
  });

  it('the PPPoE length field is not read: the IP header ends the layer', () => {
    for (const len of [0, 10, 0xffff]) {
      const f = buildPacket({ ...V4, proto: 'udp', dstPort: 53, payload: 'q', pppoeSession: 1 });
      put16(f, 18, len);
      expect(summary(decodePacket(f, LinkType.ETHERNET))).toMatchObject({ ipVersion: 4, dstPort: 53, malformed: null });
    }
  });
});

describe('encapsulated packets downstream of the decoder', () => {
  const specs: PacketSpec[] = [
    { ...V4, proto: 'tcp', srcPort: 40000, dstPort: 80, payload: 'abc', vlans: [5], mplsLabels: [100, 200] },
    { ...V6, proto: 'udp', srcPort: 5353, dstPort: 53, payload: 'abc', vlans: [5, 6], pppoeSession: 3 },
  ];

  it('the meta record\'s L3_OFF, L4_OFF and PAYLOAD_OFF point into the inner packet', () => {
    const pkts = specs.map(decode);
    const cap = 4;
    const buf = new ArrayBuffer(cap * META.SIZE + 4096);
    const a: BatchArea = { u8: new Uint8Array(buf), i32: new Int32Array(buf), metaAt: 0, dataAt: cap * META.SIZE, base: 0, capacity: cap, dataCapacity: 4096 };
    const n = new BatchPacker().pack(a, pkts.map((pkt, i) => ({ pkt, flowId: i + 1, direction: 0, flags: 0, stream: null, streamNew: 0 })), 0, pkts.length);
    expect(n).toBe(2);
    pkts.forEach((p, i) => {
      const r = new DataView(buf, i * META.SIZE, META.SIZE);
      const frame = a.u8.subarray(r.getUint32(META.PKT_PTR, true));
      const l3 = r.getUint16(META.L3_OFF, true);
      expect(l3).toBe(p.l3Offset);
      expect(frame[l3]! >> 4).toBe(p.ipVersion);
      expect(r.getUint16(META.L4_OFF, true)).toBe(p.l4Offset);
      expect(new TextDecoder().decode(frame.subarray(r.getUint16(META.PAYLOAD_OFF, true), r.getUint16(META.PAYLOAD_OFF, true) + 3))).toBe('abc');
      expect(r.getUint16(META.VLAN_ID, true)).toBe(5);
    });
  });

  it('the daemon\'s flow key is the inner 5-tuple with the VLAN ids: labels and PPPoE session are not part of it', () => {
    for (const spec of specs) {
      const plain = { ...spec, mplsLabels: undefined, pppoeSession: undefined };
      expect(flowKeyOf(decode(spec))).toEqual(flowKeyOf(decode(plain)));
      expect(flowKeyOf(decode(spec))).toMatchObject({ vlanOuter: 5, vlanInner: spec.vlans![1] ?? 0, sport: spec.srcPort, dport: spec.dstPort });
    }
    const other = decode({ ...specs[0]!, mplsLabels: [999] });
    expect(flowKeyOf(other)).toEqual(flowKeyOf(decode(specs[0]!)));
  });

  it('fragments under MPLS and PPPoE reassemble into a datagram decoded under the same header', () => {
    for (const spec of specs) {
      const whole = buildPacket({ ...spec, payload: 'p'.repeat(64) });
      const want = decodePacket(whole, LinkType.ETHERNET);
      const d = new Defragmenter();
      let out: DecodedPacket | null = null;
      for (const f of fragmentIp(whole, 24)) out = d.push(decodePacket(f, LinkType.ETHERNET)) ?? out;
      expect(out).not.toBeNull();
      expect(summary(out!)).toEqual(summary(want));
      expect(out!.payloadLength).toBe(64);
    }
  });

  it('toLinkType drops the label stack or PPPoE header with the link layer', () => {
    for (const spec of specs) {
      const raw = toLinkType(buildPacket(spec), LinkType.RAW);
      expect(summary(decodePacket(raw, LinkType.RAW))).toMatchObject({ l3Offset: 0, srcPort: spec.srcPort, dstPort: spec.dstPort, malformed: null });
    }
  });

  it('every cut of an encapsulated frame decodes without throwing, malformed only where a layer is incomplete', () => {
    for (const spec of specs) {
      const f = buildPacket(spec);
      for (let n = 0; n <= f.length; n++) {
        const p = decodePacket(f.subarray(0, n), LinkType.ETHERNET);
        if (n === f.length) expect(p.malformed).toBeNull();
        else expect(p.malformed, `cut at ${n}`).not.toBeNull();
        expect(decodePacket(f.subarray(0, n), LinkType.ETHERNET, 0, 0, f.length).malformed, `snaplen cut at ${n}`).toBeNull();
      }
    }
  });
});
