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
  private hashes: Array<u32> = [];
  private offsets: Array<u32> = [];
  private lengths: Array<u8> = [];
  private flags: Array<u8> = [];
  private arena: Uint8Array = new Uint8Array(1024);
  private used: i32 = 0;

  get size(): i32 { return this.hashes.length; }
  /** Bytes held by the set's arrays (what 100k entries cost). */
  get footprint(): i32 { return this.table.length * 4 + this.hashes.length * 10 + this.arena.length; }

  /** Adds a lower-case name (no trailing dot, 1..253 bytes) with DomainFlag bits; flags of a repeated name are merged. */
  add(ptr: usize, len: i32, flags: u8): void {
    let h = FNV_OFFSET;
    for (let i = len - 1; i >= 0; i--) h = step(h, load<u8>(ptr + <usize>i));
    const found = this.find(h, ptr, len);
    if (found >= 0) { this.flags[found] = this.flags[found] | flags; return; }
    if ((this.hashes.length + 1) * 2 > this.table.length) this.grow();
    if (this.used + len > this.arena.length) {
      let cap = this.arena.length * 2;
      while (cap < this.used + len) cap *= 2;
      const bigger = new Uint8Array(cap);
      memory.copy(bigger.dataStart, this.arena.dataStart, <usize>this.used);
      this.arena = bigger;
    }
    memory.copy(this.arena.dataStart + <usize>this.used, ptr, <usize>len);
    const entry = this.hashes.length;
    this.hashes.push(h);
    this.offsets.push(<u32>this.used);
    this.lengths.push(<u8>len);
    this.flags.push(flags);
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
    if (this.hashes.length == 0 || len <= 0) return -1;
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
    return String.UTF8.decodeUnsafe(this.arena.dataStart + <usize>this.offsets[e], <usize>this.lengths[e]);
  }

  entryFlags(e: i32): u8 { return this.flags[e]; }

  private find(h: u32, ptr: usize, len: i32): i32 {
    let slot = <i32>(spread(h) & <u32>this.mask);
    while (true) {
      const v = unchecked(this.table[slot]);
      if (v == 0) return -1;
      const e = v - 1;
      if (unchecked(this.hashes[e]) == h && <i32>unchecked(this.lengths[e]) == len &&
          memory.compare(this.arena.dataStart + <usize>unchecked(this.offsets[e]), ptr, <usize>len) == 0) return e;
      slot = (slot + 1) & this.mask;
    }
  }

  private place(entry: i32): void {
    let slot = <i32>(spread(this.hashes[entry]) & <u32>this.mask);
    while (unchecked(this.table[slot]) != 0) slot = (slot + 1) & this.mask;
    unchecked(this.table[slot] = entry + 1);
  }

  private grow(): void {
    const cap = this.table.length * 2;
    this.table = new StaticArray<i32>(cap);
    this.mask = cap - 1;
    for (let e = 0, n = this.hashes.length; e < n; e++) this.place(e);
  }
}
