// Open-addressing map from u64 keys to i32 values (u32 keys fit too). Linear
// probing over a power-of-two table keeps lookups to one or two cache lines.
// A delete moves the rest of its probe run back into the hole (as FlowMap's
// does) instead of leaving a tombstone, so a table whose keys churn (KeySlots
// evicting one source for each new one under a spoofed flood) is never
// rebuilt: its arrays are only reallocated to grow. Flat StaticArrays, no
// per-entry objects, so a lookup on the packet path allocates nothing.
import { fillsHole, tableHash } from "./hash";

const EMPTY: u8 = 0;
const FULL: u8 = 1;

export class U64Map {
  private keys: StaticArray<u64>;
  private vals: StaticArray<i32>;
  private ctrl: StaticArray<u8>;
  private mask: i32;
  private count: i32 = 0;

  constructor(initialCapacity: i32 = 16) {
    let cap = 8;
    while (cap < initialCapacity * 2) cap <<= 1;
    this.keys = new StaticArray<u64>(cap);
    this.vals = new StaticArray<i32>(cap);
    this.ctrl = new StaticArray<u8>(cap);
    this.mask = cap - 1;
  }

  get size(): i32 { return this.count; }

  /** Slot of key, or -1. */
  private find(key: u64): i32 {
    const mask = this.mask;
    let i = <i32>tableHash(key) & mask;
    while (true) {
      if (unchecked(this.ctrl[i]) == EMPTY) return -1;
      if (unchecked(this.keys[i]) == key) return i;
      i = (i + 1) & mask;
    }
  }

  has(key: u64): bool { return this.find(key) >= 0; }

  /** Value of key, or dflt when absent. */
  get(key: u64, dflt: i32 = -1): i32 {
    const i = this.find(key);
    return i < 0 ? dflt : unchecked(this.vals[i]);
  }

  set(key: u64, value: i32): void {
    const i = this.find(key);
    if (i >= 0) { unchecked(this.vals[i] = value); return; }
    if ((this.count + 1) * 4 > (this.mask + 1) * 3) this.rehash((this.mask + 1) * 2);
    const mask = this.mask;
    let j = <i32>tableHash(key) & mask;
    while (unchecked(this.ctrl[j]) == FULL) j = (j + 1) & mask;
    unchecked(this.ctrl[j] = FULL);
    unchecked(this.keys[j] = key);
    unchecked(this.vals[j] = value);
    this.count++;
  }

  delete(key: u64): bool {
    let hole = this.find(key);
    if (hole < 0) return false;
    const mask = this.mask;
    let j = hole;
    while (true) {
      j = (j + 1) & mask;
      if (unchecked(this.ctrl[j]) == EMPTY) break;
      const k = unchecked(this.keys[j]);
      if (fillsHole(k, hole, j, mask)) {
        unchecked(this.keys[hole] = k);
        unchecked(this.vals[hole] = unchecked(this.vals[j]));
        hole = j;
      }
    }
    unchecked(this.ctrl[hole] = EMPTY);
    this.count--;
    return true;
  }

  clear(): void {
    for (let i = 0, n = this.ctrl.length; i < n; i++) unchecked(this.ctrl[i] = EMPTY);
    this.count = 0;
  }

  private rehash(cap: i32): void {
    const oldKeys = this.keys;
    const oldVals = this.vals;
    const oldCtrl = this.ctrl;
    this.keys = new StaticArray<u64>(cap);
    this.vals = new StaticArray<i32>(cap);
    this.ctrl = new StaticArray<u8>(cap);
    this.mask = cap - 1;
    this.count = 0;
    for (let i = 0, n = oldCtrl.length; i < n; i++) {
      if (unchecked(oldCtrl[i]) == FULL) this.set(unchecked(oldKeys[i]), unchecked(oldVals[i]));
    }
  }
}
