// The IPv4 prefix table the XDP program reads for CIDR-only IPv4 rules
// (SF_CIDR4_* in xdp/secuxflow.h): a trie of fixed strides 16, 8 and 8 in one
// array of u32 cells, so a lookup costs the same however many prefixes there
// are and however they nest. Built here from the entries the compiler made
// (each already holds the best rule covering its prefix), then written into
// one generation: its roots, the blocks of its own pool, and its metas.
import { SecuxflowError } from '../errors.js';
import { cidr4PoolStart, cidr4RootIndex, LAYOUT, SF } from './codec.js';
import { mapUpdateBatch } from './native.js';

export interface Cidr4Entry {
  /** Network-order IPv4 address of the prefix. */
  addr: Uint8Array;
  /** 0..32. */
  prefixLen: number;
  /** The encoded sf_lpm_meta. */
  value: Uint8Array;
}

export interface Cidr4Direction<E extends Pick<Cidr4Entry, 'addr' | 'prefixLen'> = Cidr4Entry> {
  dir: number;
  entries: readonly E[];
}

/** Cell writes and meta writes for one generation, ready for batch updates. */
export interface Cidr4Image {
  cellKeys: Uint32Array;
  cellValues: Uint32Array;
  metaKeys: Uint32Array;
  metaValues: Uint8Array;
  blocks: number;
}

const ROOT = 65536;
const BLOCK = SF.CIDR4_BLOCK_CELLS;

type Prefixes = readonly Cidr4Direction<Pick<Cidr4Entry, 'addr' | 'prefixLen'>>[];

/** Whether the entries fit one generation of the table. */
export function fitsCidr4(dirs: Prefixes): boolean {
  return dirs.reduce((n, d) => n + d.entries.length, 0) <= SF.CIDR4_METAS && dirs.reduce((n, d) => n + blocksNeeded(d.entries), 0) <= SF.CIDR4_BLOCKS;
}

/** E_MAP_FULL before anything is written, naming what does not fit. */
export function checkCidr4Capacity(dirs: Prefixes): void {
  const prefixes = dirs.reduce((n, d) => n + d.entries.length, 0);
  if (prefixes > SF.CIDR4_METAS) {
    throw new SecuxflowError(
      'E_MAP_FULL',
      `the rule set has ${prefixes} CIDR-only IPv4 prefixes; the kernel's prefix table holds at most ${SF.CIDR4_METAS} per rule set`,
      'remove rules or merge CIDRs; the kernel keeps the previous rule set',
    );
  }
  const blocks = dirs.reduce((n, d) => n + blocksNeeded(d.entries), 0);
  if (blocks > SF.CIDR4_BLOCKS) {
    throw new SecuxflowError(
      'E_MAP_FULL',
      `the rule set's CIDR-only IPv4 prefixes longer than /16 need ${blocks} blocks of the kernel's prefix table, which has ${SF.CIDR4_BLOCKS} per rule set ` +
        '(one per /16 holding longer prefixes, one more per /24 holding longer ones)',
      'merge long prefixes into shorter ones; the kernel keeps the previous rule set',
    );
  }
}

function blocksNeeded(entries: readonly Pick<Cidr4Entry, 'addr' | 'prefixLen'>[]): number {
  const mid = new Set<number>();
  const low = new Set<number>();
  for (const e of entries) {
    const a = u32(e.addr);
    if (e.prefixLen > 16) mid.add(a >>> 16);
    if (e.prefixLen > 24) low.add(a >>> 8);
  }
  return mid.size + low.size;
}

function u32(addr: Uint8Array): number {
  return ((addr[0]! << 24) | (addr[1]! << 16) | (addr[2]! << 8) | addr[3]!) >>> 0;
}

/**
 * Lays out generation `gen`: every root cell of each direction that has
 * entries (a direction without entries is never read: its lpm_mask bit is
 * off), the blocks those entries need, and one meta per entry.
 */
export function buildCidr4Image(gen: number, dirs: readonly Cidr4Direction[]): Cidr4Image {
  checkCidr4Capacity(dirs);
  const poolStart = cidr4PoolStart(gen);
  const metaBase = gen * SF.CIDR4_METAS;
  const metaSize = LAYOUT.sf_lpm_meta.size;
  const blocks: Uint32Array[] = [];
  const metaCount = dirs.reduce((n, d) => n + d.entries.length, 0);
  const metaKeys = new Uint32Array(metaCount);
  const metaValues = new Uint8Array(metaCount * metaSize);
  const roots: Array<{ dir: number; cells: Uint32Array }> = [];
  let meta = 0;

  /** The block below cells[i], made on first use with the cell's leaf in every slot (the longer prefixes then overwrite theirs). */
  const below = (cells: Uint32Array, i: number): Uint32Array => {
    const v = cells[i]!;
    if (v & SF.CIDR4_CHILD) return blocks[((v & ~SF.CIDR4_CHILD) - poolStart) / BLOCK]!;
    const block = new Uint32Array(BLOCK).fill(v);
    cells[i] = (SF.CIDR4_CHILD | (poolStart + blocks.length * BLOCK)) >>> 0;
    blocks.push(block);
    return block;
  };

  for (const { dir, entries } of dirs) {
    if (entries.length === 0) continue;
    const cells = new Uint32Array(ROOT);
    roots.push({ dir, cells });
    // Shorter prefixes first: a longer one then overwrites the cells it covers.
    const order = [...entries].sort((x, y) => x.prefixLen - y.prefixLen);
    for (const e of order) {
      if (!Number.isInteger(e.prefixLen) || e.prefixLen < 0 || e.prefixLen > 32 || e.addr.length !== 4) {
        throw new SecuxflowError('E_INTERNAL', `an IPv4 prefix table entry must be an IPv4 prefix /0 to /32, got /${e.prefixLen} of ${e.addr.length} bytes`);
      }
      const leaf = metaBase + meta + 1;
      metaKeys[meta] = metaBase + meta;
      metaValues.set(e.value.subarray(0, metaSize), meta * metaSize);
      meta++;
      const len = e.prefixLen;
      const a = (u32(e.addr) & (len === 0 ? 0 : (0xffffffff << (32 - len)))) >>> 0;
      if (len <= 16) {
        cells.fill(leaf, a >>> 16, (a >>> 16) + (1 << (16 - len)));
        continue;
      }
      const mid = below(cells, a >>> 16);
      if (len <= 24) {
        const at = (a >>> 8) & 0xff;
        mid.fill(leaf, at, at + (1 << (24 - len)));
        continue;
      }
      const low = below(mid, (a >>> 8) & 0xff);
      const at = a & 0xff;
      low.fill(leaf, at, at + (1 << (32 - len)));
    }
  }

  const count = roots.length * ROOT + blocks.length * BLOCK;
  const cellKeys = new Uint32Array(count);
  const cellValues = new Uint32Array(count);
  let n = 0;
  for (const { dir, cells } of roots) {
    for (let i = 0; i < ROOT; i++) cellKeys[n + i] = cidr4RootIndex(gen, dir, i);
    cellValues.set(cells, n);
    n += ROOT;
  }
  blocks.forEach((block, b) => {
    const start = poolStart + b * BLOCK;
    for (let i = 0; i < BLOCK; i++) cellKeys[n + i] = start + i;
    cellValues.set(block, n);
    n += BLOCK;
  });
  return { cellKeys, cellValues, metaKeys, metaValues, blocks: blocks.length };
}

/**
 * Writes generation `gen` of the table: metas first, then blocks and roots in
 * one batch. Only cells of `gen` change, and packets do not read `gen` until
 * its header says it has prefixes, which the caller writes after this.
 */
export function writeCidr4Table(fds: { table: number; meta: number }, gen: number, dirs: readonly Cidr4Direction[]): void {
  const img = buildCidr4Image(gen, dirs);
  if (img.metaKeys.length === 0) return;
  const bytes = (a: Uint32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const metas = mapUpdateBatch(fds.meta, bytes(img.metaKeys), img.metaValues, img.metaKeys.length);
  if (metas !== img.metaKeys.length) throw new SecuxflowError('E_KERNEL', `only ${metas} of ${img.metaKeys.length} IPv4 prefix entries reached the kernel`);
  const cells = mapUpdateBatch(fds.table, bytes(img.cellKeys), bytes(img.cellValues), img.cellKeys.length);
  if (cells !== img.cellKeys.length) throw new SecuxflowError('E_KERNEL', `only ${cells} of ${img.cellKeys.length} IPv4 prefix table cells reached the kernel`);
}
