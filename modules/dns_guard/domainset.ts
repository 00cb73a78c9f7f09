// A set of domain names that answers "is this name, or a domain it lies
// under, listed?" in one backwards pass over the name. Entries are hashed
// from their last byte to their first, so while a lookup walks the queried
// name backwards, the running hash at each label boundary is exactly the hash
// of that suffix: every candidate suffix costs one table probe, no rehashing
// and no allocation. Entries live in one byte arena (no object per domain),
// which keeps 100k+ entries within a few MiB.

export namespace DomainFlag {
  /** The listed name itself matches. */
  export const SELF: u8 = 1;
  /** Every name below the listed one matches. */
  export const BELOW: u8 = 2;
}

const FNV_OFFSET: u32 = 0x811c9dc5;
const FNV_PRIME: u32 = 0x01000193;

@inline function step(h: u32, c: u8): u32 { return (h ^ <u32>c) * FNV_PRIME; }

@inline function spread(h: u32): u32 {
  // FNV's low bits are weak for short keys; a bijective mix before masking.
  h ^= h >> 16; h *= 0x7feb352d; h ^= h >> 15; h *= 0x846ca68b; h ^= h >> 16;
  return h;
}

export class DomainSet {
  private table: StaticArray<i32> = new StaticArray<i32>(16);
  private mask: i32 = 15;
  private count: i32 = 0;
  // Per entry: hash, arena offset, length and flags, in flat arrays sized by reserve().
  private hashes: StaticArray<u32> = new StaticArray<u32>(8);
  private offsets: StaticArray<u32> = new StaticArray<u32>(8);
  private lengths: StaticArray<u8> = new StaticArray<u8>(8);
  private flags: StaticArray<u8> = new StaticArray<u8>(8);
  private arena: StaticArray<u8> = new StaticArray<u8>(1024);
  private used: i32 = 0;

  get size(): i32 { return this.count; }
  /** Bytes held by the set's arrays (what 100k entries cost). */
  get footprint(): i32 { return this.table.length * 4 + this.hashes.length * 10 + this.arena.length; }

  /**
   * Makes room for `entries` more names totalling `bytes` bytes, so loading a
   * big list grows each array once instead of doubling (and copying) repeatedly.
   */
  reserve(entries: i32, bytes: i32): void {
    const need = this.count + entries;
    if (need > this.hashes.length) {
      this.hashes = grownU32(this.hashes, need, this.count);
      this.offsets = grownU32(this.offsets, need, this.count);
      this.lengths = grownU8(this.lengths, need, this.count);
      this.flags = grownU8(this.flags, need, this.count);
    }
    if (this.used + bytes > this.arena.length) this.arena = grownU8(this.arena, this.used + bytes, this.used);
    let cap = this.table.length;
    while (need * 2 > cap) cap *= 2;
    if (cap != this.table.length) this.rehash(cap);
  }

  /** Adds a lower-case name (no trailing dot, 1..253 bytes) with DomainFlag bits; flags of a repeated name are merged. */
  add(ptr: usize, len: i32, flags: u8): void {
    let h = FNV_OFFSET;
    for (let i = len - 1; i >= 0; i--) h = step(h, load<u8>(ptr + <usize>i));
    const found = this.find(h, ptr, len);
    if (found >= 0) { unchecked(this.flags[found] = unchecked(this.flags[found]) | flags); return; }
    if (this.count == this.hashes.length) this.reserve(this.count < 8 ? 8 : this.count, 0);
    if (this.used + len > this.arena.length) this.reserve(0, this.arena.length > len ? this.arena.length : len);
    if ((this.count + 1) * 2 > this.table.length) this.rehash(this.table.length * 2);
    memory.copy(changetype<usize>(this.arena) + <usize>this.used, ptr, <usize>len);
    const entry = this.count++;
    unchecked(this.hashes[entry] = h);
    unchecked(this.offsets[entry] = <u32>this.used);
    unchecked(this.lengths[entry] = <u8>len);
    unchecked(this.flags[entry] = flags);
    this.used += len;
    this.place(entry);
  }

  addString(name: string, flags: u8): void {
    const b = String.UTF8.encode(name);
    this.add(changetype<usize>(b), b.byteLength, flags);
  }

  /**
   * The entry matching a lower-case name of len bytes at ptr: the name itself
   * (needs SELF) or a parent domain at a label boundary (needs BELOW). Returns
   * the entry of the most general match, or -1.
   */
  match(ptr: usize, len: i32): i32 {
    if (this.count == 0 || len <= 0) return -1;
    let h = FNV_OFFSET;
    for (let i = len - 1; i >= 0; i--) {
      h = step(h, load<u8>(ptr + <usize>i));
      const whole = i == 0;
      if (!whole && load<u8>(ptr + <usize>(i - 1)) != 0x2e) continue;
      const e = this.find(h, ptr + <usize>i, len - i);
      if (e >= 0 && (unchecked(this.flags[e]) & (whole ? DomainFlag.SELF : DomainFlag.BELOW)) != 0) return e;
    }
    return -1;
  }

  /** The listed name of an entry returned by match(). */
  entryName(e: i32): string {
    return String.UTF8.decodeUnsafe(changetype<usize>(this.arena) + <usize>this.offsets[e], <usize>this.lengths[e]);
  }

  entryFlags(e: i32): u8 { return this.flags[e]; }

  private find(h: u32, ptr: usize, len: i32): i32 {
    let slot = <i32>(spread(h) & <u32>this.mask);
    while (true) {
      const v = unchecked(this.table[slot]);
      if (v == 0) return -1;
      const e = v - 1;
      if (unchecked(this.hashes[e]) == h && <i32>unchecked(this.lengths[e]) == len &&
          memory.compare(changetype<usize>(this.arena) + <usize>unchecked(this.offsets[e]), ptr, <usize>len) == 0) return e;
      slot = (slot + 1) & this.mask;
    }
  }

  private place(entry: i32): void {
    let slot = <i32>(spread(this.hashes[entry]) & <u32>this.mask);
    while (unchecked(this.table[slot]) != 0) slot = (slot + 1) & this.mask;
    unchecked(this.table[slot] = entry + 1);
  }

  private rehash(cap: i32): void {
    this.table = new StaticArray<i32>(cap);
    this.mask = cap - 1;
    for (let e = 0, n = this.count; e < n; e++) this.place(e);
  }
}

function grownU32(a: StaticArray<u32>, cap: i32, keep: i32): StaticArray<u32> {
  const b = new StaticArray<u32>(cap);
  memory.copy(changetype<usize>(b), changetype<usize>(a), <usize>keep << 2);
  return b;
}

function grownU8(a: StaticArray<u8>, cap: i32, keep: i32): StaticArray<u8> {
  const b = new StaticArray<u8>(cap);
  memory.copy(changetype<usize>(b), changetype<usize>(a), <usize>keep);
  return b;
}
