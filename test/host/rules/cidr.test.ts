import { describe, expect, it } from 'vitest';
import { SecuxflowError } from '../../../host/errors.js';
import { cidrContains, parseCidr } from '../../../host/rules/cidr.js';

function bytes(...b: number[]): Uint8Array {
  return Uint8Array.from(b);
}

describe('parseCidr: accepted forms and normalisation', () => {
  it.each([
    ['192.168.1.0/24', 4, 24, '192.168.1.0/24', [192, 168, 1, 0]],
    ['192.168.1.77/24', 4, 24, '192.168.1.0/24', [192, 168, 1, 0]],
    ['10.0.0.5', 4, 32, '10.0.0.5/32', [10, 0, 0, 5]],
    ['198.19.255.255/15', 4, 15, '198.18.0.0/15', [198, 18, 0, 0]],
    ['255.255.255.255/0', 4, 0, '0.0.0.0/0', [0, 0, 0, 0]],
    ['10.1.2.3/31', 4, 31, '10.1.2.2/31', [10, 1, 2, 2]],
  ] as const)('%s', (text, version, prefixLen, canonical, addr) => {
    const c = parseCidr(text);
    expect(c.version).toBe(version);
    expect(c.prefixLen).toBe(prefixLen);
    expect(c.text).toBe(canonical);
    expect([...c.addr]).toEqual(addr);
  });

  it.each([
    ['2001:db8::/32', '2001:db8::/32'],
    ['2001:db8:ffff:1::9/32', '2001:db8::/32'],
    ['2001:DB8::1', '2001:db8::1/128'],
    ['2001:db8:0:0:0:0:0:1/127', '2001:db8::/127'],
    ['::/0', '::/0'],
    ['fe80::1:2:3:4/65', 'fe80::/65'],
    ['2001:db8::ff/121', '2001:db8::80/121'],
    ['::ffff:198.18.0.1/120', '::ffff:198.18.0.0/120'],
  ])('IPv6 %s -> %s', (text, canonical) => {
    const c = parseCidr(text);
    expect(c.version).toBe(6);
    expect(c.addr.length).toBe(16);
    expect(c.text).toBe(canonical);
  });

  it('the canonical text parses back to the same network', () => {
    for (const t of ['192.168.1.77/24', '2001:db8:ffff:1::9/47', '10.0.0.5', '::1']) {
      const once = parseCidr(t);
      const twice = parseCidr(once.text);
      expect(twice.text).toBe(once.text);
      expect([...twice.addr]).toEqual([...once.addr]);
    }
  });
});

describe('parseCidr: errors name the text and the problem', () => {
  it.each([
    ['10.0.0.0/33', /"10\.0\.0\.0\/33".*prefix length 33 exceeds 32/],
    ['2001:db8::/129', /prefix length 129 exceeds 128 for IPv6/],
    ['10.0.0.256/8', /"10\.0\.0\.256\/8".*bad address/],
    ['10.0.0/8', /bad address "10\.0\.0"/],
    ['10.0.0.0/', /prefix length "" is not a number/],
    ['10.0.0.0/x', /prefix length "x" is not a number/],
    ['10.0.0.0/-1', /prefix length "-1" is not a number/],
    ['10.0.0.0/ 8', /prefix length " 8" is not a number/],
    ['10.0.0.0/8/8', /prefix length "8\/8"/],
    ['2001:db8:::1/64', /bad address/],
    ['2001:db8::g/64', /bad address/],
    ['', /bad address/],
    ['010.0.0.1', /bad address/],
  ])('%s', (text, re) => {
    let err: unknown;
    try {
      parseCidr(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SecuxflowError);
    expect((err as SecuxflowError).code).toBe('E_RULE_INVALID');
    expect((err as SecuxflowError).message).toMatch(re);
    expect((err as SecuxflowError).hint).toMatch(/N 0-32/);
  });
});

it('a zone id is a bad address whose hint gives the address without it', () => {
  let err: unknown;
  try { parseCidr('fe80::1%eth0/64'); } catch (e) { err = e; }
  expect((err as SecuxflowError).message).toMatch(/bad address "fe80::1%eth0"/);
  expect((err as SecuxflowError).hint).toMatch(/^a zone id \(%eth0\) .*: write fe80::1\/64;/);
});

describe('cidrContains', () => {
  it('IPv4 prefix boundaries', () => {
    const c = parseCidr('198.18.0.0/15');
    expect(cidrContains(c, bytes(198, 18, 0, 0))).toBe(true);
    expect(cidrContains(c, bytes(198, 19, 255, 255))).toBe(true);
    expect(cidrContains(c, bytes(198, 20, 0, 0))).toBe(false);
    expect(cidrContains(c, bytes(198, 17, 255, 255))).toBe(false);
  });

  it('never matches the other family, even for ::/0 and 0.0.0.0/0', () => {
    const v6 = new Uint8Array(16);
    expect(cidrContains(parseCidr('0.0.0.0/0'), v6)).toBe(false);
    expect(cidrContains(parseCidr('::/0'), bytes(1, 2, 3, 4))).toBe(false);
    expect(cidrContains(parseCidr('::/0'), v6)).toBe(true);
  });

  it('IPv6 prefixes that end inside a byte and inside a 32-bit word', () => {
    const c = parseCidr('2001:db8:8000::/33');
    const inside = parseCidr('2001:db8:ffff::1').addr;
    const outside = parseCidr('2001:db8:7fff::1').addr;
    expect(cidrContains(c, inside)).toBe(true);
    expect(cidrContains(c, outside)).toBe(false);
    const c65 = parseCidr('2001:db8::8000:0:0:0/65');
    expect(cidrContains(c65, parseCidr('2001:db8::8000:0:0:1').addr)).toBe(true);
    expect(cidrContains(c65, parseCidr('2001:db8::7fff:0:0:1').addr)).toBe(false);
  });
});
