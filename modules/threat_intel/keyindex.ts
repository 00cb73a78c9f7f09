// A read-mostly set of byte keys with a small value per key, built once at
// load time: keys live in one arena, a sorted array of (hash, index) pairs
// answers exact lookups by binary search, and a Bloom filter in front turns
// almost every miss into a few bit tests. No hash table with 2x slack, so
// 100k+ keys stay within the module's 16 MiB memory.
import { BloomFilter, fnv1a64 } from "../sdk/lib";

/** Largest number of keys one index holds (the sorted words keep 20 bits for the index). */
export const MAX_KEYS: i32 = (1 << 20) - 1;

export class KeyIndex {
  private arena: Uint8Array = new Uint8Array(1024);
  private used: i32 = 0;
  private offs: Array<i32> = [];
  private vals: Array<u8> = [];
  private sorted: StaticArray<u64> = new StaticArray<u64>(0);
  private bloom: BloomFilter = new BloomFilter(1);
  private sealed: bool = false;

  get size(): i32 { return this.offs.length; }
  get full(): bool { return this.offs.length >= MAX_KEYS; }
  /** Bytes held by the index (arena, offsets, sorted words, Bloom bits). */
  get footprint(): i32 { return this.arena.length + this.offs.length * 5 + this.sorted.length * 8 + <i32>(this.bloom.bits / 8); }

  /** Adds a key (at most 255 bytes) with value bits; false when full or the key is too long. */
  add(ptr: usize, len: i32, value: u8): bool {
    if (len > 255 || len < 0 || this.full) return false;
    if (this.used + len + 1 > this.arena.length) {
      let cap = this.arena.length * 2;
      while (cap < this.used + len + 1) cap *= 2;
      const bigger = new Uint8Array(cap);
      memory.copy(bigger.dataStart, this.arena.dataStart, <usize>this.used);
      this.arena = bigger;
    }
    const at = this.arena.dataStart + <usize>this.used;
    store<u8>(at, <u8>len);
    memory.copy(at + 1, ptr, <usize>len);
    this.offs.push(this.used);
    this.vals.push(value);
    this.used += len + 1;
    this.sealed = false;
    return true;
  }

  /** Builds the sorted words and the Bloom filter; lookups need it. */
  seal(): void {
    const n = this.offs.length;
    const words = new StaticArray<u64>(n);
    const bloom = new BloomFilter(n, 0.01);
    const base = this.arena.dataStart;
    for (let i = 0; i < n; i++) {
      const p = base + <usize>unchecked(this.offs[i]);
      const len = <i32>load<u8>(p);
      const h = fnv1a64(p + 1, len);
      bloom.add(p + 1, len);
      unchecked(words[i] = (h & ~(<u64>MAX_KEYS)) | <u64>i);
    }
    heapSort(words);
    this.sorted = words;
    this.bloom = bloom;
    this.sealed = true;
  }

  /** OR of the values of every stored copy of the key; 0 when absent (or not sealed). */
  get(ptr: usize, len: i32): u8 {
    if (!this.sealed || !this.bloom.mayContain(ptr, len)) return 0;
    const want = fnv1a64(ptr, len) & ~(<u64>MAX_KEYS);
    const words = this.sorted;
    let lo = 0;
    let hi = words.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((unchecked(words[mid]) & ~(<u64>MAX_KEYS)) < want) lo = mid + 1; else hi = mid;
    }
    let out: u8 = 0;
    const base = this.arena.dataStart;
    for (let i = lo; i < words.length; i++) {
      const w = unchecked(words[i]);
      if ((w & ~(<u64>MAX_KEYS)) != want) break;
      const idx = <i32>(w & <u64>MAX_KEYS);
      const p = base + <usize>unchecked(this.offs[idx]);
      if (<i32>load<u8>(p) == len && memory.compare(p + 1, ptr, <usize>len) == 0) out |= unchecked(this.vals[idx]);
    }
    return out;
  }
}

// In place, no recursion, no extra memory: fine for a one-off sort at load.
function heapSort(a: StaticArray<u64>): void {
  const n = a.length;
  for (let i = (n >> 1) - 1; i >= 0; i--) siftDown(a, i, n);
  for (let end = n - 1; end > 0; end--) {
    const t = unchecked(a[0]);
    unchecked(a[0] = unchecked(a[end]));
    unchecked(a[end] = t);
    siftDown(a, 0, end);
  }
}

function siftDown(a: StaticArray<u64>, i: i32, n: i32): void {
  const v = unchecked(a[i]);
  while (true) {
    let c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && unchecked(a[c + 1]) > unchecked(a[c])) c++;
    if (unchecked(a[c]) <= v) break;
    unchecked(a[i] = unchecked(a[c]));
    i = c;
  }
  unchecked(a[i] = v);
}
