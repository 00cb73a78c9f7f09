// Per-key sliding-window counters with fixed buckets: the window of
// `buckets * bucketNs` nanoseconds is cut into buckets, and a count is the sum
// of the buckets still inside it. Old buckets are cleared lazily when a key is
// touched, so cost per event is O(1) amortised and memory is
// capacity * buckets i64s, fixed at construction.
import { KeySlots } from "./keyslots";

export class SlidingWindowCounter {
  readonly buckets: i32;
  readonly bucketNs: i64;
  private slots: KeySlots;
  private counts: StaticArray<i64>;
  /** Absolute bucket number last written, per slot. */
  private epochs: StaticArray<i64>;

  /** windowNs is rounded up to a multiple of buckets. */
  constructor(windowNs: i64, buckets: i32, capacity: i32) {
    const n = buckets < 1 ? 1 : buckets;
    const width = (windowNs + <i64>n - 1) / <i64>n;
    const slots = new KeySlots(capacity);
    this.slots = slots;
    this.counts = new StaticArray<i64>(slots.capacity * n);
    this.epochs = new StaticArray<i64>(slots.capacity);
    this.buckets = n;
    this.bucketNs = width < 1 ? 1 : width;
  }

  get windowNs(): i64 { return this.bucketNs * <i64>this.buckets; }
  get evictions(): i64 { return this.slots.evictions; }
  get keys(): i32 { return this.slots.size; }

  /** Adds n events for key at nowNs; returns the key's count in the window ending now. */
  add(key: u64, nowNs: i64, n: i64 = 1): i64 {
    const slot = this.slots.slotFor(key);
    const epoch = nowNs / this.bucketNs;
    const base = slot * this.buckets;
    if (this.slots.fresh) {
      for (let i = 0; i < this.buckets; i++) unchecked(this.counts[base + i] = 0);
      unchecked(this.epochs[slot] = epoch);
    } else {
      this.advance(slot, epoch);
    }
    const b = base + <i32>(epoch % <i64>this.buckets);
    unchecked(this.counts[b] = unchecked(this.counts[b]) + n);
    return this.sum(base);
  }

  /** The key's count in the window ending at nowNs (0 when unknown). */
  count(key: u64, nowNs: i64): i64 {
    const slot = this.slots.find(key);
    if (slot < 0) return 0;
    this.advance(slot, nowNs / this.bucketNs);
    return this.sum(slot * this.buckets);
  }

  // Clears the buckets that left the window since the slot's last write. Time
  // going backwards (packets out of order) counts into the current bucket.
  private advance(slot: i32, epoch: i64): void {
    const last = unchecked(this.epochs[slot]);
    if (epoch <= last) return;
    const base = slot * this.buckets;
    const steps = epoch - last >= <i64>this.buckets ? <i64>this.buckets : epoch - last;
    for (let e: i64 = 1; e <= steps; e++) {
      unchecked(this.counts[base + <i32>((last + e) % <i64>this.buckets)] = 0);
    }
    unchecked(this.epochs[slot] = epoch);
  }

  private sum(base: i32): i64 {
    let s: i64 = 0;
    for (let i = 0; i < this.buckets; i++) s += unchecked(this.counts[base + i]);
    return s;
  }
}
