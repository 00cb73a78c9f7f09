// The IPv4 prefix table is built in TypeScript and read by XDP in at most
// three cell reads. Here the built cells are read the way the program reads
// them and compared with a longest-prefix match over the entries, for nested,
// overlapping and random prefixes. (The kernel differential test then runs the
// real program on the same layout.)
import { describe, expect, it } from 'vitest';
import { buildCidr4Image, checkCidr4Capacity, type Cidr4Entry } from '../../../host/kernel/cidr4-table.js';
import { cidr4PoolStart, cidr4RootIndex, SF, SfPortDir } from '../../../host/kernel/codec.js';

function entry(cidr: string, id: number): Cidr4Entry {
  const [a, len] = cidr.split('/');
  return { addr: Uint8Array.from(a!.split('.').map(Number)), prefixLen: Number(len), value: Uint8Array.of(id, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0) };
}

/** What XDP's cidr4_table does, on the built cells: the entry's id, or 0. */
const cellMaps = new WeakMap<object, Map<number, number>>();
function lookup(img: ReturnType<typeof buildCidr4Image>, gen: number, dir: number, a: number): number {
  let cells = cellMaps.get(img);
  if (!cells) {
    cells = new Map<number, number>();
    for (let i = 0; i < img.cellKeys.length; i++) cells.set(img.cellKeys[i]!, img.cellValues[i]!);
    cellMaps.set(img, cells);
  }
  let v = cells.get(cidr4RootIndex(gen, dir, a >>> 16)) ?? 0;
  if (v & SF.CIDR4_CHILD) {
    v = cells.get((v & ~SF.CIDR4_CHILD) + ((a >>> 8) & 0xff)) ?? 0;
    if (v & SF.CIDR4_CHILD) v = cells.get((v & ~SF.CIDR4_CHILD) + (a & 0xff)) ?? 0;
  }
  if (v === 0) return 0;
  const m = img.metaKeys.indexOf(v - 1);
  expect(m).toBeGreaterThanOrEqual(0);
  return img.metaValues[m * 12]!;
}

/** Longest prefix among the entries that covers a, by brute force. */
function longest(entries: Cidr4Entry[], a: number): number {
  let best = -1;
  let id = 0;
  for (const e of entries) {
    const net = ((e.addr[0]! << 24) | (e.addr[1]! << 16) | (e.addr[2]! << 8) | e.addr[3]!) >>> 0;
    const mask = e.prefixLen === 0 ? 0 : (0xffffffff << (32 - e.prefixLen)) >>> 0;
    if (((a & mask) >>> 0) === ((net & mask) >>> 0) && e.prefixLen > best) {
      best = e.prefixLen;
      id = e.value[0]!;
    }
  }
  return id;
}

const ip = (s: string): number => s.split('.').reduce((n, b) => ((n << 8) | Number(b)) >>> 0, 0);

describe('IPv4 prefix table', () => {
  it('nested prefixes: the deepest covering prefix decides, at every stride', () => {
    const entries = ['10.0.0.0/8', '10.1.0.0/16', '10.1.2.0/23', '10.1.2.0/24', '10.1.2.128/25', '10.1.2.192/30', '0.0.0.0/0', '10.1.2.194/32'].map((c, i) => entry(c, i + 1));
    const img = buildCidr4Image(1, [{ dir: SfPortDir.DST, entries }]);
    const want: Array<[string, number]> = [
      ['10.1.2.194', 8], ['10.1.2.193', 6], ['10.1.2.200', 5], ['10.1.2.1', 4], ['10.1.3.1', 3], ['10.1.4.1', 2], ['10.2.0.1', 1], ['11.0.0.1', 7],
    ];
    for (const [a, id] of want) expect([a, lookup(img, 1, SfPortDir.DST, ip(a))]).toEqual([a, id]);
    // Only generation 1's pool and roots are written, and one block per stride below 10.1 and 10.1.2.
    expect(img.blocks).toBe(2);
    for (const k of img.cellKeys) {
      const inRoots = k >= cidr4RootIndex(1, SfPortDir.DST, 0) && k <= cidr4RootIndex(1, SfPortDir.DST, 0xffff);
      const inPool = k >= cidr4PoolStart(1) && k < cidr4PoolStart(1) + SF.CIDR4_BLOCKS * SF.CIDR4_BLOCK_CELLS;
      expect(inRoots || inPool).toBe(true);
    }
    expect(lookup(img, 1, SfPortDir.SRC, ip('10.1.2.193'))).toBe(0);
  });

  it('random prefixes of both directions agree with a longest-prefix match', () => {
    let seed = 7;
    const rnd = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    // Distinct prefixes, as the compiler gives (one entry per prefix), in a
    // small address space so that they nest and overlap.
    const make = (n: number, base: number): Cidr4Entry[] => {
      const seen = new Map<string, Cidr4Entry>();
      while (seen.size < n) {
        const len = 8 + (rnd() % 24);
        const a = ((0x0a000000 | (rnd() & 0x0003ffff)) & ((0xffffffff << (32 - len)) >>> 0)) >>> 0;
        const cidr = `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}/${len}`;
        if (!seen.has(cidr)) seen.set(cidr, entry(cidr, base + seen.size));
      }
      return [...seen.values()];
    };
    const src = make(60, 1);
    const dst = make(60, 100);
    const img = buildCidr4Image(0, [{ dir: SfPortDir.SRC, entries: src }, { dir: SfPortDir.DST, entries: dst }]);
    for (let i = 0; i < 3000; i++) {
      const a = (0x0a000000 | (rnd() & 0x0007ffff)) >>> 0;
      expect(lookup(img, 0, SfPortDir.SRC, a)).toBe(longest(src, a));
      expect(lookup(img, 0, SfPortDir.DST, a)).toBe(longest(dst, a));
    }
  });

  it('a set that needs more blocks than a generation has is E_MAP_FULL before anything is built', () => {
    const entries = Array.from({ length: SF.CIDR4_BLOCKS / 2 + 1 }, (_, i) => entry(`${10 + (i >>> 8)}.${i & 255}.1.128/25`, 1));
    expect(() => checkCidr4Capacity([{ dir: SfPortDir.SRC, entries }])).toThrowError(
      expect.objectContaining({ code: 'E_MAP_FULL', message: expect.stringMatching(new RegExp(`need ${SF.CIDR4_BLOCKS + 2} blocks`)) }),
    );
    expect(() => checkCidr4Capacity([{ dir: SfPortDir.SRC, entries: entries.slice(1) }])).not.toThrow();
  });
});
