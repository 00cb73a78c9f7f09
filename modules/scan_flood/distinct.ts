// Distinct (key, port) pairs per key in a sliding window: a pair counts once
// per window however often it repeats, so a client retrying one port stays
// at 1 while a scanner climbs with every new port.
//
// Pairs live in a fixed two-way set-associative table (no growth, no
// allocation after construction): a spoofed flood can only evict pairs, and
// an evicted pair seen again is counted again, which errs toward detection.
// Per-key counts are the SDK's sliding-window counters.
import { SlidingWindowCounter, mix64 } from "../sdk/lib";

export class DistinctCounter {
  private tags: StaticArray<u64>;
  private seen: StaticArray<i64>;
  private mask: i32;
  private counts: SlidingWindowCounter;
  readonly windowNs: i64;

  /** pairSlots is rounded up to a power of two (two slots per set). */
  constructor(windowNs: i64, pairSlots: i32, keyCapacity: i32) {
    let n = 2;
    while (n < pairSlots) n <<= 1;
    this.tags = new StaticArray<u64>(n);
    this.seen = new StaticArray<i64>(n);
    this.mask = (n >> 1) - 1;
    const counts = new SlidingWindowCounter(windowNs, 10, keyCapacity);
    this.counts = counts;
    this.windowNs = counts.windowNs;
  }

  /** Records (key, value) at nowNs; returns the key's distinct values in the window. */
  add(key: u64, value: u32, nowNs: i64): i64 {
    let tag = mix64(key ^ (<u64>value << 40) ^ <u64>value);
    if (tag == 0) tag = 1; // 0 marks an empty slot
    const set = (<i32>tag & this.mask) << 1;
    let slot = -1;
    if (unchecked(this.tags[set]) == tag) slot = set;
    else if (unchecked(this.tags[set + 1]) == tag) slot = set + 1;
    let fresh = false;
    if (slot < 0) {
      // replace the slot seen longest ago
      slot = unchecked(this.seen[set]) <= unchecked(this.seen[set + 1]) ? set : set + 1;
      unchecked(this.tags[slot] = tag);
      fresh = true;
    } else if (nowNs - unchecked(this.seen[slot]) >= this.windowNs) fresh = true;
    unchecked(this.seen[slot] = nowNs);
    return fresh ? this.counts.add(key, nowNs, 1) : this.counts.count(key, nowNs);
  }
}
