// Open-addressing map from byte strings to i32 values; a set is the same map
// with the values ignored. Keys are copied into one growing arena, so entries
// cost no objects and a lookup from packet memory (ptr, len) allocates nothing.
// With noCase, keys are stored and compared ASCII-lower-cased.
import { fnv1a64, fnv1a64NoCase } from "./hash";

const EMPTY: u8 = 0;
const FULL: u8 = 1;
const TOMB: u8 = 2;

export class BytesMap {
  readonly noCase: bool;
  // Set by allocate(), from the constructor and on every rehash.
  private hashes!: StaticArray<u32>;
  private offs!: StaticArray<i32>;
  private lens!: StaticArray<i32>;
  private vals!: StaticArray<i32>;
  private ctrl!: StaticArray<u8>;
  private mask: i32 = 0;
  private used: i32 = 0;
  private count: i32 = 0;
  private arena: Uint8Array;
  private arenaUsed: i32 = 0;

  constructor(initialCapacity: i32 = 16, noCase: bool = false) {
    this.noCase = noCase;
    let cap = 8;
    while (cap < initialCapacity * 2) cap <<= 1;
    this.arena = new Uint8Array(256);
    this.allocate(cap);
  }

  /** Empty slot arrays of cap (a power of two) entries. */
  private allocate(cap: i32): void {
    this.hashes = new StaticArray<u32>(cap);
    this.offs = new StaticArray<i32>(cap);
    this.lens = new StaticArray<i32>(cap);
    this.vals = new StaticArray<i32>(cap);
    this.ctrl = new StaticArray<u8>(cap);
    this.mask = cap - 1;
  }

  get size(): i32 { return this.count; }

  @inline private hashOf(ptr: usize, len: i32): u64 {
    return this.noCase ? fnv1a64NoCase(ptr, len) : fnv1a64(ptr, len);
  }

  private equals(slot: i32, ptr: usize, len: i32): bool {
    if (unchecked(this.lens[slot]) != len) return false;
    const k = this.arena.dataStart + <usize>unchecked(this.offs[slot]);
    if (!this.noCase) return memory.compare(k, ptr, <usize>len) == 0;
    for (let i = 0; i < len; i++) {
      let c = load<u8>(ptr + <usize>i);
      if (<u8>(c - 65) < 26) c |= 0x20;
      if (load<u8>(k + <usize>i) != c) return false;
    }
    return true;
  }

  private find(ptr: usize, len: i32, h: u64): i32 {
    const mask = this.mask;
    const tag = <u32>(h >> 32);
    let i = <i32>h & mask;
    while (true) {
      const c = unchecked(this.ctrl[i]);
      if (c == EMPTY) return -1;
      if (c == FULL && unchecked(this.hashes[i]) == tag && this.equals(i, ptr, len)) return i;
      i = (i + 1) & mask;
    }
  }

  has(ptr: usize, len: i32): bool { return len >= 0 && this.find(ptr, len, this.hashOf(ptr, len)) >= 0; }

  get(ptr: usize, len: i32, dflt: i32 = -1): i32 {
    if (len < 0) return dflt;
    const i = this.find(ptr, len, this.hashOf(ptr, len));
    return i < 0 ? dflt : unchecked(this.vals[i]);
  }

  set(ptr: usize, len: i32, value: i32): void {
    if (len < 0) return;
    const h = this.hashOf(ptr, len);
    const i = this.find(ptr, len, h);
    if (i >= 0) { unchecked(this.vals[i] = value); return; }
    if ((this.used + 1) * 4 > (this.mask + 1) * 3) {
      this.rehash(this.count * 2 + 2 > (this.mask + 1) / 2 ? (this.mask + 1) * 2 : this.mask + 1);
    }
    this.insert(h, this.store(ptr, len), len, value);
  }

  delete(ptr: usize, len: i32): bool {
    if (len < 0) return false;
    const i = this.find(ptr, len, this.hashOf(ptr, len));
    if (i < 0) return false;
    unchecked(this.ctrl[i] = TOMB);
    this.count--;
    return true;
  }

  // Conveniences for keys built at init time (config strings).
  setBytes(key: Uint8Array, value: i32): void { this.set(key.dataStart, key.length, value); }
  hasBytes(key: Uint8Array): bool { return this.has(key.dataStart, key.length); }
  getBytes(key: Uint8Array, dflt: i32 = -1): i32 { return this.get(key.dataStart, key.length, dflt); }
  setString(key: string, value: i32): void {
    const b = String.UTF8.encode(key);
    this.set(changetype<usize>(b), b.byteLength, value);
  }
  hasString(key: string): bool {
    const b = String.UTF8.encode(key);
    return this.has(changetype<usize>(b), b.byteLength);
  }

  private insert(h: u64, off: i32, len: i32, value: i32): void {
    const mask = this.mask;
    let j = <i32>h & mask;
    while (unchecked(this.ctrl[j]) == FULL) j = (j + 1) & mask;
    if (unchecked(this.ctrl[j]) == EMPTY) this.used++;
    unchecked(this.ctrl[j] = FULL);
    unchecked(this.hashes[j] = <u32>(h >> 32));
    unchecked(this.offs[j] = off);
    unchecked(this.lens[j] = len);
    unchecked(this.vals[j] = value);
    this.count++;
  }

  /** Copies the key (lower-cased under noCase) into the arena; returns its offset. */
  private store(ptr: usize, len: i32): i32 {
    if (this.arenaUsed + len > this.arena.length) {
      let cap = this.arena.length * 2;
      while (cap < this.arenaUsed + len) cap *= 2;
      const bigger = new Uint8Array(cap);
      memory.copy(bigger.dataStart, this.arena.dataStart, <usize>this.arenaUsed);
      this.arena = bigger;
    }
    const off = this.arenaUsed;
    const dst = this.arena.dataStart + <usize>off;
    for (let i = 0; i < len; i++) {
      let c = load<u8>(ptr + <usize>i);
      if (this.noCase && <u8>(c - 65) < 26) c |= 0x20;
      store<u8>(dst + <usize>i, c);
    }
    this.arenaUsed += len;
    return off;
  }

  // Rebuilds the table and compacts the arena, dropping deleted keys' bytes.
  private rehash(cap: i32): void {
    const oldArena = this.arena;
    const oldOffs = this.offs;
    const oldLens = this.lens;
    const oldVals = this.vals;
    const oldCtrl = this.ctrl;
    this.allocate(cap);
    this.used = 0;
    this.count = 0;
    this.arena = new Uint8Array(max(256, this.arenaUsed));
    this.arenaUsed = 0;
    for (let i = 0, n = oldCtrl.length; i < n; i++) {
      if (unchecked(oldCtrl[i]) != FULL) continue;
      const len = unchecked(oldLens[i]);
      const src = oldArena.dataStart + <usize>unchecked(oldOffs[i]);
      const h = this.hashOf(src, len);
      this.insert(h, this.store(src, len), len, unchecked(oldVals[i]));
    }
  }
}
