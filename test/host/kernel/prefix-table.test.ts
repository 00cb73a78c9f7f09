// The prefix tables are built in TypeScript and read by XDP one cell per
// level. Here the built cells are read the way the program reads them and
// compared with a longest-prefix match over the entries, for nested,
// overlapping and random prefixes of both families. (The kernel differential
// test then runs the real program on the same layout.)
import { describe, expect, it } from 'vitest';
import { buildPrefixTable, checkPrefixTableCapacity, CIDR4_TABLE, CIDR6_TABLE, type PrefixEntry, type PrefixTableSpec } from '../../../host/kernel/prefix-table.js';
import { cidrRootIndex, SF, SfPortDir } from '../../../host/kernel/codec.js';
import { parseIp } from '../../../host/packet/addr.js';

function entry(cidr: string, id: number): PrefixEntry {
  const [a, len] = cidr.split('/');
  const value = new Uint8Array(12);
  new DataView(value.buffer).setUint32(0, id, true);
  return { addr: parseIp(a!), prefixLen: Number(len), value };
}

type Image = ReturnType<typeof buildPrefixTable>;
const cellMaps = new WeakMap<object, Map<number, number>>();

/** What XDP's cidr4_table / cidr6_table do, on the built cells: the entry's id, or 0. */
function lookup(spec: PrefixTableSpec, img: Image, gen: number, dir: number, addr: Uint8Array): number {
  let cells = cellMaps.get(img);
  if (!cells) {
    cells = new Map<number, number>();
    for (let i = 0; i < img.cellKeys.length; i++) cells.set(img.cellKeys[i]!, img.cellValues[i]!);
    cellMaps.set(img, cells);
  }
  let v = cells.get(cidrRootIndex(gen, dir, (addr[0]! << 8) | addr[1]!)) ?? 0;
  for (let k = 2; k < addr.length && (v & SF.CIDR_CHILD); k++) v = cells.get((v & ~SF.CIDR_CHILD) + addr[k]!) ?? 0;
  if (v === 0) return 0;
  const m = img.metaKeys.indexOf(v - 1);
  expect(m).toBeGreaterThanOrEqual(0);
  return new DataView(img.metaValues.buffer).getUint32(m * 12, true);
}

function covers(e: PrefixEntry, a: Uint8Array): boolean {
  for (let bit = 0; bit < e.prefixLen; bit++) {
    const m = 0x80 >> (bit & 7);
    if ((e.addr[bit >> 3]! & m) !== (a[bit >> 3]! & m)) return false;
  }
  return true;
}

/** Longest prefix among the entries that covers a, by brute force. */
function longest(entries: PrefixEntry[], a: Uint8Array): number {
  let best = -1;
  let id = 0;
  for (const e of entries) {
    if (covers(e, a) && e.prefixLen > best) {
      best = e.prefixLen;
      id = new DataView(e.value.buffer).getUint32(0, true);
    }
  }
  return id;
}

function lcg(seed: number): () => number {
  return () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
}

/** Distinct random prefixes (as the compiler gives: one entry per prefix) whose addresses vary only in `spread` bits after `fixed` bytes, so they nest and overlap. */
function randomPrefixes(bytes: 4 | 16, n: number, base: number, rnd: () => number, minLen: number): PrefixEntry[] {
  const seen = new Map<string, PrefixEntry>();
  while (seen.size < n) {
    const len = minLen + (rnd() % (bytes * 8 - minLen + 1));
    const a = randomAddr(bytes, rnd);
    for (let bit = len; bit < bytes * 8; bit++) a[bit >> 3]! &= ~(0x80 >> (bit & 7));
    const key = `${Buffer.from(a).toString('hex')}/${len}`;
    if (!seen.has(key)) {
      const value = new Uint8Array(12);
      new DataView(value.buffer).setUint32(0, base + seen.size, true);
      seen.set(key, { addr: a, prefixLen: len, value });
    }
  }
  return [...seen.values()];
}

/** 10.0.0.0/14 or 2001:db8::/32 with a few varying bytes, so random addresses land in random prefixes. */
function randomAddr(bytes: 4 | 16, rnd: () => number): Uint8Array {
  if (bytes === 4) {
    const a = (0x0a000000 | (rnd() & 0x0003ffff)) >>> 0;
    return Uint8Array.of(a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255);
  }
  const a = parseIp('2001:db8::');
  // Vary bits in bytes 4, 7, 10 and 15 only: deep prefixes still share paths.
  a[4] = rnd() & 3; a[7] = rnd() & 3; a[10] = rnd() & 1; a[15] = rnd() & 7;
  return a;
}

describe('prefix tables', () => {
  it('IPv4 nested prefixes: the deepest covering prefix decides, at every stride', () => {
    const entries = ['10.0.0.0/8', '10.1.0.0/16', '10.1.2.0/23', '10.1.2.0/24', '10.1.2.128/25', '10.1.2.192/30', '0.0.0.0/0', '10.1.2.194/32'].map((c, i) => entry(c, i + 1));
    const img = buildPrefixTable(CIDR4_TABLE, 1, [{ dir: SfPortDir.DST, entries }]);
    const want: Array<[string, number]> = [
      ['10.1.2.194', 8], ['10.1.2.193', 6], ['10.1.2.200', 5], ['10.1.2.1', 4], ['10.1.3.1', 3], ['10.1.4.1', 2], ['10.2.0.1', 1], ['11.0.0.1', 7],
    ];
    for (const [a, id] of want) expect([a, lookup(CIDR4_TABLE, img, 1, SfPortDir.DST, parseIp(a))]).toEqual([a, id]);
    // Only generation 1's pool and roots are written, and one block per stride below 10.1 and 10.1.2.
    expect(img.blocks).toBe(2);
    for (const k of img.cellKeys) {
      const inRoots = k >= cidrRootIndex(1, SfPortDir.DST, 0) && k <= cidrRootIndex(1, SfPortDir.DST, 0xffff);
      const inPool = k >= CIDR4_TABLE.poolStart(1) && k < CIDR4_TABLE.poolStart(1) + SF.CIDR4_BLOCKS * SF.CIDR_BLOCK_CELLS;
      expect(inRoots || inPool).toBe(true);
    }
    expect(lookup(CIDR4_TABLE, img, 1, SfPortDir.SRC, parseIp('10.1.2.193'))).toBe(0);
  });

  it('IPv6 nested prefixes down to /128, past every byte boundary', () => {
    const entries = ['2001:db8::/32', '2001:db8:0:1::/64', '2001:db8:0:1::/65', '2001:db8:0:1:8000::/66', '2001:db8:0:1::42/127', '2001:db8:0:1::43/128', '::/0']
      .map((c, i) => entry(c, i + 1));
    const img = buildPrefixTable(CIDR6_TABLE, 0, [{ dir: SfPortDir.SRC, entries }]);
    const want: Array<[string, number]> = [
      ['2001:db8:0:1::43', 6], ['2001:db8:0:1::42', 5], ['2001:db8:0:1::44', 3], ['2001:db8:0:1:9000::1', 4], ['2001:db8:0:1:c000::1', 2], ['2001:db8:0:1:4000::', 3],
      ['2001:db8:0:2::1', 1], ['2001:db9::1', 7],
    ];
    for (const [a, id] of want) expect([a, lookup(CIDR6_TABLE, img, 0, SfPortDir.SRC, parseIp(a))]).toEqual([a, id]);
    // bytes 2..15 each need a block on the way to ::43; the /64s add none of their own.
    expect(img.blocks).toBe(14);
  });

  for (const [spec, bytes, minLen] of [[CIDR4_TABLE, 4, 8], [CIDR6_TABLE, 16, 24]] as const) {
    it(`random ${spec.family} prefixes of both directions agree with a longest-prefix match`, () => {
      const rnd = lcg(7);
      const src = randomPrefixes(bytes, 60, 1, rnd, minLen);
      const dst = randomPrefixes(bytes, 60, 100, rnd, minLen);
      const img = buildPrefixTable(spec, 0, [{ dir: SfPortDir.SRC, entries: src }, { dir: SfPortDir.DST, entries: dst }]);
      for (let i = 0; i < 3000; i++) {
        const a = randomAddr(bytes, rnd);
        expect(lookup(spec, img, 0, SfPortDir.SRC, a)).toBe(longest(src, a));
        expect(lookup(spec, img, 0, SfPortDir.DST, a)).toBe(longest(dst, a));
      }
    });
  }

  it('a set that needs more blocks than a generation has is E_MAP_FULL before anything is built', () => {
    const entries = Array.from({ length: SF.CIDR4_BLOCKS / 2 + 1 }, (_, i) => entry(`${10 + (i >>> 8)}.${i & 255}.1.128/25`, 1));
    expect(() => checkPrefixTableCapacity(CIDR4_TABLE, [{ dir: SfPortDir.SRC, entries }])).toThrowError(
      expect.objectContaining({ code: 'E_MAP_FULL', message: expect.stringMatching(new RegExp(`need ${SF.CIDR4_BLOCKS + 2} blocks`)) }),
    );
    expect(() => checkPrefixTableCapacity(CIDR4_TABLE, [{ dir: SfPortDir.SRC, entries: entries.slice(1) }])).not.toThrow();
    // Built without that check first (compileRules made it), the build refuses with the same error once the pool runs out.
    expect(() => buildPrefixTable(CIDR4_TABLE, 0, [{ dir: SfPortDir.SRC, entries }])).toThrowError(
      expect.objectContaining({ code: 'E_MAP_FULL', message: expect.stringMatching(new RegExp(`need ${SF.CIDR4_BLOCKS + 2} blocks`)) }),
    );
    expect(buildPrefixTable(CIDR4_TABLE, 0, [{ dir: SfPortDir.SRC, entries: entries.slice(1) }]).blocks).toBe(SF.CIDR4_BLOCKS);
  });
});
