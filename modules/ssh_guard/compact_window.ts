// A per-source sliding-window count for long windows (an hour, a day) kept in
// 28 bytes a source: 12 saturating u16 buckets and the u32 bucket number last
// written. The SDK's SlidingWindowCounter keeps i64 buckets and an i64 epoch
// (104 bytes a source), which is more than a long horizon needs: counts that
// matter here are in the hundreds, and a u32 bucket number of at least 5 s
// lasts for centuries. Slots come from KeySlots, so the table is bounded and
// evicts sources seen once before sources that keep coming back.
import { KeySlots } from "../sdk/lib/keyslots";

const BUCKETS: i32 = 12;
const SATURATED: u32 = 0xffff;

export class CompactWindow {
  readonly bucketNs: i64;
  private slots: KeySlots;
  private counts: StaticArray<u16>;
  private epochs: StaticArray<u32>;

  /** windowNs is rounded up to a multiple of 12 buckets. */
  constructor(windowNs: i64, capacity: i32) {
    const width = (windowNs + <i64>BUCKETS - 1) / <i64>BUCKETS;
    const slots = new KeySlots(capacity);
    this.bucketNs = width < 1 ? 1 : width;
    this.slots = slots;
    this.counts = new StaticArray<u16>(slots.capacity * BUCKETS);
    this.epochs = new StaticArray<u32>(slots.capacity);
  }

  get windowS(): i64 { return this.bucketNs * <i64>BUCKETS / 1_000_000_000; }
  get keys(): i32 { return this.slots.size; }
  get evictions(): i64 { return this.slots.evictions; }

  /** Adds one event for key at nowNs; returns the key's count in the window ending now. */
  add(key: u64, nowNs: i64): i32 {
    const slot = this.slots.slotFor(key);
    const epoch = <u32>(nowNs / this.bucketNs);
    const base = slot * BUCKETS;
    if (this.slots.fresh) {
      for (let i = 0; i < BUCKETS; i++) unchecked(this.counts[base + i] = 0);
      unchecked(this.epochs[slot] = epoch);
    } else {
      this.advance(slot, epoch);
    }
    const b = base + <i32>(epoch % <u32>BUCKETS);
    const c = <u32>unchecked(this.counts[b]);
    if (c < SATURATED) unchecked(this.counts[b] = <u16>(c + 1));
    return this.sum(base);
  }

  /** The key's count in the window ending at nowNs, 0 when unknown. */
  count(key: u64, nowNs: i64): i32 {
    const slot = this.slots.find(key);
    if (slot < 0) return 0;
    this.advance(slot, <u32>(nowNs / this.bucketNs));
    return this.sum(slot * BUCKETS);
  }

  // Packets out of order (time going back) count into the newest bucket.
  private advance(slot: i32, epoch: u32): void {
    const last = unchecked(this.epochs[slot]);
    if (epoch <= last) return;
    const base = slot * BUCKETS;
    const steps = epoch - last >= <u32>BUCKETS ? <u32>BUCKETS : epoch - last;
    for (let e: u32 = 1; e <= steps; e++) unchecked(this.counts[base + <i32>((last + e) % <u32>BUCKETS)] = 0);
    unchecked(this.epochs[slot] = epoch);
  }

  private sum(base: i32): i32 {
    let s: i32 = 0;
    for (let i = 0; i < BUCKETS; i++) s += <i32>unchecked(this.counts[base + i]);
    return s;
  }
}
