// User-space twin of the kernel penalty box: sources blocked until a deadline.
// Offline runs use packet time, so a capture replays the same way every time.

function addrKey(addr: Uint8Array): string {
  // Penalty lookups happen once per packet only while entries exist; the
  // string key keeps v4 and v6 in one map without a custom hash.
  let k = '';
  for (let i = 0; i < addr.length; i++) k += String.fromCharCode(addr[i]!);
  return k;
}

export class PenaltyBox {
  private readonly until = new Map<string, number>();

  get size(): number {
    return this.until.size;
  }

  block(addr: Uint8Array, nowSec: number, ttlSec: number): void {
    const key = addrKey(addr);
    const deadline = nowSec + ttlSec;
    if ((this.until.get(key) ?? 0) < deadline) this.until.set(key, deadline);
  }

  isBlocked(addr: Uint8Array, nowSec: number): boolean {
    if (this.until.size === 0) return false;
    const key = addrKey(addr);
    const deadline = this.until.get(key);
    if (deadline === undefined) return false;
    if (deadline > nowSec) return true;
    this.until.delete(key);
    return false;
  }
}
