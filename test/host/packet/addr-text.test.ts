import { describe, expect, it } from 'vitest';
import { formatIp, isIpv4Text, parseIp } from '../../../host/packet/addr.js';
import { SecuxflowError } from '../../../host/errors.js';

describe('IP address text', () => {
  it('parses IPv4 into 4 bytes', () => {
    expect([...parseIp('198.18.0.1')]).toEqual([198, 18, 0, 1]);
    expect([...parseIp('0.0.0.0')]).toEqual([0, 0, 0, 0]);
    expect([...parseIp('255.255.255.255')]).toEqual([255, 255, 255, 255]);
  });

  it('parses IPv6 forms into 16 bytes', () => {
    expect([...parseIp('2001:db8::1')]).toEqual([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect([...parseIp('::')]).toEqual(new Array(16).fill(0));
    expect([...parseIp('::1')]).toEqual([...new Array(15).fill(0), 1]);
    expect([...parseIp('2001:DB8:0:0:0:0:0:ff')].slice(14)).toEqual([0, 0xff]);
    expect([...parseIp('::ffff:198.18.0.1')].slice(10)).toEqual([0xff, 0xff, 198, 18, 0, 1]);
    expect([...parseIp('fe80::')].slice(0, 2)).toEqual([0xfe, 0x80]);
  });

  it.each(['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.-1', '2001:db8::1::2', '2001:db8:1:2:3:4:5:6:7',
    'g::1', '12345::', '1.2.3.4::', 'localhost', ' 1.2.3.4', '1:2:3:4:5:6:7'])('rejects %j with E_USAGE naming it', (text) => {
    let err: unknown;
    try { parseIp(text); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(SecuxflowError);
    expect((err as SecuxflowError).code).toBe('E_USAGE');
    expect((err as SecuxflowError).message).toContain(`'${text}'`);
  });

  it('formats IPv6 in RFC 5952 form', () => {
    const cases: [number[], string][] = [
      [[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], '2001:db8::1'],
      [new Array(16).fill(0), '::'],
      // A single zero group is not compressed.
      [[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1], '2001:db8:0:1:1:1:1:1'],
      // The longest run wins; on a tie the first one.
      [[0x20, 0x01, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1], '2001:0:0:1::1'],
      [[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1], '2001:db8::1:0:0:1'],
      [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 18, 0, 1], '::ffff:198.18.0.1'],
      [[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 'fe80::'],
    ];
    for (const [bytes, text] of cases) expect(formatIp(Uint8Array.from(bytes))).toBe(text);
  });

  it('round-trips IPv4 and compressed IPv6 text', () => {
    for (const t of ['198.18.255.7', '2001:db8::53', '2001:db8:1:2:3:4:5:6', '::1']) expect(formatIp(parseIp(t))).toBe(t);
  });

  it('tells IPv4 text apart', () => {
    expect(isIpv4Text('198.18.0.1')).toBe(true);
    expect(isIpv4Text('2001:db8::1')).toBe(false);
    expect(isIpv4Text('198.18.0')).toBe(false);
  });
});
