// Per-flow state kept in module memory, keyed by the host's flow id. Every
// FlowMap registers itself so the SDK drops a flow's entries when the host
// calls on_flow_end: modules cannot leak state for flows that are gone.
import { tableHash } from "../lib/hash";

export abstract class FlowStore {
  abstract deleteFlow(flowId: u64): void;
}

const stores = new Array<FlowStore>();

/** Called by the SDK's on_flow_end after the inspector's onFlowEnd, so it can still read its state. */
export function forgetFlow(flowId: u64): void {
  for (let i = 0, n = stores.length; i < n; i++) stores[i].deleteFlow(flowId);
}

// Slot keys that mark an empty or a deleted slot. A flow whose id is one of
// them is kept beside the table.
const EMPTY_KEY: u64 = 0;
const DELETED_KEY: u64 = u64.MAX_VALUE;

/**
 * Map from flow id to a state object T (T must be a class).
 *
 * Open addressing with linear probing over two flat arrays, keys and values.
 * A module looks its flow up on every packet: with tens of thousands of
 * flows each lookup misses the cache, and std Map's get() needs a has()
 * first (it traps on an absent key), so it hashed and walked its chain
 * twice. Here a lookup is one hash and one probe run, and a miss ends at the
 * first empty key. The index hash is seeded (tableHash), as U64Map's.
 */
export class FlowMap<T> extends FlowStore {
  private keys: StaticArray<u64>;
  private vals: StaticArray<T | null>;
  private mask: i32;
  /** Live and deleted slots: what bounds a probe run. */
  private used: i32 = 0;
  private count: i32 = 0;
  private emptyKeyVal: T | null = null;
  private deletedKeyVal: T | null = null;

  constructor(initialCapacity: i32 = 64) {
    super();
    let cap = 16;
    while (cap < initialCapacity * 2) cap <<= 1;
    this.keys = new StaticArray<u64>(cap);
    this.vals = new StaticArray<T | null>(cap);
    this.mask = cap - 1;
    stores.push(this);
  }

  /** Slot of key in the table, or -1 (key must not be a marker). */
  private find(key: u64): i32 {
    const mask = this.mask;
    let i = <i32>tableHash(key) & mask;
    while (true) {
      const k = unchecked(this.keys[i]);
      if (k == key) return i;
      if (k == EMPTY_KEY) return -1;
      i = (i + 1) & mask;
    }
  }

  has(flowId: u64): bool { return this.get(flowId) !== null; }

  get(flowId: u64): T | null {
    if (flowId == EMPTY_KEY) return this.emptyKeyVal;
    if (flowId == DELETED_KEY) return this.deletedKeyVal;
    const i = this.find(flowId);
    return i < 0 ? null : unchecked(this.vals[i]);
  }

  set(flowId: u64, state: T): void {
    if (flowId == EMPTY_KEY || flowId == DELETED_KEY) {
      const had = (flowId == EMPTY_KEY ? this.emptyKeyVal : this.deletedKeyVal) !== null;
      if (flowId == EMPTY_KEY) this.emptyKeyVal = state; else this.deletedKeyVal = state;
      if (!had) this.count++;
      return;
    }
    const i = this.find(flowId);
    if (i >= 0) { unchecked(this.vals[i] = state); return; }
    const cap = this.mask + 1;
    // Past 3/4 full: double when live entries need it, else rehash in place
    // to clear the deleted slots that flow churn leaves.
    if ((this.used + 1) * 4 > cap * 3) this.rehash((this.count + 1) * 2 > cap ? cap * 2 : cap);
    const mask = this.mask;
    let j = <i32>tableHash(flowId) & mask;
    while (true) {
      const k = unchecked(this.keys[j]);
      if (k == EMPTY_KEY) { this.used++; break; }
      if (k == DELETED_KEY) break;
      j = (j + 1) & mask;
    }
    unchecked(this.keys[j] = flowId);
    unchecked(this.vals[j] = state);
    this.count++;
  }

  delete(flowId: u64): void {
    if (flowId == EMPTY_KEY || flowId == DELETED_KEY) {
      if ((flowId == EMPTY_KEY ? this.emptyKeyVal : this.deletedKeyVal) === null) return;
      if (flowId == EMPTY_KEY) this.emptyKeyVal = null; else this.deletedKeyVal = null;
      this.count--;
      return;
    }
    const i = this.find(flowId);
    if (i < 0) return;
    unchecked(this.keys[i] = DELETED_KEY);
    unchecked(this.vals[i] = null);
    this.count--;
  }

  get size(): i32 { return this.count; }

  deleteFlow(flowId: u64): void { this.delete(flowId); }

  private rehash(cap: i32): void {
    const oldKeys = this.keys;
    const oldVals = this.vals;
    this.keys = new StaticArray<u64>(cap);
    this.vals = new StaticArray<T | null>(cap);
    this.mask = cap - 1;
    this.used = 0;
    for (let i = 0, n = oldKeys.length; i < n; i++) {
      const k = unchecked(oldKeys[i]);
      if (k == EMPTY_KEY || k == DELETED_KEY) continue;
      let j = <i32>tableHash(k) & (cap - 1);
      while (unchecked(this.keys[j]) != EMPTY_KEY) j = (j + 1) & (cap - 1);
      unchecked(this.keys[j] = k);
      unchecked(this.vals[j] = unchecked(oldVals[i]));
      this.used++;
    }
  }
}
