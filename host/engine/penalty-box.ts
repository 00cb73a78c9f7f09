// User-space twin of the kernel penalty box: sources blocked until a deadline.
// Offline runs use packet time, so a capture replays the same way every time.
// Bounded like the kernel's sf_penalty: BLOCK_SRC verdicts on spoofed
// sources would otherwise grow it with every address that never comes back.
// Expired entries go when their source is seen again, or when the box is full.
// An entry is a source or an IPv6 source's /64, keyed as the kernel keys it.
// A source inside a tunnel is blocked in its overlay only (`scope`, the
// packet's tunnelWords as a string): another tenant may use the same
// addresses, and the kernel, which sees the outer header, never holds it.
import { SF } from '../kernel/codec.js';
import { isV4Mapped } from '../packet/addr.js';

/** As many sources as the kernel's sf_penalty holds. */
export const MAX_PENALTY_SOURCES = SF.MAX_PENALTY;

function addrKey(addr: Uint8Array): string {
  // Penalty lookups happen once per packet only while entries exist; the
  // string key keeps v4 and v6 in one map without a custom hash.
  let k = '';
  for (let i = 0; i < addr.length; i++) k += String.fromCharCode(addr[i]!);
  return k;
}

/** Between an address and its overlay's scope in a key: no address key holds it. */
const SCOPE_MARK = '\u{10000}';

/** The key of an IPv6 source's /64 (host/kernel/penalty-entry.ts), or null for any other source. */
function net6Key(addr: Uint8Array): string | null {
  if (addr.length !== 16 || isV4Mapped(addr)) return null;
  let k = '';
  for (let i = 0; i < 8; i++) k += String.fromCharCode(addr[i]!);
  return k + '\0\0\0\0\0\0\0\0';
}

export class PenaltyBox {
  private readonly until = new Map<string, number>();
  /** No entry expires before this: a full box is not swept again until then. */
  private noExpiryBefore = 0;

  constructor(private readonly capacity: number = MAX_PENALTY_SOURCES) {}

  get size(): number {
    return this.until.size;
  }

  /**
   * Blocks the source until nowSec + ttlSec. False when the box is full of
   * live entries and the source is not in it: as in the kernel map, the new
   * source is not blocked (the caller counts it).
   */
  block(addr: Uint8Array, nowSec: number, ttlSec: number, scope = ''): boolean {
    const key = scope === '' ? addrKey(addr) : addrKey(addr) + SCOPE_MARK + scope;
    const deadline = nowSec + ttlSec;
    const current = this.until.get(key);
    if (current === undefined && this.until.size >= this.capacity) {
      // Swept only when full, and only once something can have expired: a
      // full box of live entries costs a lookup per refusal, not a scan.
      if (nowSec < this.noExpiryBefore || this.sweep(nowSec) === 0) return false;
    }
    if ((current ?? 0) < deadline) this.until.set(key, deadline);
    return true;
  }

  /** Whether the source, or (IPv6) its /64, is blocked at nowSec; as XDP looks them up. */
  isBlocked(addr: Uint8Array, nowSec: number, scope = ''): boolean {
    if (this.until.size === 0) return false;
    const suffix = scope === '' ? '' : SCOPE_MARK + scope;
    if (this.live(addrKey(addr) + suffix, nowSec)) return true;
    const net = net6Key(addr);
    return net !== null && this.live(net + suffix, nowSec);
  }

  private live(key: string, nowSec: number): boolean {
    const deadline = this.until.get(key);
    if (deadline === undefined) return false;
    if (deadline > nowSec) return true;
    this.until.delete(key);
    return false;
  }

  /** Takes the source out of the box (an operator's release); whether it was in it. */
  release(addr: Uint8Array): boolean {
    const key = addrKey(addr);
    let found = this.until.delete(key);
    // The same source blocked inside overlays goes too: the operator named the address.
    const scoped = key + SCOPE_MARK;
    for (const k of this.until.keys()) {
      if (k.startsWith(scoped)) found = this.until.delete(k) || found;
    }
    return found;
  }

  /** Empties the box; returns how many sources it held. */
  clear(): number {
    const n = this.until.size;
    this.until.clear();
    this.noExpiryBefore = 0;
    return n;
  }

  /** Removes the entries whose deadline has passed; returns how many. */
  private sweep(nowSec: number): number {
    let removed = 0;
    let earliest = Infinity;
    for (const [key, deadline] of this.until) {
      if (deadline <= nowSec) {
        this.until.delete(key);
        removed++;
      } else if (deadline < earliest) {
        earliest = deadline;
      }
    }
    this.noExpiryBefore = earliest;
    return removed;
  }
}
