// Distinct (source, port) pairs per source in a sliding window: a pair counts
// once per window however often it repeats, so a client retrying one port
// stays at 1 while a scanner climbs with every new port. Pair memory is a
// fixed KeySlots table (CLOCK eviction), so spoofed floods cannot grow it.
import { KeySlots, SlidingWindowCounter, mix64 } from "../sdk/lib";

export class DistinctCounter {
  private pairs: KeySlots;
  private lastSeen: StaticArray<i64>;
  private counts: SlidingWindowCounter;
  readonly windowNs: i64;

  constructor(windowNs: i64, pairCapacity: i32, sourceCapacity: i32) {
    const pairs = new KeySlots(pairCapacity);
    const counts = new SlidingWindowCounter(windowNs, 10, sourceCapacity);
    this.pairs = pairs;
    this.counts = counts;
    this.lastSeen = new StaticArray<i64>(pairs.capacity);
    this.windowNs = counts.windowNs;
  }

  /** Records (key, value) at nowNs; returns the key's distinct values in the window. */
  add(key: u64, value: u32, nowNs: i64): i64 {
    const slot = this.pairs.slotFor(mix64(key ^ (<u64>value << 40) ^ <u64>value));
    const fresh = this.pairs.fresh || nowNs - unchecked(this.lastSeen[slot]) >= this.windowNs;
    unchecked(this.lastSeen[slot] = nowNs);
    return fresh ? this.counts.add(key, nowNs, 1) : this.counts.count(key, nowNs);
  }
}
