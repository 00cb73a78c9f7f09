// Every protocol the decoder knows, on frames built from a spec; fields are
// checked against the spec, and offsets against where the bytes really are.
import { describe, expect, it } from 'vitest';
import { buildPacket, fragmentIp, toLinkType, type PacketSpec } from '../../../host/packet/build.js';
import { decodePacket } from '../../../host/packet/decode.js';
import { LinkType, TcpFlag, addrLength, dstAddrOffset, srcAddrOffset } from '../../../host/packet/types.js';
import { SecuxflowError } from '../../../host/errors.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);
const bytesOf = (p: { data: Uint8Array }, off: number, len: number): Uint8Array => p.data.subarray(off, off + len);

function decodeSpec(spec: PacketSpec) {
  return decodePacket(buildPacket(spec), LinkType.ETHERNET, 11, 22);
}

describe('decodePacket on built frames', () => {
  it('IPv4 TCP with flags, seq/ack/window and payload', () => {
    const spec = { src: '198.18.0.1', dst: '198.18.1.2', proto: 'tcp', srcPort: 40001, dstPort: 8080,
      tcpFlags: TcpFlag.ACK | TcpFlag.PSH | TcpFlag.URG, seq: 0xfffffff0, ack: 0x80000001, window: 1234,
      payload: 'hello tcp', ttl: 17 } satisfies PacketSpec;
    const p = decodeSpec(spec);
    expect(p.malformed).toBeNull();
    expect(p.tsSec).toBe(11);
    expect(p.tsNsec).toBe(22);
    expect(p.ipVersion).toBe(4);
    expect(p.l3Offset).toBe(14);
    expect([...p.src]).toEqual([198, 18, 0, 1]);
    expect([...p.dst]).toEqual([198, 18, 1, 2]);
    expect(p.proto).toBe(6);
    expect(p.ttl).toBe(17);
    expect(p.l4Offset).toBe(34);
    expect([p.srcPort, p.dstPort]).toEqual([40001, 8080]);
    expect(p.tcpFlags).toBe(spec.tcpFlags);
    expect(p.tcpSeq).toBe(spec.seq);
    expect(p.tcpAck).toBe(spec.ack);
    expect(p.tcpWindow).toBe(1234);
    expect(p.icmpType).toBe(-1);
    expect(p.fragment).toBeNull();
    expect(p.vlans).toEqual([]);
    expect(text(bytesOf(p, p.payloadOffset, p.payloadLength))).toBe('hello tcp');
    expect(p.payloadOffset + p.payloadLength).toBe(p.data.length);
  });

  it('defaults TCP flags to SYN without payload and ACK|PSH with one', () => {
    expect(decodeSpec({ src: '198.18.0.1', dst: '198.18.0.2', proto: 'tcp' }).tcpFlags).toBe(TcpFlag.SYN);
    expect(decodeSpec({ src: '198.18.0.1', dst: '198.18.0.2', proto: 'tcp', payload: 'x' }).tcpFlags).toBe(TcpFlag.ACK | TcpFlag.PSH);
  });

  it('TCP data offset with options: payload starts after them', () => {
    const frame = buildPacket({ src: '198.18.0.1', dst: '198.18.0.2', proto: 'tcp', payload: 'ABCDEFGHIJKL' });
    // Rewrite as a 32-byte header: the first 12 payload bytes become options.
    frame[34 + 12] = 8 << 4;
    const p = decodePacket(frame, LinkType.ETHERNET);
    expect(p.malformed).toBeNull();
    expect(p.payloadOffset).toBe(34 + 32);
    expect(p.payloadLength).toBe(0);
  });

  it('IPv4 UDP', () => {
    const p = decodeSpec({ src: '198.18.0.5', dst: '198.18.0.53', proto: 'udp', srcPort: 5353, dstPort: 53, payload: 'dns?' });
    expect(p.malformed).toBeNull();
    expect(p.proto).toBe(17);
    expect([p.srcPort, p.dstPort]).toEqual([5353, 53]);
    expect(p.tcpFlags).toBe(0);
    expect(text(bytesOf(p, p.payloadOffset, p.payloadLength))).toBe('dns?');
  });

  it('UDP payload follows the UDP length, not Ethernet padding', () => {
    const frame = buildPacket({ src: '198.18.0.5', dst: '198.18.0.6', proto: 'udp', payload: 'ab' });
    const padded = new Uint8Array(60);
    padded.set(frame);
    const p = decodePacket(padded, LinkType.ETHERNET);
    expect(p.malformed).toBeNull();
    expect(p.payloadLength).toBe(2);
  });

  it('ICMP echo type and code', () => {
    const p = decodeSpec({ src: '198.18.0.1', dst: '198.18.0.2', proto: 'icmp', icmpType: 3, icmpCode: 13, payload: 'x' });
    expect(p.malformed).toBeNull();
    expect(p.proto).toBe(1);
    expect([p.icmpType, p.icmpCode]).toEqual([3, 13]);
    expect([p.srcPort, p.dstPort]).toEqual([0, 0]);
    expect(text(bytesOf(p, p.payloadOffset, p.payloadLength))).toBe('x');
  });

  it('ICMPv6 under IPv6', () => {
    const p = decodeSpec({ src: '2001:db8::1', dst: '2001:db8::2', proto: 'icmp', icmpType: 135, icmpCode: 0 });
    expect(p.malformed).toBeNull();
    expect(p.ipVersion).toBe(6);
    expect(p.proto).toBe(58);
    expect(p.icmpType).toBe(135);
    expect(p.l4Offset).toBe(54);
  });

  it('IPv6 TCP: addresses, hop limit, ports', () => {
    const p = decodeSpec({ src: '2001:db8::a', dst: '2001:db8:1::b', proto: 'tcp', srcPort: 1, dstPort: 65535, ttl: 3, payload: 'six' });
    expect(p.malformed).toBeNull();
    expect(p.ipVersion).toBe(6);
    expect(p.src[15]).toBe(0xa);
    expect([...p.dst.subarray(0, 6)]).toEqual([0x20, 0x01, 0x0d, 0xb8, 0, 1]);
    expect(p.ttl).toBe(3);
    expect([p.srcPort, p.dstPort]).toEqual([1, 65535]);
    expect(text(bytesOf(p, p.payloadOffset, p.payloadLength))).toBe('six');
  });

  it('IPv4 options move L4 by the option length', () => {
    const opts = Uint8Array.of(0x07, 0x07, 0x04, 0, 0, 0, 0, 0x01); // record route (7 bytes) + NOP
    const p = decodeSpec({ src: '198.18.0.1', dst: '198.18.0.2', proto: 'udp', srcPort: 7, dstPort: 9, ipv4Options: opts, payload: 'o' });
    expect(p.malformed).toBeNull();
    expect(p.l4Offset).toBe(14 + 20 + opts.length);
    expect([p.srcPort, p.dstPort]).toEqual([7, 9]);
    expect(text(bytesOf(p, p.payloadOffset, p.payloadLength))).toBe('o');
  });

  it.each([
    [[{ type: 0 }], 8],
    [[{ type: 43, length: 24 }], 24],
    [[{ type: 60, length: 16 }], 16],
    [[{ type: 0 }, { type: 43 }, { type: 60 }], 24],
  ] as const)('IPv6 extension headers %j are skipped to L4', (ext, extLen) => {
    const p = decodeSpec({ src: '2001:db8::1', dst: '2001:db8::2', proto: 'udp', srcPort: 1000, dstPort: 2000,
      ipv6ExtHeaders: ext.map((e) => ({ ...e })), payload: 'ext' });
    expect(p.malformed).toBeNull();
    expect(p.proto).toBe(17);
    expect(p.l4Offset).toBe(14 + 40 + extLen);
    expect([p.srcPort, p.dstPort]).toEqual([1000, 2000]);
  });

  it('IPv6 AH (51) is skipped by its 4-byte-unit length', () => {
    const base = buildPacket({ src: '2001:db8::1', dst: '2001:db8::2', proto: 'tcp', dstPort: 443, ipv6ExtHeaders: [{ type: 60, length: 16 }] });
    // Turn the 16-byte destination options header into AH: payload len 2 => (2+2)*4 = 16 bytes.
    base[14 + 6] = 51;
    base[14 + 40 + 1] = 2;
    const p = decodePacket(base, LinkType.ETHERNET);
    expect(p.malformed).toBeNull();
    expect(p.proto).toBe(6);
    expect(p.dstPort).toBe(443);
  });

  it('8 extension headers are fine; a ninth is malformed with proto 0', () => {
    const eight = Array.from({ length: 8 }, () => ({ type: 60 as const }));
    const ok = decodeSpec({ src: '2001:db8::1', dst: '2001:db8::2', proto: 'tcp', dstPort: 22, ipv6ExtHeaders: eight });
    expect(ok.malformed).toBeNull();
    expect(ok.dstPort).toBe(22);
    const nine = decodeSpec({ src: '2001:db8::1', dst: '2001:db8::2', proto: 'tcp', dstPort: 22, ipv6ExtHeaders: [...eight, { type: 60 }] });
    expect(nine.malformed).toBe('ipv6: more than 8 extension headers');
    expect(nine.proto).toBe(0);
    expect(nine.l4Offset).toBe(-1);
    expect(nine.dstPort).toBe(0);
    expect(nine.ipVersion).toBe(6);
  });

  it('802.1Q and QinQ tags, outermost first', () => {
    const one = buildPacket({ src: '198.18.0.1', dst: '198.18.0.2', proto: 'udp', vlans: [100] });
    expect((one[12]! << 8) | one[13]!).toBe(0x8100);
    const p1 = decodePacket(one, LinkType.ETHERNET);
    expect(p1.vlans).toEqual([100]);
    expect(p1.l3Offset).toBe(18);

    const two = buildPacket({ src: '2001:db8::1', dst: '2001:db8::2', proto: 'tcp', dstPort: 80, vlans: [4094, 7] });
    expect((two[12]! << 8) | two[13]!).toBe(0x88a8);
    expect((two[16]! << 8) | two[17]!).toBe(0x8100);
    const p2 = decodePacket(two, LinkType.ETHERNET);
    expect(p2.malformed).toBeNull();
    expect(p2.vlans).toEqual([4094, 7]);
    expect(p2.l3Offset).toBe(22);
    expect(p2.dstPort).toBe(80);
  });

  it('stacked 0x8100 tags count as QinQ; a third tag is malformed and invalid', () => {
    const two = buildPacket({ src: '198.18.0.1', dst: '198.18.0.2', proto: 'udp', vlans: [5, 6] });
    two[12] = 0x81; two[13] = 0x00;
    expect(decodePacket(two, LinkType.ETHERNET).vlans).toEqual([5, 6]);
    const three = buildPacket({ src: '198.18.0.1', dst: '198.18.0.2', proto: 'udp', vlans: [1, 2, 3] });
    const p = decodePacket(three, LinkType.ETHERNET);
    expect(p.malformed).toBe('vlan: more than 2 tags');
    expect(p.invalid).toContain('vlan: more than 2 tags');
    expect(p.ipVersion).toBe(0);
  });

  it('a pre-802.1ad QinQ tag (0x9100) is a VLAN tag, as Suricata and Wireshark read it, outer or inner', () => {
    const outer = buildPacket({ src: '198.18.0.1', dst: '198.18.0.2', proto: 'tcp', dstPort: 443, vlans: [30, 40] });
    outer[12] = 0x91; outer[13] = 0x00;
    const p = decodePacket(outer, LinkType.ETHERNET);
    expect(p.malformed).toBeNull();
    expect(p.vlans).toEqual([30, 40]);
    expect([p.ipVersion, p.proto, p.dstPort]).toEqual([4, 6, 443]);
    const inner = buildPacket({ src: '2001:db8::1', dst: '2001:db8::2', proto: 'udp', dstPort: 53, vlans: [1, 2] });
    inner[16] = 0x91; inner[17] = 0x00;
    const q = decodePacket(inner, LinkType.ETHERNET);
    expect(q.vlans).toEqual([1, 2]);
    expect([q.ipVersion, q.dstPort]).toEqual([6, 53]);
  });

  it('non-IP ethertypes are not malformed', () => {
    const arp = new Uint8Array(42);
    arp[12] = 0x08; arp[13] = 0x06;
    const p = decodePacket(arp, LinkType.ETHERNET);
    expect(p.malformed).toBeNull();
    expect(p.ipVersion).toBe(0);
    expect(p.l3Offset).toBe(-1);
    expect(p.src.length).toBe(0);
  });

  it.each([LinkType.RAW, LinkType.LINUX_SLL, LinkType.LINUX_SLL2, LinkType.NULL, LinkType.LOOP])('IPv4 and IPv6 under link type %i', (lt) => {
    for (const [src, dst] of [['198.18.0.1', '198.18.0.2'], ['2001:db8::1', '2001:db8::2']] as const) {
      const eth = buildPacket({ src, dst, proto: 'tcp', srcPort: 1111, dstPort: 2222, payload: 'link' });
      const framed = toLinkType(eth, lt);
      const p = decodePacket(framed, lt);
      expect(p.malformed).toBeNull();
      expect(p.ipVersion).toBe(src.includes(':') ? 6 : 4);
      expect(p.l3Offset).toBe({ [LinkType.RAW]: 0, [LinkType.LINUX_SLL]: 16, [LinkType.LINUX_SLL2]: 20, [LinkType.NULL]: 4, [LinkType.LOOP]: 4 }[lt]);
      expect([p.srcPort, p.dstPort]).toEqual([1111, 2222]);
      expect(text(bytesOf(p, p.payloadOffset, p.payloadLength))).toBe('link');
    }
  });

  it('IPV4 and IPV6 link types, and the mismatch is refused when converting', () => {
    const v4 = buildPacket({ src: '198.18.0.1', dst: '198.18.0.2', proto: 'udp', dstPort: 9 });
    const v6 = buildPacket({ src: '2001:db8::1', dst: '2001:db8::2', proto: 'udp', dstPort: 9 });
    expect(decodePacket(toLinkType(v4, LinkType.IPV4), LinkType.IPV4).dstPort).toBe(9);
    expect(decodePacket(toLinkType(v6, LinkType.IPV6), LinkType.IPV6).dstPort).toBe(9);
    expect(() => toLinkType(v4, LinkType.IPV6)).toThrow(SecuxflowError);
    // An IPv6 frame read as IPV4 is a version fault, not a crash.
    expect(decodePacket(toLinkType(v6, LinkType.IPV6), LinkType.IPV4).malformed).toBe('ipv4: version 6');
  });

  it('BSD loopback: the family in either byte order under NULL, every IPv6 numbering, other families carry no IP layer', () => {
    const ip = (src: string, dst: string) => toLinkType(buildPacket({ src, dst, proto: 'udp', srcPort: 5, dstPort: 53 }), LinkType.RAW);
    const framed = (family: Uint8Array, body: Uint8Array) => Uint8Array.from([...family, ...body]);
    const v4 = ip('198.18.0.1', '198.18.0.2');
    const v6 = ip('2001:db8::1', '2001:db8::2');
    // NULL written on a big-endian host, and each BSD's AF_INET6 in both byte orders.
    expect(decodePacket(framed(Uint8Array.of(0, 0, 0, 2), v4), LinkType.NULL)).toMatchObject({ ipVersion: 4, l3Offset: 4, dstPort: 53 });
    for (const af of [10, 24, 28, 30]) {
      expect(decodePacket(framed(Uint8Array.of(af, 0, 0, 0), v6), LinkType.NULL)).toMatchObject({ ipVersion: 6, dstPort: 53, malformed: null });
      expect(decodePacket(framed(Uint8Array.of(0, 0, 0, af), v6), LinkType.NULL)).toMatchObject({ ipVersion: 6, dstPort: 53, malformed: null });
    }
    // LOOP is network order only: a little-endian family is some other family.
    expect(decodePacket(framed(Uint8Array.of(2, 0, 0, 0), v4), LinkType.LOOP)).toMatchObject({ ipVersion: 0, malformed: null });
    // AF_APPLETALK (16): a frame without an IP layer, not a fault.
    expect(decodePacket(framed(Uint8Array.of(16, 0, 0, 0), v4), LinkType.NULL)).toMatchObject({ ipVersion: 0, malformed: null });
    expect(decodePacket(Uint8Array.of(2, 0, 0), LinkType.NULL).malformed).toBe('null: frame 3 < 4 bytes');
    expect(decodePacket(Uint8Array.of(0, 0, 2), LinkType.LOOP).malformed).toBe('loop: frame 3 < 4 bytes');
  });

  it('RAW with an unknown version nibble and unknown link types are malformed', () => {
    expect(decodePacket(Uint8Array.of(0x50, 0, 0, 0), LinkType.RAW).malformed).toBe('raw: IP version 5');
    expect(decodePacket(new Uint8Array(60), 147 as LinkType).malformed).toBe('link: unsupported link type 147');
  });

  it('IPv4 fragments: the first carries ports, later ones only fragment info', () => {
    const payload = 'z'.repeat(100);
    const whole = buildPacket({ src: '198.18.0.1', dst: '198.18.0.2', proto: 'udp', srcPort: 33, dstPort: 44, ipId: 0x1234, payload });
    const frags = fragmentIp(whole, 48);
    expect(frags.length).toBe(3); // 108 bytes of UDP: 48 + 48 + 12
    const ps = frags.map((f) => decodePacket(f, LinkType.ETHERNET));
    for (const p of ps) {
      expect(p.malformed).toBeNull();
      expect(p.proto).toBe(17);
      expect(p.fragment?.id).toBe(0x1234);
      expect(p.fragment?.nextHeader).toBe(17);
      expect(p.fragment?.dataOffset).toBe(34);
    }
    expect(ps.map((p) => p.fragment?.offset)).toEqual([0, 48, 96]);
    expect(ps.map((p) => p.fragment?.moreFragments)).toEqual([true, true, false]);
    expect([ps[0]!.srcPort, ps[0]!.dstPort]).toEqual([33, 44]);
    expect(ps[0]!.payloadLength).toBe(40);
    for (const p of ps.slice(1)) {
      expect(p.l4Offset).toBe(-1);
      expect([p.srcPort, p.dstPort]).toEqual([0, 0]);
      expect(p.payloadOffset).toBe(-1);
    }
    // The fragments together carry exactly the original UDP bytes.
    const joined = Buffer.concat(ps.map((p) => Buffer.from(p.data.subarray(p.fragment!.dataOffset))));
    expect(Buffer.compare(joined, Buffer.from(whole.subarray(34)))).toBe(0);
  });

  it('ICMP in a non-first fragment has no type', () => {
    const whole = buildPacket({ src: '198.18.0.1', dst: '198.18.0.2', proto: 'icmp', payload: 'p'.repeat(40) });
    const [first, second] = fragmentIp(whole, 16).map((f) => decodePacket(f, LinkType.ETHERNET));
    expect(first!.icmpType).toBe(8);
    expect(second!.icmpType).toBe(-1);
    expect(second!.l4Offset).toBe(-1);
  });

  it('a first fragment too short for the TCP header is not malformed, and has no L4', () => {
    const whole = buildPacket({ src: '198.18.0.1', dst: '198.18.0.2', proto: 'tcp', dstPort: 80, payload: 'q'.repeat(30) });
    const [first] = fragmentIp(whole, 8).map((f) => decodePacket(f, LinkType.ETHERNET));
    expect(first!.malformed).toBeNull();
    expect(first!.fragment?.moreFragments).toBe(true);
    expect(first!.l4Offset).toBe(-1);
    expect(first!.dstPort).toBe(0);
  });

  it('IPv6 fragments keep hop-by-hop before the fragment header', () => {
    const whole = buildPacket({ src: '2001:db8::1', dst: '2001:db8::2', proto: 'udp', srcPort: 5, dstPort: 6,
      ipv6ExtHeaders: [{ type: 0 }], payload: 'y'.repeat(100) });
    const frags = fragmentIp(whole, 64, 0xabcdef01);
    expect(frags.length).toBe(2);
    const [a, b] = frags.map((f) => decodePacket(f, LinkType.ETHERNET));
    expect(a!.malformed).toBeNull();
    expect(a!.fragment).toEqual({ id: 0xabcdef01, offset: 0, moreFragments: true, dataOffset: 14 + 40 + 8 + 8, nextHeader: 17 });
    expect(a!.proto).toBe(17);
    expect([a!.srcPort, a!.dstPort]).toEqual([5, 6]);
    expect(b!.fragment?.offset).toBe(64);
    expect(b!.fragment?.moreFragments).toBe(false);
    expect(b!.proto).toBe(17);
    expect(b!.l4Offset).toBe(-1);
  });

  it('other protocols carry no L4 fields', () => {
    // ESP: GRE, once a protocol of this kind, is a tunnel the decoder opens (decode-tunnels.test.ts).
    const p = decodeSpec({ src: '198.18.0.1', dst: '198.18.0.2', proto: 50, payload: 'esp' });
    expect(p.malformed).toBeNull();
    expect(p.proto).toBe(50);
    expect(p.l4Offset).toBe(-1);
    expect(p.payloadOffset).toBe(-1);
  });

  it('wireLen defaults to the data length and can be given', () => {
    const f = buildPacket({ src: '198.18.0.1', dst: '198.18.0.2', proto: 'udp' });
    expect(decodePacket(f, LinkType.ETHERNET).wireLen).toBe(f.length);
    expect(decodePacket(f, LinkType.ETHERNET, 0, 0, 1500).wireLen).toBe(1500);
  });
});

describe('address offsets', () => {
  it('srcAddrOffset/dstAddrOffset/addrLength point at the bytes src and dst show, under VLAN tags and link types', () => {
    const cases: [PacketSpec, LinkType][] = [
      [{ src: '198.18.0.1', dst: '198.18.1.2', proto: 'udp', srcPort: 1, dstPort: 2 }, LinkType.ETHERNET],
      [{ src: '198.18.0.1', dst: '198.18.1.2', proto: 'tcp', vlans: [7, 9] }, LinkType.ETHERNET],
      [{ src: '2001:db8::1', dst: '2001:db8:1::2', proto: 'udp', srcPort: 1, dstPort: 2 }, LinkType.LINUX_SLL2],
      [{ src: '2001:db8::1', dst: '2001:db8:1::2', proto: 'icmp', vlans: [5] }, LinkType.ETHERNET],
    ];
    for (const [spec, link] of cases) {
      const p = decodePacket(toLinkType(buildPacket(spec), link), link);
      const len = addrLength(p);
      expect(len).toBe(spec.src.includes(':') ? 16 : 4);
      expect([...p.data.subarray(srcAddrOffset(p), srcAddrOffset(p) + len)]).toEqual([...p.src]);
      expect([...p.data.subarray(dstAddrOffset(p), dstAddrOffset(p) + len)]).toEqual([...p.dst]);
      expect(p.src).not.toBe(p.dst);
      expect(p.src.length).toBe(len);
    }
  });

  it('a frame without an IP layer has no address offsets and empty src/dst', () => {
    const arp = new Uint8Array(42);
    arp[12] = 0x08; arp[13] = 0x06;
    const p = decodePacket(arp, LinkType.ETHERNET);
    expect([srcAddrOffset(p), dstAddrOffset(p), addrLength(p)]).toEqual([-1, -1, 0]);
    expect(p.src.length + p.dst.length).toBe(0);
  });
});

describe('buildPacket input errors', () => {
  it.each([
    [{ src: '198.18.0.1', dst: '2001:db8::1', proto: 'tcp' }, 'dst'],
    [{ src: '198.18.0.300', dst: '198.18.0.1', proto: 'tcp' }, '198.18.0.300'],
    [{ src: '198.18.0.1', dst: '198.18.0.2', proto: 'tcp', dstPort: 70000 }, 'dstPort'],
    [{ src: '198.18.0.1', dst: '198.18.0.2', proto: 'sctp' }, 'proto'],
    [{ src: '198.18.0.1', dst: '198.18.0.2', proto: 'udp', vlans: [4096] }, 'vlans[0]'],
    [{ src: '198.18.0.1', dst: '198.18.0.2', proto: 'udp', ipv4Options: new Uint8Array(3) }, 'ipv4Options'],
    [{ src: '2001:db8::1', dst: '2001:db8::2', proto: 'udp', ipv6ExtHeaders: [{ type: 0, length: 12 }] }, 'ipv6ExtHeaders[0].length'],
    [{ src: '198.18.0.1', dst: '198.18.0.2', proto: 'udp', srcMac: 'zz' }, 'srcMac'],
  ] as [PacketSpec, string][])('%j -> E_USAGE naming %s', (spec, field) => {
    let err: unknown;
    try { buildPacket(spec); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(SecuxflowError);
    expect((err as SecuxflowError).code).toBe('E_USAGE');
    expect((err as SecuxflowError).message).toContain(field);
  });

  it('fragmentIp refuses sizes that are not multiples of 8', () => {
    const f = buildPacket({ src: '198.18.0.1', dst: '198.18.0.2', proto: 'udp', payload: enc('x'.repeat(50)) });
    expect(() => fragmentIp(f, 12)).toThrow(/multiple of 8/);
  });
});
