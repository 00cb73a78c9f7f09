// A bounded table of per-key slots for the rate structures (sliding windows,
// token buckets). When every slot is taken, the CLOCK hand evicts the slot it
// points at, so memory never grows with the number of sources an attacker can
// spoof; the caller learns about it through `evictions`.
import { U64Map } from "./u64map";

export class KeySlots {
  readonly capacity: i32;
  evictions: i64 = 0;
  private index: U64Map;
  private slotKeys: StaticArray<u64>;
  private inUse: i32 = 0;
  private hand: i32 = 0;
  /** Set by slotFor: true when the returned slot was (re)assigned and must be reset by the caller. */
  fresh: bool = false;

  constructor(capacity: i32) {
    const cap = capacity < 1 ? 1 : capacity;
    this.index = new U64Map(cap);
    this.slotKeys = new StaticArray<u64>(cap);
    this.capacity = cap;
  }

  get size(): i32 { return this.index.size; }

  /** Slot of key, or -1. */
  find(key: u64): i32 { return this.index.get(key, -1); }

  /** Slot of key, assigning one (possibly by eviction) when absent; sets `fresh`. */
  slotFor(key: u64): i32 {
    const s = this.index.get(key, -1);
    if (s >= 0) { this.fresh = false; return s; }
    let slot: i32;
    if (this.inUse < this.capacity) {
      slot = this.inUse++;
    } else {
      slot = this.hand;
      this.hand = (this.hand + 1) % this.capacity;
      this.index.delete(unchecked(this.slotKeys[slot]));
      this.evictions++;
    }
    unchecked(this.slotKeys[slot] = key);
    this.index.set(key, slot);
    this.fresh = true;
    return slot;
  }
}
