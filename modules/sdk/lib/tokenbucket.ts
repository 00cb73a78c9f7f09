// Per-key token buckets: each key may spend up to `burst` tokens at once and
// earns `ratePerSec` tokens per second back. Memory is fixed (capacity keys,
// CLOCK eviction in KeySlots); a new or evicted key starts with a full bucket.
import { KeySlots } from "./keyslots";

export class TokenBucketTable {
  readonly ratePerSec: f64;
  readonly burst: f64;
  private slots: KeySlots;
  private tokens: StaticArray<f64>;
  private lastNs: StaticArray<i64>;

  constructor(ratePerSec: f64, burst: f64, capacity: i32) {
    const slots = new KeySlots(capacity);
    this.slots = slots;
    this.tokens = new StaticArray<f64>(slots.capacity);
    this.lastNs = new StaticArray<i64>(slots.capacity);
    this.ratePerSec = ratePerSec > 0 ? ratePerSec : 0;
    this.burst = burst > 0 ? burst : 1;
  }

  get evictions(): i64 { return this.slots.evictions; }
  get keys(): i32 { return this.slots.size; }

  /** Spends cost tokens of key at nowNs when it has them; false (and nothing spent) otherwise. */
  take(key: u64, nowNs: i64, cost: f64 = 1): bool {
    const slot = this.refill(key, nowNs);
    const t = unchecked(this.tokens[slot]);
    if (t < cost) return false;
    unchecked(this.tokens[slot] = t - cost);
    return true;
  }

  /** Tokens key holds at nowNs. */
  available(key: u64, nowNs: i64): f64 {
    const slot = this.slots.find(key);
    if (slot < 0) return this.burst;
    return unchecked(this.tokens[this.refill(key, nowNs)]);
  }

  private refill(key: u64, nowNs: i64): i32 {
    const slot = this.slots.slotFor(key);
    if (this.slots.fresh) {
      unchecked(this.tokens[slot] = this.burst);
      unchecked(this.lastNs[slot] = nowNs);
      return slot;
    }
    const last = unchecked(this.lastNs[slot]);
    if (nowNs > last) {
      const t = unchecked(this.tokens[slot]) + <f64>(nowNs - last) * this.ratePerSec / 1e9;
      unchecked(this.tokens[slot] = t > this.burst ? this.burst : t);
      unchecked(this.lastNs[slot] = nowNs);
    }
    return slot;
  }
}
