// The prefix tables the XDP program reads for CIDR-only rules (SF_CIDR4_* and
// SF_CIDR6_* in xdp/secuxflow.h): tries of fixed strides, 16 bits at the root
// and 8 below, each in one array of u32 cells, so a lookup costs the same
// however many prefixes there are and however they nest. Built here from the
// entries the compiler made (each already holds the best rule covering its
// prefix), then written into one generation: its roots, the blocks of its
// own pool, and its metas.
import { SecuxflowError } from '../errors.js';
import { cidr4PoolStart, cidr6PoolStart, cidrRootIndex, LAYOUT, SF } from './codec.js';
import { mapUpdateBatch } from './native.js';

/** One family's table: its address size, and its per-generation pool and metas (the roots are laid out alike: cidrRootIndex). */
export interface PrefixTableSpec {
  family: 'IPv4' | 'IPv6';
  bytes: 4 | 16;
  /** 256-cell blocks in one generation's pool. */
  blocks: number;
  /** Metas (one per entry) in one generation. */
  metas: number;
  poolStart(gen: number): number;
}

export const CIDR4_TABLE: PrefixTableSpec = {
  family: 'IPv4', bytes: 4, blocks: SF.CIDR4_BLOCKS, metas: SF.CIDR4_METAS, poolStart: cidr4PoolStart,
};
export const CIDR6_TABLE: PrefixTableSpec = {
  family: 'IPv6', bytes: 16, blocks: SF.CIDR6_BLOCKS, metas: SF.CIDR6_METAS, poolStart: cidr6PoolStart,
};

export interface PrefixEntry {
  /** Network-order address of the prefix. */
  addr: Uint8Array;
  prefixLen: number;
  /** The encoded sf_lpm_meta. */
  value: Uint8Array;
}

export interface PrefixDirection<E extends Pick<PrefixEntry, 'addr' | 'prefixLen'> = PrefixEntry> {
  dir: number;
  entries: readonly E[];
}

export interface PrefixTableImage {
  cellKeys: Uint32Array;
  cellValues: Uint32Array;
  metaKeys: Uint32Array;
  metaValues: Uint8Array;
  blocks: number;
}

type Prefixes = readonly PrefixDirection<Pick<PrefixEntry, 'addr' | 'prefixLen'>>[];

const ROOT = 65536;
const BLOCK = SF.CIDR_BLOCK_CELLS;
const CHILD = SF.CIDR_CHILD;

/** The byte a prefix of `len` bits ends in; bytes 2 up to it each sit in a block. */
function lastByte(len: number): number {
  return Math.ceil(len / 8) - 1;
}

/** Blocks a direction's entries need: one per distinct (first k bytes) for each byte k >= 2 a prefix reaches. */
function blocksNeeded(entries: readonly Pick<PrefixEntry, 'addr' | 'prefixLen'>[]): number {
  const seen = new Set<string>();
  for (const e of entries) {
    for (let k = 2; k <= lastByte(e.prefixLen); k++) seen.add(Buffer.from(e.addr.subarray(0, k)).toString('hex'));
  }
  return seen.size;
}

function prefixCount(dirs: Prefixes): number {
  return dirs.reduce((n, d) => n + d.entries.length, 0);
}

function blockCount(dirs: Prefixes): number {
  return dirs.reduce((n, d) => n + blocksNeeded(d.entries), 0);
}

/** Whether the entries fit one generation of the table. */
export function fitsPrefixTable(spec: PrefixTableSpec, dirs: Prefixes): boolean {
  return prefixCount(dirs) <= spec.metas && blockCount(dirs) <= spec.blocks;
}

/** E_MAP_FULL before anything is written, naming what does not fit. */
export function checkPrefixTableCapacity(spec: PrefixTableSpec, dirs: Prefixes): void {
  const prefixes = prefixCount(dirs);
  if (prefixes > spec.metas) {
    throw new SecuxflowError(
      'E_MAP_FULL',
      `the rule set has ${prefixes} CIDR-only ${spec.family} prefixes; the kernel's prefix table holds at most ${spec.metas} per rule set`,
      'remove rules or merge CIDRs; the kernel keeps the previous rule set',
    );
  }
  const blocks = blockCount(dirs);
  if (blocks > spec.blocks) {
    throw new SecuxflowError(
      'E_MAP_FULL',
      `the rule set's CIDR-only ${spec.family} prefixes longer than /16 need ${blocks} blocks of the kernel's prefix table, which has ${spec.blocks} per rule set ` +
        '(one for each 8 bits past the first 16 that a prefix reaches, shared by the prefixes that agree up to there)',
      'merge long prefixes into shorter ones; the kernel keeps the previous rule set',
    );
  }
}

/**
 * Lays out generation `gen`: every root cell of each direction that has
 * entries (a direction without entries is never read: its lpm_mask bit is
 * off), the blocks those entries need, and one meta per entry.
 */
export function buildPrefixTable(spec: PrefixTableSpec, gen: number, dirs: readonly PrefixDirection[]): PrefixTableImage {
  // compileRules has checked the room; a set that still overflows here gets
  // the same E_MAP_FULL, counted only then, instead of every build walking
  // all prefixes a second time.
  const metaCount = prefixCount(dirs);
  if (metaCount > spec.metas) checkPrefixTableCapacity(spec, dirs);
  const poolStart = spec.poolStart(gen);
  const metaBase = gen * spec.metas;
  const metaSize = LAYOUT.sf_lpm_meta.size;
  const blocks: Uint32Array[] = [];
  const metaKeys = new Uint32Array(metaCount);
  const metaValues = new Uint8Array(metaCount * metaSize);
  const roots: Array<{ dir: number; cells: Uint32Array }> = [];
  let meta = 0;

  /** The block below cells[i], made on first use with the cell's leaf in every slot (the longer prefixes then overwrite theirs). */
  const below = (cells: Uint32Array, i: number): Uint32Array => {
    const v = cells[i]!;
    if (v & CHILD) return blocks[((v & ~CHILD) - poolStart) / BLOCK]!;
    if (blocks.length === spec.blocks) checkPrefixTableCapacity(spec, dirs);
    const block = new Uint32Array(BLOCK).fill(v);
    cells[i] = (CHILD | (poolStart + blocks.length * BLOCK)) >>> 0;
    blocks.push(block);
    return block;
  };

  for (const { dir, entries } of dirs) {
    if (entries.length === 0) continue;
    const root = new Uint32Array(ROOT);
    roots.push({ dir, cells: root });
    // Shorter prefixes first: a longer one then overwrites the cells it covers.
    const order = [...entries].sort((x, y) => x.prefixLen - y.prefixLen);
    for (const e of order) {
      const len = e.prefixLen;
      if (!Number.isInteger(len) || len < 0 || len > spec.bytes * 8 || e.addr.length !== spec.bytes) {
        throw new SecuxflowError('E_INTERNAL', `an ${spec.family} prefix table entry must be an ${spec.family} prefix /0 to /${spec.bytes * 8}, got /${len} of ${e.addr.length} bytes`);
      }
      const leaf = metaBase + meta + 1;
      metaKeys[meta] = metaBase + meta;
      metaValues.set(e.value.subarray(0, metaSize), meta * metaSize);
      meta++;
      const top = (e.addr[0]! << 8) | e.addr[1]!;
      if (len <= 16) {
        const start = top & ((0xffff << (16 - len)) & 0xffff);
        root.fill(leaf, start, start + (1 << (16 - len)));
        continue;
      }
      const last = lastByte(len);
      let cells: Uint32Array = root;
      let i = top;
      for (let k = 2; k <= last; k++) {
        cells = below(cells, i);
        i = e.addr[k]!;
      }
      const keep = len - 8 * last; // 1..8 bits of the last byte
      const start = i & ((0xff << (8 - keep)) & 0xff);
      cells.fill(leaf, start, start + (1 << (8 - keep)));
    }
  }

  const count = roots.length * ROOT + blocks.length * BLOCK;
  const cellKeys = new Uint32Array(count);
  const cellValues = new Uint32Array(count);
  let n = 0;
  for (const { dir, cells } of roots) {
    for (let i = 0; i < ROOT; i++) cellKeys[n + i] = cidrRootIndex(gen, dir, i);
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
 * Writes generation `gen` of a table: metas first, then blocks and roots in
 * one batch. Only cells of `gen` change, and packets do not read `gen` until
 * its header says it has prefixes, which the caller writes after this.
 */
export function writePrefixTable(spec: PrefixTableSpec, fds: { table: number; meta: number }, gen: number, dirs: readonly PrefixDirection[]): void {
  const img = buildPrefixTable(spec, gen, dirs);
  if (img.metaKeys.length === 0) return;
  const bytes = (a: Uint32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const metas = mapUpdateBatch(fds.meta, bytes(img.metaKeys), img.metaValues, img.metaKeys.length);
  if (metas !== img.metaKeys.length) throw new SecuxflowError('E_KERNEL', `only ${metas} of ${img.metaKeys.length} ${spec.family} prefix entries reached the kernel`);
  const cells = mapUpdateBatch(fds.table, bytes(img.cellKeys), bytes(img.cellValues), img.cellKeys.length);
  if (cells !== img.cellKeys.length) throw new SecuxflowError('E_KERNEL', `only ${cells} of ${img.cellKeys.length} ${spec.family} prefix table cells reached the kernel`);
}
