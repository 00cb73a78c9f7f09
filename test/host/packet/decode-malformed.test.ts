// Truncated and corrupted frames: decoding never throws, says why, and keeps
// what it parsed before the fault.
import { describe, expect, it } from 'vitest';
import { buildPacket } from '../../../host/packet/build.js';
import { decodePacket } from '../../../host/packet/decode.js';
import { LinkType, type DecodedPacket } from '../../../host/packet/types.js';

function expectInBounds(p: DecodedPacket): void {
  const n = p.data.length;
  expect(p.l3Offset).toBeGreaterThanOrEqual(-1);
  expect(p.l3Offset).toBeLessThan(n);
  expect(p.l4Offset).toBeGreaterThanOrEqual(-1);
  expect(p.l4Offset).toBeLessThan(n);
  if (p.payloadOffset >= 0) expect(p.payloadOffset + p.payloadLength).toBeLessThanOrEqual(n);
  else expect(p.payloadLength).toBe(0);
}

describe('truncation at every byte', () => {
  const cases = [
    { name: 'IPv4 TCP with options and VLAN', spec: { src: '198.18.0.1', dst: '198.18.0.2', proto: 'tcp' as const, srcPort: 1234, dstPort: 80, vlans: [9], ipv4Options: new Uint8Array(8).fill(1), payload: 'GET / HTTP/1.0\r\n\r\n' } },
    { name: 'IPv6 TCP with extension headers', spec: { src: '2001:db8::1', dst: '2001:db8::2', proto: 'tcp' as const, srcPort: 1234, dstPort: 80, ipv6ExtHeaders: [{ type: 0 as const }, { type: 60 as const, length: 16 }], payload: 'GET / HTTP/1.0\r\n\r\n' } },
  ];
  for (const { name, spec } of cases) {
    it(name, () => {
      const frame = buildPacket(spec);
      const full = decodePacket(frame, LinkType.ETHERNET);
      expect(full.malformed).toBeNull();
      for (let cut = 0; cut < frame.length; cut++) {
        const p = decodePacket(frame.subarray(0, cut), LinkType.ETHERNET);
        expect(p.malformed, `cut at ${cut}`).not.toBeNull();
        expectInBounds(p);
        // Once the whole TCP header is present, the ports survive the truncation.
        if (p.l4Offset >= 0 && cut >= full.l4Offset + 20) expect([p.srcPort, p.dstPort]).toEqual([1234, 80]);
        if (cut >= full.l4Offset + 20) expect(p.dstPort, `cut at ${cut}`).toBe(80);
      }
    });
  }

  it('a frame cut by the capture snaplen is not malformed, and keeps what was captured', () => {
    const spec = { src: '2001:db8::1', dst: '2001:db8::2', proto: 'tcp' as const, srcPort: 1234, dstPort: 80, vlans: [4], payload: 'x'.repeat(50) };
    const frame = buildPacket(spec);
    const l4 = 14 + 4 + 40;
    for (let cut = 0; cut < frame.length; cut++) {
      const p = decodePacket(frame.subarray(0, cut), LinkType.ETHERNET, 0, 0, frame.length);
      expect(p.malformed, `cut at ${cut}`).toBeNull();
      expectInBounds(p);
      if (cut >= l4 + 20) {
        expect([p.srcPort, p.dstPort]).toEqual([1234, 80]);
        expect(p.payloadLength).toBe(cut - (l4 + 20));
      } else {
        expect(p.l4Offset).toBe(-1);
      }
    }
    // A field fault is still a fault when the frame was cut.
    const bad = frame.slice(0, 70);
    bad[18] = 0x50;
    expect(decodePacket(bad, LinkType.ETHERNET, 0, 0, frame.length).malformed).toBe('ipv6: version 5');
  });

  it('names the layer in the reason', () => {
    const frame = buildPacket({ src: '198.18.0.1', dst: '198.18.0.2', proto: 'tcp' });
    expect(decodePacket(frame.subarray(0, 10), LinkType.ETHERNET).malformed).toBe('ethernet: frame 10 < 14 bytes');
    expect(decodePacket(frame.subarray(0, 30), LinkType.ETHERNET).malformed).toBe('ipv4: header truncated (16 < 20 bytes)');
    expect(decodePacket(frame.subarray(0, 44), LinkType.ETHERNET).malformed).toBe('ipv4: total length 40 > 30 bytes captured');
  });
});

describe('header field faults', () => {
  const v4 = (): Uint8Array => buildPacket({ src: '198.18.0.1', dst: '198.18.0.2', proto: 'tcp', dstPort: 80, payload: 'abcdefgh' });
  const v4udp = (): Uint8Array => buildPacket({ src: '198.18.0.1', dst: '198.18.0.2', proto: 'udp', dstPort: 53, payload: 'abcdefgh' });

  it('IPv4 version other than 4', () => {
    const f = v4(); f[14] = 0x55;
    const p = decodePacket(f, LinkType.ETHERNET);
    expect(p.malformed).toBe('ipv4: version 5');
    expect(p.ipVersion).toBe(0);
  });

  it('IPv4 IHL below 5', () => {
    const f = v4(); f[14] = 0x44;
    expect(decodePacket(f, LinkType.ETHERNET).malformed).toBe('ipv4: header length 4 < 5');
  });

  it('IPv4 IHL beyond the frame', () => {
    const f = v4().subarray(0, 14 + 24); f[14] = 0x4f;
    expect(decodePacket(f, LinkType.ETHERNET).malformed).toBe('ipv4: header length 60 > 24 bytes captured');
  });

  it('IPv4 total length below the header length', () => {
    const f = v4(); f[16] = 0; f[17] = 19;
    expect(decodePacket(f, LinkType.ETHERNET).malformed).toBe('ipv4: total length 19 < header length 20');
  });

  it('TCP data offset below 5 keeps the ports', () => {
    const f = v4(); f[34 + 12] = 4 << 4;
    const p = decodePacket(f, LinkType.ETHERNET);
    expect(p.malformed).toBe('tcp: data offset 4 < 5');
    expect(p.dstPort).toBe(80);
    expect(p.payloadOffset).toBe(-1);
  });

  it('TCP data offset beyond the segment', () => {
    const f = v4(); f[34 + 12] = 15 << 4;
    expect(decodePacket(f, LinkType.ETHERNET).malformed).toBe('tcp: header length 60 > 28 bytes');
  });

  it('UDP length below 8 and beyond the datagram', () => {
    const a = v4udp(); a[34 + 4] = 0; a[34 + 5] = 7;
    expect(decodePacket(a, LinkType.ETHERNET).malformed).toBe('udp: length 7 < 8');
    const b = v4udp(); b[34 + 4] = 0; b[34 + 5] = 200;
    const p = decodePacket(b, LinkType.ETHERNET);
    expect(p.malformed).toBe('udp: length 200 > 16 bytes');
    expect(p.payloadOffset + p.payloadLength).toBe(b.length);
  });

  it('IPv6 extension header running past the payload', () => {
    const f = buildPacket({ src: '2001:db8::1', dst: '2001:db8::2', proto: 'udp', ipv6ExtHeaders: [{ type: 60 }] });
    f[14 + 40 + 1] = 200;
    const p = decodePacket(f, LinkType.ETHERNET);
    expect(p.malformed).toBe('ipv6: extension header 60 truncated');
    expect(p.proto).toBe(0);
    expect(p.ipVersion).toBe(6);
  });

  it('IPv6 version nibble wrong', () => {
    const f = buildPacket({ src: '2001:db8::1', dst: '2001:db8::2', proto: 'udp' }); f[14] = 0x40;
    expect(decodePacket(f, LinkType.ETHERNET).malformed).toBe('ipv6: version 4');
  });

  it('truncated VLAN tag and short SLL headers', () => {
    const f = buildPacket({ src: '198.18.0.1', dst: '198.18.0.2', proto: 'udp', vlans: [3] });
    expect(decodePacket(f.subarray(0, 16), LinkType.ETHERNET).malformed).toBe('vlan: tag truncated');
    expect(decodePacket(new Uint8Array(15), LinkType.LINUX_SLL).malformed).toBe('sll: frame 15 < 16 bytes');
    expect(decodePacket(new Uint8Array(19), LinkType.LINUX_SLL2).malformed).toBe('sll2: frame 19 < 20 bytes');
    expect(decodePacket(new Uint8Array(0), LinkType.RAW).malformed).toBe('raw: empty frame');
  });
});
