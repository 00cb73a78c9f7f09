// Packets a firewall must drop whatever its rules say (DecodedPacket.invalid):
// the XDP program refuses the same ones (test/kernel/prog-test-run.test.ts),
// and test/kernel/differential.test.ts checks the two agree on random frames.
import { describe, expect, it } from 'vitest';
import { buildPacket, fragmentIp } from '../../../host/packet/build.js';
import { decodePacket } from '../../../host/packet/decode.js';
import { LinkType } from '../../../host/packet/types.js';

const decode = (f: Uint8Array) => decodePacket(f, LinkType.ETHERNET);
const syn = (src: string, dst: string) => buildPacket({ src, dst, proto: 'tcp', srcPort: 40000, dstPort: 22, tcpFlags: 0x02 });

describe('invalid: refused before the rules', () => {
  it.each([['198.18.0.1', '198.18.0.2', 'ipv4'], ['2001:db8::1', '2001:db8::2', 'ipv6']])('a SYN cut into 8-byte fragments: the first is invalid, the rest not (%s)', (src, dst, family) => {
    const [first, ...rest] = fragmentIp(syn(src, dst), 8).map(decode);
    expect(first!.invalid).toBe(`${family}: first fragment holds 8 of the 20 bytes of the TCP header`);
    expect(first!.malformed).toBeNull();
    expect(rest.map((p) => p.invalid)).toEqual(rest.map(() => null));
  });

  it('a first fragment holding the whole TCP header is not invalid, nor is an unfragmented packet cut short', () => {
    const [first] = fragmentIp(buildPacket({ src: '198.18.0.1', dst: '198.18.0.2', proto: 'tcp', dstPort: 80, payload: new Uint8Array(64) }), 24).map(decode);
    expect(first!.invalid).toBeNull();
    const cut = syn('198.18.0.1', '198.18.0.2');
    cut[17] = 30; // total length 30: 10 bytes of TCP, not a fragment
    expect(decode(cut).invalid).toBeNull();
  });

  it('a capture cut inside a first fragment whose length field covers the header is not invalid', () => {
    const [first] = fragmentIp(buildPacket({ src: '198.18.0.1', dst: '198.18.0.2', proto: 'tcp', dstPort: 80, payload: new Uint8Array(64) }), 24);
    const p = decodePacket(first!.subarray(0, 14 + 20 + 8), LinkType.ETHERNET, 0, 0, first!.length);
    expect(p.invalid).toBeNull();
  });

  it('an IPv6 first fragment whose UDP header lies past the fragment (RFC 7112)', () => {
    const dgram = buildPacket({ src: '2001:db8::1', dst: '2001:db8::2', proto: 'udp', srcPort: 5000, dstPort: 53, payload: new Uint8Array(64), ipv6ExtHeaders: [{ type: 60 }] });
    const [first] = fragmentIp(dgram, 8).map(decode);
    expect(first!.invalid).toBe('ipv6: first fragment holds 0 of the 8 bytes of the UDP header');
  });

  it('an IPv6 first fragment that cuts its destination-options header in two: the chain goes on in a later fragment (RFC 7112)', () => {
    const dgram = buildPacket({ src: '2001:db8::1', dst: '2001:db8::2', proto: 'tcp', srcPort: 40000, dstPort: 22, tcpFlags: 0x02, ipv6ExtHeaders: [{ type: 60, length: 64 }] });
    const [first, ...rest] = fragmentIp(dgram, 16).map(decode);
    expect(first!.invalid).toBe('ipv6: first fragment splits the extension-header chain (header 60 runs past it)');
    expect(rest.map((p) => p.invalid)).toEqual(rest.map(() => null));
    // The whole datagram, and a capture cut short inside an unfragmented one, are not invalid.
    expect(decode(dgram).invalid).toBeNull();
    expect(decodePacket(dgram.subarray(0, 14 + 40 + 16), LinkType.ETHERNET, 0, 0, dgram.length).invalid).toBeNull();
  });

  it('nine IPv6 extension headers: malformed and invalid; eight are walked to the ports', () => {
    const nine = decode(buildPacket({ src: '2001:db8::1', dst: '2001:db8::2', proto: 'tcp', dstPort: 22, ipv6ExtHeaders: Array.from({ length: 9 }, () => ({ type: 60 as const })) }));
    expect(nine.invalid).toMatch(/more than 8 extension headers/);
    expect(nine.malformed).toMatch(/more than 8 extension headers/);
    const eight = decode(buildPacket({ src: '2001:db8::1', dst: '2001:db8::2', proto: 'tcp', dstPort: 22, ipv6ExtHeaders: Array.from({ length: 8 }, () => ({ type: 60 as const })) }));
    expect([eight.invalid, eight.dstPort]).toEqual([null, 22]);
  });
});
