// Tunnel decapsulation: IP in IP (4in4, 6in4, 4in6, 6in6), GRE (IP and
// transparent Ethernet), VXLAN and Geneve. The decoded packet is the
// innermost one and lists its tunnels; a refused tunnel header leaves the
// carrier as it was with the fault recorded; more than 3 layers is invalid.
import { describe, expect, it } from 'vitest';
import { formatIp } from '../../../host/packet/addr.js';
import { decodePacket } from '../../../host/packet/decode.js';
import { LinkType, type DecodedPacket } from '../../../host/packet/types.js';
import type { PacketSpec } from '../../../host/packet/build.js';
import {
  ETH_IPV4, ETH_TEB, afterEthernet, concat, geneve, geneveHeader, greHeader, greIp, gretap, innerFrame, innerIp, ipCarrier, ipip, udpCarrier, vxlan, vxlanHeader,
} from './tunnel-frames.js';

const O4 = { src: '192.0.2.1', dst: '192.0.2.2' };
const O6 = { src: '2001:db8:ffff::1', dst: '2001:db8:ffff::2' };
const HTTP: PacketSpec = { src: '10.0.0.1', dst: '10.0.0.2', proto: 'tcp', srcPort: 40000, dstPort: 80, payload: 'GET /?q=1 HTTP/1.1\r\n\r\n' };
const HTTP6: PacketSpec = { ...HTTP, src: 'fd00::1', dst: 'fd00::2' };
const dec = (f: Uint8Array): DecodedPacket => decodePacket(f, LinkType.ETHERNET);
const text = (p: DecodedPacket): string => new TextDecoder().decode(p.data.subarray(p.payloadOffset, p.payloadOffset + p.payloadLength));
const inner = (p: DecodedPacket) => ({
  src: p.ipVersion ? formatIp(p.src) : '', dst: p.ipVersion ? formatIp(p.dst) : '', proto: p.proto, srcPort: p.srcPort, dstPort: p.dstPort, malformed: p.malformed,
});
const layers = (p: DecodedPacket) => p.tunnels.map((t) => ({ type: t.type, depth: t.depth, outerProto: t.outerProto, id: t.id }));

describe('IP in IP', () => {
  it('4in4 (protocol 4): the inner TCP packet with its payload, one ipip layer', () => {
    const f = ipip(O4, HTTP);
    const p = dec(f);
    expect(inner(p)).toEqual({ src: '10.0.0.1', dst: '10.0.0.2', proto: 6, srcPort: 40000, dstPort: 80, malformed: null });
    expect(p.l3Offset).toBe(14 + 20);
    expect(p.l4Offset).toBe(14 + 20 + 20);
    expect(text(p)).toBe('GET /?q=1 HTTP/1.1\r\n\r\n');
    expect(layers(p)).toEqual([{ type: 'ipip', depth: 1, outerProto: 4, id: -1 }]);
    expect(p.tunnels[0]!.outerL3Offset).toBe(14);
    expect(p.tunnelHash).not.toBe(0);
  });

  it('6in4 (SIT, protocol 41), 4in6 and 6in6', () => {
    expect(inner(dec(ipip(O4, HTTP6)))).toMatchObject({ src: 'fd00::1', dst: 'fd00::2', dstPort: 80, malformed: null });
    expect(dec(ipip(O4, HTTP6)).tunnels[0]!.outerProto).toBe(41);
    const p = dec(ipip(O6, HTTP));
    expect(inner(p)).toMatchObject({ src: '10.0.0.1', dstPort: 80, malformed: null });
    expect(p.l3Offset).toBe(14 + 40);
    expect(p.tunnels[0]!.outerVersion).toBe(6);
    expect(inner(dec(ipip(O6, HTTP6)))).toMatchObject({ src: 'fd00::1', dstPort: 80, malformed: null });
  });

  it('an inner header that is not IPv4 stays the outer packet, with the inner fault recorded', () => {
    const f = ipip(O4, HTTP);
    f[14 + 20] = 0x65; // inner version 6 under protocol 4
    const p = dec(f);
    expect(inner(p)).toMatchObject({ src: '192.0.2.1', dst: '192.0.2.2', proto: 4 });
    expect(p.tunnels).toEqual([]);
    expect(p.anomaly).toBe('ipv4.wrong_ip_version');
    expect(p.malformed).toMatch(/^ipip: inner ipv4: version 6/);
  });

  it('an outer fragment is not opened: the inner packet is incomplete until reassembly', () => {
    const f = ipip({ ...O4, fragField: 0x2000 }, HTTP);
    const p = dec(f);
    expect(p.proto).toBe(4);
    expect(p.fragment).not.toBeNull();
    expect(p.tunnels).toEqual([]);
  });
});

describe('GRE', () => {
  it('IPv4 and IPv6 payloads (0x0800, 0x86DD); key, sequence and checksum fields are skipped, the key kept', () => {
    const p = dec(greIp(O4, HTTP));
    expect(inner(p)).toMatchObject({ src: '10.0.0.1', dstPort: 80, malformed: null });
    expect(p.l3Offset).toBe(14 + 20 + 4);
    expect(layers(p)).toEqual([{ type: 'gre', depth: 1, outerProto: 47, id: -1 }]);
    const q = dec(greIp(O6, HTTP6, { checksum: true, key: 0xdeadbeef, seq: 7 }));
    expect(inner(q)).toMatchObject({ src: 'fd00::1', dstPort: 80, malformed: null });
    expect(q.l3Offset).toBe(14 + 40 + 16);
    expect(q.tunnels[0]!.id).toBe(0xdeadbeef);
    expect(text(q)).toBe('GET /?q=1 HTTP/1.1\r\n\r\n');
  });

  it('GRETAP / NVGRE (0x6558): an inner Ethernet frame with its VLAN tags', () => {
    const p = dec(gretap(O4, { ...HTTP, vlans: [42] }, { key: 0x123456 << 8 }));
    expect(inner(p)).toMatchObject({ src: '10.0.0.1', dstPort: 80, malformed: null });
    expect(p.l3Offset).toBe(14 + 20 + 8 + 14 + 4);
    expect(p.tunnels[0]!.innerVlans).toEqual([42]);
    expect(p.vlans).toEqual([]);
  });

  it('another protocol (PPP, MPLS) and version 1 (PPTP) stay the outer packet without a fault', () => {
    const ppp = dec(ipCarrier(O4, 47, concat(greHeader({ protocol: 0x880b }), innerIp(HTTP))));
    expect(ppp).toMatchObject({ proto: 47, malformed: null, tunnels: [] });
    const v1 = greHeader({ protocol: ETH_IPV4, flags: 0x0001 });
    expect(dec(ipCarrier(O4, 47, concat(v1, innerIp(HTTP))))).toMatchObject({ proto: 47, malformed: null, tunnels: [] });
  });

  it('a truncated header, optional fields cut, or the routing bit: the outer packet, malformed', () => {
    const cut = dec(ipCarrier(O4, 47, Uint8Array.from([0x00, 0x00])));
    expect(cut).toMatchObject({ proto: 47, anomaly: 'gre.pkt_too_small', tunnels: [] });
    const keyCut = dec(ipCarrier(O4, 47, greHeader({ protocol: ETH_IPV4, key: 1 }).subarray(0, 6)));
    expect(keyCut).toMatchObject({ proto: 47, anomaly: 'gre.version0_hdr_too_big', tunnels: [] });
    const routing = dec(ipCarrier(O4, 47, concat(greHeader({ protocol: ETH_IPV4, flags: 0x4000 }), innerIp(HTTP))));
    expect(routing).toMatchObject({ proto: 47, anomaly: 'gre.version0_flags', tunnels: [] });
    expect(formatIp(routing.src)).toBe('192.0.2.1');
  });
});

describe('VXLAN', () => {
  it('UDP 4789 with the I flag: the inner frame\'s packet, its VNI and inner VLAN tags', () => {
    const p = dec(vxlan(O4, 5001, { ...HTTP, vlans: [100, 200] }));
    expect(inner(p)).toMatchObject({ src: '10.0.0.1', dst: '10.0.0.2', proto: 6, srcPort: 40000, dstPort: 80, malformed: null });
    expect(p.l3Offset).toBe(14 + 20 + 8 + 8 + 14 + 8);
    expect(layers(p)).toEqual([{ type: 'vxlan', depth: 1, outerProto: 17, id: 5001 }]);
    expect(p.tunnels[0]!.innerVlans).toEqual([100, 200]);
    expect(p.tunnels[0]!.outerL4Offset).toBe(14 + 20);
    expect(text(p)).toBe('GET /?q=1 HTTP/1.1\r\n\r\n');
    expect(inner(dec(vxlan(O6, 1, HTTP6)))).toMatchObject({ src: 'fd00::1', dstPort: 80, malformed: null });
  });

  it('without the I flag, or cut inside the 8-byte header or the inner Ethernet header: the UDP packet, malformed', () => {
    const noI = dec(udpCarrier(O4, 4789, concat(vxlanHeader(1, 0x00), innerFrame(HTTP))));
    expect(noI).toMatchObject({ proto: 17, dstPort: 4789, anomaly: 'vxlan.invalid_flags', tunnels: [] });
    const cut = dec(udpCarrier(O4, 4789, vxlanHeader(1).subarray(0, 5)));
    expect(cut).toMatchObject({ proto: 17, dstPort: 4789, anomaly: 'vxlan.pkt_too_small', tunnels: [] });
    const eth = dec(udpCarrier(O4, 4789, concat(vxlanHeader(1), innerFrame(HTTP).subarray(0, 10))));
    expect(eth).toMatchObject({ proto: 17, anomaly: 'tunnel.ethernet_too_small', tunnels: [] });
  });

  it('an inner frame that carries no IP (ARP) stays the UDP packet and is not malformed', () => {
    const arp = concat(Uint8Array.from([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x06]), new Uint8Array(28));
    expect(dec(udpCarrier(O4, 4789, concat(vxlanHeader(1), arp)))).toMatchObject({ proto: 17, dstPort: 4789, malformed: null, tunnels: [] });
  });

  it('the inner packet ends where the carrier ends: trailing Ethernet padding is not read as inner bytes', () => {
    const f = concat(vxlan(O4, 9, HTTP), new Uint8Array(6));
    const p = dec(f);
    expect(p.malformed).toBeNull();
    expect(text(p)).toBe('GET /?q=1 HTTP/1.1\r\n\r\n');
  });
});

describe('Geneve', () => {
  it('UDP 6081: options skipped by their length, Ethernet (0x6558) or IP payloads, VNI kept', () => {
    const p = dec(geneve(O4, 77, HTTP));
    expect(inner(p)).toMatchObject({ src: '10.0.0.1', dstPort: 80, malformed: null });
    expect(p.l3Offset).toBe(14 + 20 + 8 + 8 + 8 + 14);
    expect(layers(p)).toEqual([{ type: 'geneve', depth: 1, outerProto: 17, id: 77 }]);
    const ip = dec(udpCarrier(O4, 6081, concat(geneveHeader(78, ETH_IPV4, 1), innerIp(HTTP))));
    expect(inner(ip)).toMatchObject({ src: '10.0.0.1', dstPort: 80, malformed: null });
    expect(ip.tunnels[0]!.id).toBe(78);
  });

  it('options longer than the packet, another version, or another protocol', () => {
    const cut = dec(udpCarrier(O4, 6081, geneveHeader(1, ETH_TEB, 4).subarray(0, 16)));
    expect(cut).toMatchObject({ proto: 17, anomaly: 'geneve.options_truncated', tunnels: [] });
    const v1 = dec(udpCarrier(O4, 6081, concat(geneveHeader(1, ETH_TEB, 0, 1), innerFrame(HTTP))));
    expect(v1).toMatchObject({ proto: 17, anomaly: 'geneve.unknown_version', tunnels: [] });
    const other = dec(udpCarrier(O4, 6081, concat(geneveHeader(1, 0x8847), innerFrame(HTTP))));
    expect(other).toMatchObject({ proto: 17, dstPort: 6081, malformed: null, tunnels: [] });
  });
});

describe('nesting and the depth bound', () => {
  it('VXLAN in GRE in IPIP: three layers, outermost first, the innermost packet decoded', () => {
    const l3 = afterEthernet(vxlan({ src: '172.16.0.1', dst: '172.16.0.2' }, 3, HTTP));
    const l2 = concat(greHeader({ protocol: ETH_IPV4, key: 2 }), l3);
    const f = ipCarrier(O4, 4, concat(ipCarrierIp({ src: '198.51.100.1', dst: '198.51.100.2' }, 47, l2)));
    const p = dec(f);
    expect(inner(p)).toMatchObject({ src: '10.0.0.1', dstPort: 80, malformed: null });
    expect(layers(p)).toEqual([
      { type: 'ipip', depth: 1, outerProto: 4, id: -1 },
      { type: 'gre', depth: 2, outerProto: 47, id: 2 },
      { type: 'vxlan', depth: 3, outerProto: 17, id: 3 },
    ]);
    expect(p.invalid).toBeNull();
  });

  it('a fourth layer is not opened: the third layer\'s carrier, malformed and invalid (dropped)', () => {
    let ip = innerIp(HTTP);
    for (let i = 0; i < 4; i++) ip = ipCarrierIp({ src: `198.51.100.${i + 1}`, dst: '198.51.100.200' }, 4, ip);
    const p = dec(concat(Uint8Array.from([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00]), ip));
    expect(p.tunnels).toHaveLength(3);
    expect(p.proto).toBe(4);
    expect(p.anomaly).toBe('tunnel.too_many_layers');
    expect(p.invalid).toMatch(/more than 3 layers/);
  });

  it('both directions of an inner flow share the tunnel key; another VNI or another outer pair does not', () => {
    const a = dec(vxlan(O4, 10, HTTP));
    const back = dec(vxlan({ src: O4.dst, dst: O4.src }, 10, { ...HTTP, src: HTTP.dst, dst: HTTP.src, srcPort: 80, dstPort: 40000 }));
    expect(back.tunnelHash).toBe(a.tunnelHash);
    expect(back.tunnelWords).toEqual(a.tunnelWords);
    expect(dec(vxlan(O4, 11, HTTP)).tunnelWords).not.toEqual(a.tunnelWords);
    expect(dec(vxlan({ src: '192.0.2.9', dst: O4.dst }, 10, HTTP)).tunnelWords).not.toEqual(a.tunnelWords);
    expect(dec(innerFrame(HTTP))).toMatchObject({ tunnelHash: 0, tunnelWords: null, tunnels: [] });
  });

  it('every cut of a tunnelled frame decodes without throwing; a snaplen cut is not malformed', () => {
    for (const f of [vxlan(O4, 1, HTTP), greIp(O6, HTTP6, { key: 1 }), geneve(O4, 2, HTTP), ipip(O4, HTTP6)]) {
      for (let n = 0; n <= f.length; n++) {
        const p = decodePacket(f.subarray(0, n), LinkType.ETHERNET, 0, 0, f.length);
        expect(p.malformed).toBeNull();
      }
    }
  });
});

/** An IP header and payload without Ethernet, to nest carriers. */
function ipCarrierIp(o: { src: string; dst: string }, proto: number, payload: Uint8Array): Uint8Array {
  return afterEthernet(ipCarrier(o, proto, payload));
}
