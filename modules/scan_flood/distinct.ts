// Distinct (key, value) pairs per key in a sliding window: a pair counts once
// per window however often it repeats, so a client retrying one port stays
// at 1 while a scanner climbs with every new port.
//
// Pairs live in a fixed two-way set-associative table (no growth, no
// allocation after construction): a spoofed flood can only evict pairs, and
// an evicted pair seen again is counted again, which errs toward detection.
// Per-key counts are the SDK's sliding-window counters.
//
// A pair can also be settled (the probe was answered: a completed
// handshake, a UDP reply): it then leaves its key's count and is not counted again until its
// window is over, so a count can mean "probes nobody answered".
import { SlidingWindowCounter, mix64 } from "../sdk/lib";

export class DistinctCounter {
  private tags: StaticArray<u64>;
  /**
   * When the pair's +1 went in (a pair counts again once that is a window
   * ago, and a settle's -1 goes into the same bucket); stored as -1 - time
   * once the pair is settled.
   */
  private since: StaticArray<i64>;
  private mask: i32;
  private counts: SlidingWindowCounter;
  readonly windowNs: i64;

  /** pairSlots is rounded up to a power of two (two slots per set). */
  constructor(windowNs: i64, pairSlots: i32, keyCapacity: i32) {
    let n = 2;
    while (n < pairSlots) n <<= 1;
    this.tags = new StaticArray<u64>(n);
    this.since = new StaticArray<i64>(n);
    this.mask = (n >> 1) - 1;
    const counts = new SlidingWindowCounter(windowNs, 10, keyCapacity);
    this.counts = counts;
    this.windowNs = counts.windowNs;
  }

  /** Records (key, value) at nowNs; returns the key's distinct unsettled values in the window. */
  add(key: u64, value: u32, nowNs: i64): i64 {
    const tag = pairTag(key, value);
    const set = (<i32>tag & this.mask) << 1;
    let slot = this.slotOf(set, tag);
    if (slot < 0) {
      // replace the slot counted longest ago
      slot = timeOf(unchecked(this.since[set])) <= timeOf(unchecked(this.since[set + 1])) ? set : set + 1;
      unchecked(this.tags[slot] = tag);
    } else if (nowNs - timeOf(unchecked(this.since[slot])) < this.windowNs) {
      return this.count(key, nowNs);
    }
    unchecked(this.since[slot] = nowNs);
    return atLeastZero(this.counts.add(key, nowNs, 1));
  }

  /**
   * Takes (key, value) out of its key's count, once, when the pair was
   * counted in this window. The -1 goes into the bucket that holds the +1
   * (while that bucket is surely still in the window), so an answer never
   * leaves credit behind that a later probe would use up.
   */
  settle(key: u64, value: u32, nowNs: i64): void {
    const tag = pairTag(key, value);
    const slot = this.slotOf((<i32>tag & this.mask) << 1, tag);
    if (slot < 0) return;
    const since = unchecked(this.since[slot]);
    if (since < 0) return;
    unchecked(this.since[slot] = -1 - since);
    if (nowNs < since || nowNs - since >= this.windowNs - 2 * this.counts.bucketNs) return;
    if (this.counts.count(key, nowNs) > 0) this.counts.add(key, since, -1);
  }

  /** The key's distinct unsettled values in the window ending at nowNs. */
  count(key: u64, nowNs: i64): i64 { return atLeastZero(this.counts.count(key, nowNs)); }

  @inline private slotOf(set: i32, tag: u64): i32 {
    if (unchecked(this.tags[set]) == tag) return set;
    if (unchecked(this.tags[set + 1]) == tag) return set + 1;
    return -1;
  }
}

@inline function pairTag(key: u64, value: u32): u64 {
  const tag = mix64(key ^ (<u64>value << 40) ^ <u64>value);
  return tag == 0 ? 1 : tag; // 0 marks an empty slot
}

@inline function timeOf(since: i64): i64 { return since < 0 ? -1 - since : since; }

// A settle whose +1 the key lost to eviction can take another pair's +1 away
// and leave a bucket below zero; a count never shows it.
@inline function atLeastZero(n: i64): i64 { return n < 0 ? 0 : n; }
