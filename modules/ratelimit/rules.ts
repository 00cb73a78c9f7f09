// One configured limit: which packets it counts, how it keys them, and the
// limiter (token bucket or sliding window) that decides when a key is over.
import { TokenBucketTable, SlidingWindowCounter } from "../sdk/lib";

export namespace Algo {
  export const TOKEN_BUCKET: i32 = 1;
  export const SLIDING_WINDOW: i32 = 2;
}

export class LimitRule {
  name: string = "";
  /** IP protocol number, or -1 for any. */
  proto: i32 = -1;
  /** Destination port ranges (inclusive pairs); empty = every port. */
  portLo: Array<i32> = [];
  portHi: Array<i32> = [];
  /** Key on source + destination port instead of the source alone. */
  perPort: bool = false;
  /** Count new flows (connections) instead of packets. */
  countFlows: bool = true;
  algo: i32 = Algo.TOKEN_BUCKET;
  rate: f64 = 10;
  burst: f64 = 20;
  limit: i64 = 100;
  windowMs: i64 = 1000;
  penalty: i32 = 60;
  /** Verdict for the packet that goes over: BLOCK_SRC, DROP or CONTINUE (alert only). */
  action: i32 = 5;
  actionName: string = "block_src";
  buckets: TokenBucketTable | null = null;
  window: SlidingWindowCounter | null = null;

  build(capacity: i32): void {
    if (this.algo == Algo.TOKEN_BUCKET) this.buckets = new TokenBucketTable(this.rate, this.burst, capacity);
    else this.window = new SlidingWindowCounter(this.windowMs * 1000000, 10, capacity);
  }

  matchesPort(port: i32): bool {
    const n = this.portLo.length;
    if (n == 0) return true;
    for (let i = 0; i < n; i++) if (port >= unchecked(this.portLo[i]) && port <= unchecked(this.portHi[i])) return true;
    return false;
  }

  /** Counts one event for key at nowNs; true when the key is over its limit. */
  over(key: u64, nowNs: i64): bool {
    const b = this.buckets;
    if (b !== null) return !b.take(key, nowNs, 1);
    return this.window!.add(key, nowNs, 1) > this.limit;
  }
}
