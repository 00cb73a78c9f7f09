// A bounded table of per-key slots for the rate structures (sliding windows,
// token buckets). When every slot is taken, a CLOCK hand picks the slot to
// evict, so memory never grows with the number of sources an attacker can
// spoof; the caller learns about it through `evictions`.
//
// Each slot keeps a small use count (generalised CLOCK): a hit raises it, the
// hand lowers it as it passes, and only a slot at zero is evicted. A key met
// once starts at zero, so one-packet spoofed sources go first and a source
// seen again and again (a scanner, a brute-forcer) survives them. A single
// reference bit would protect it for one turn of the hand only: more new keys
// than the table holds between two of its packets would still evict it.
import { U64Map } from "./u64map";

/** Turns of the hand a key hit this often survives without another hit. */
const MAX_USES: u8 = 3;

export class KeySlots {
  readonly capacity: i32;
  evictions: i64 = 0;
  private index: U64Map;
  private slotKeys: StaticArray<u64>;
  private uses: StaticArray<u8>;
  private inUse: i32 = 0;
  private hand: i32 = 0;
  /** Set by slotFor: true when the returned slot was (re)assigned and must be reset by the caller. */
  fresh: bool = false;

  constructor(capacity: i32) {
    const cap = capacity < 1 ? 1 : capacity;
    this.index = new U64Map(cap);
    this.slotKeys = new StaticArray<u64>(cap);
    this.uses = new StaticArray<u8>(cap);
    this.capacity = cap;
  }

  get size(): i32 { return this.index.size; }

  /** Slot of key, or -1; a found key counts as used. */
  find(key: u64): i32 {
    const s = this.index.get(key, -1);
    if (s >= 0) this.touch(s);
    return s;
  }

  /** Slot of key, assigning one (possibly by eviction) when absent; sets `fresh`. */
  slotFor(key: u64): i32 {
    const s = this.index.get(key, -1);
    if (s >= 0) { this.touch(s); this.fresh = false; return s; }
    const slot = this.inUse < this.capacity ? this.inUse++ : this.evict();
    unchecked(this.slotKeys[slot] = key);
    unchecked(this.uses[slot] = 0);
    this.index.set(key, slot);
    this.fresh = true;
    return slot;
  }

  @inline private touch(slot: i32): void {
    const u = unchecked(this.uses[slot]);
    if (u < MAX_USES) unchecked(this.uses[slot] = u + 1);
  }

  // Every pass over a used slot lowers its count, so the hand finds a zero
  // within MAX_USES + 1 turns, and each step is paid for by an earlier hit.
  private evict(): i32 {
    let slot = this.hand;
    let u = unchecked(this.uses[slot]);
    while (u > 0) {
      unchecked(this.uses[slot] = u - 1);
      slot = this.advance(slot);
      u = unchecked(this.uses[slot]);
    }
    this.hand = this.advance(slot);
    this.index.delete(unchecked(this.slotKeys[slot]));
    this.evictions++;
    return slot;
  }

  @inline private advance(slot: i32): i32 { return slot + 1 == this.capacity ? 0 : slot + 1; }
}
