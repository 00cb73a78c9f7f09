// Bloom filter: a compact "certainly absent / maybe present" pre-check before
// an exact lookup (IOC lists of 100k+ entries). Bit positions come from one
// 64-bit FNV-1a hash split into two halves (Kirsch–Mitzenmacher double hashing),
// so a query hashes the key once whatever k is.
import { fnv1a64, fnv1a64NoCase, mix64 } from "./hash";

export class BloomFilter {
  readonly bits: u32;
  readonly hashes: i32;
  readonly noCase: bool;
  private words: StaticArray<u64>;
  private added: i32 = 0;

  /** Sized for `expected` items at false-positive rate `fpRate` (0 < fpRate < 1). */
  constructor(expected: i32, fpRate: f64 = 0.01, noCase: bool = false) {
    const n = <f64>max(expected, 1);
    const p = fpRate > 0 && fpRate < 1 ? fpRate : 0.01;
    const ln2 = Math.LN2;
    let m = Math.ceil(-n * Math.log(p) / (ln2 * ln2));
    if (m < 64) m = 64;
    if (m > 4294967232.0) m = 4294967232.0;
    const words = <i32>Math.ceil(m / 64);
    const bits = <u32>words * 64;
    const k = <i32>Math.round((<f64>bits / n) * ln2);
    this.words = new StaticArray<u64>(words);
    this.bits = bits;
    this.hashes = k < 1 ? 1 : k > 16 ? 16 : k;
    this.noCase = noCase;
  }

  get count(): i32 { return this.added; }

  @inline private keyHash(ptr: usize, len: i32): u64 {
    return this.noCase ? fnv1a64NoCase(ptr, len) : fnv1a64(ptr, len);
  }

  add(ptr: usize, len: i32): void { this.addHash(this.keyHash(ptr, len)); }
  mayContain(ptr: usize, len: i32): bool { return this.testHash(this.keyHash(ptr, len)); }
  addU64(key: u64): void { this.addHash(mix64(key)); }
  mayContainU64(key: u64): bool { return this.testHash(mix64(key)); }
  addBytes(key: Uint8Array): void { this.add(key.dataStart, key.length); }
  mayContainBytes(key: Uint8Array): bool { return this.mayContain(key.dataStart, key.length); }

  clear(): void {
    for (let i = 0, n = this.words.length; i < n; i++) unchecked(this.words[i] = 0);
    this.added = 0;
  }

  private addHash(h: u64): void {
    const h1 = <u32>h;
    const h2 = <u32>(h >> 32) | 1;
    for (let i = 0; i < this.hashes; i++) {
      const bit = (h1 + <u32>i * h2) % this.bits;
      const w = bit >> 6;
      unchecked(this.words[w] = unchecked(this.words[w]) | (<u64>1 << <u64>(bit & 63)));
    }
    this.added++;
  }

  private testHash(h: u64): bool {
    const h1 = <u32>h;
    const h2 = <u32>(h >> 32) | 1;
    for (let i = 0; i < this.hashes; i++) {
      const bit = (h1 + <u32>i * h2) % this.bits;
      if ((unchecked(this.words[bit >> 6]) & (<u64>1 << <u64>(bit & 63))) == 0) return false;
    }
    return true;
  }
}
