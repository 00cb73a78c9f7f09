// Per-flow state kept in module memory, keyed by the host's flow id. Every
// FlowMap registers itself so the SDK drops a flow's entries when the host
// calls on_flow_end: modules cannot leak state for flows that are gone.
import { fillsHole, tableHash } from "../lib/hash";

export abstract class FlowStore {
  abstract deleteFlow(flowId: u64): void;
}

const stores = new Array<FlowStore>();

/** Called by the SDK's on_flow_end after the inspector's onFlowEnd, so it can still read its state. */
export function forgetFlow(flowId: u64): void {
  for (let i = 0, n = stores.length; i < n; i++) stores[i].deleteFlow(flowId);
}

// The slot key that marks an empty slot. A flow whose id is 0 is kept
// beside the table.
const EMPTY_KEY: u64 = 0;

/**
 * Map from flow id to a state object T (T must be a class).
 *
 * Open addressing with linear probing over two flat arrays, keys and values.
 * A module looks its flow up on every packet: with tens of thousands of
 * flows each lookup misses the cache, and std Map's get() needs a has()
 * first (it traps on an absent key), so it hashed and walked its chain
 * twice. Here a lookup is one hash and one probe run, and a miss ends at the
 * first empty key. The index hash is seeded (tableHash), as U64Map's.
 *
 * A delete moves the later entries of its probe run back into the hole
 * instead of leaving a tombstone. Flows end as fast as they start, and
 * with tombstones (or std Map's deleted entries) the table had to be
 * rebuilt every few tens of thousands of flows: a fresh pair of arrays of
 * a megabyte or more each time, which the incremental collector reclaimed
 * too slowly. A module then ran out of its memory under a flood of new
 * flows. Now the arrays are only reallocated to grow.
 */
export class FlowMap<T> extends FlowStore {
  private keys: StaticArray<u64>;
  private vals: StaticArray<T | null>;
  private mask: i32;
  private count: i32 = 0;
  private zeroVal: T | null = null;

  constructor(initialCapacity: i32 = 64) {
    super();
    let cap = 16;
    while (cap < initialCapacity * 2) cap <<= 1;
    this.keys = new StaticArray<u64>(cap);
    this.vals = new StaticArray<T | null>(cap);
    this.mask = cap - 1;
    stores.push(this);
  }

  /** Slot of key in the table, or -1 (key must not be EMPTY_KEY). */
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
    if (flowId == EMPTY_KEY) return this.zeroVal;
    const i = this.find(flowId);
    return i < 0 ? null : unchecked(this.vals[i]);
  }

  set(flowId: u64, state: T): void {
    if (flowId == EMPTY_KEY) {
      if (this.zeroVal === null) this.count++;
      this.zeroVal = state;
      return;
    }
    const i = this.find(flowId);
    if (i >= 0) { unchecked(this.vals[i] = state); return; }
    // At most 3/4 full, so probe runs stay short and one empty slot is always left.
    if ((this.count + 1) * 4 > (this.mask + 1) * 3) this.grow();
    this.place(flowId, state);
    this.count++;
  }

  /** Puts a key known to be absent in the first empty slot of its probe run. */
  @inline private place(key: u64, val: T | null): void {
    const mask = this.mask;
    let j = <i32>tableHash(key) & mask;
    while (unchecked(this.keys[j]) != EMPTY_KEY) j = (j + 1) & mask;
    unchecked(this.keys[j] = key);
    unchecked(this.vals[j] = val);
  }

  delete(flowId: u64): void {
    if (flowId == EMPTY_KEY) {
      if (this.zeroVal === null) return;
      this.zeroVal = null;
      this.count--;
      return;
    }
    let hole = this.find(flowId);
    if (hole < 0) return;
    const mask = this.mask;
    let j = hole;
    while (true) {
      j = (j + 1) & mask;
      const k = unchecked(this.keys[j]);
      if (k == EMPTY_KEY) break;
      if (fillsHole(k, hole, j, mask)) {
        unchecked(this.keys[hole] = k);
        unchecked(this.vals[hole] = unchecked(this.vals[j]));
        hole = j;
      }
    }
    unchecked(this.keys[hole] = EMPTY_KEY);
    unchecked(this.vals[hole] = null);
    this.count--;
  }

  get size(): i32 { return this.count; }

  deleteFlow(flowId: u64): void { this.delete(flowId); }

  private grow(): void {
    const oldKeys = this.keys;
    const oldVals = this.vals;
    const cap = (this.mask + 1) * 2;
    this.keys = new StaticArray<u64>(cap);
    this.vals = new StaticArray<T | null>(cap);
    this.mask = cap - 1;
    for (let i = 0, n = oldKeys.length; i < n; i++) {
      const k = unchecked(oldKeys[i]);
      if (k != EMPTY_KEY) this.place(k, unchecked(oldVals[i]));
    }
  }
}
