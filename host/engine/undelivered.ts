// The TCP bytes of a flow that a module's DROP kept from the receiver, as the
// receiver sees them. The stream holds every byte it was sent ("first copy
// wins"); the receiver holds only what was passed. Where the two differ, a
// retransmission is new to the receiver though not to the stream, and the
// engine must show it to the modules again (engine.ts, showUndelivered).
import { withRange } from '../flow/ranges.js';

/** Separate ranges kept per direction; past that the direction is closed (every later payload dropped). */
export const MAX_UNDELIVERED_RANGES = 8;

export class UndeliveredBytes {
  /** Per direction: sorted, disjoint, non-adjacent [start, end) stream offsets. */
  private readonly ranges: [number[], number[]] = [[], []];
  /** Times resent bytes of the flow were shown to the modules again. */
  showings = 0;
  /** Bit 1 << direction: more separate ranges than are kept were dropped there. */
  private closedBits = 0;

  get empty(): boolean {
    return this.closedBits === 0 && this.ranges[0].length === 0 && this.ranges[1].length === 0;
  }

  closed(direction: 0 | 1): boolean {
    return (this.closedBits & (1 << direction)) !== 0;
  }

  /** The receiver did not get [start, end). Failing closed, a direction with too many separate ranges drops all further payload. */
  add(direction: 0 | 1, start: number, end: number): void {
    if (start >= end || this.closed(direction)) return;
    const out = withRange(this.ranges[direction], start, end);
    if (out.length > 2 * MAX_UNDELIVERED_RANGES) {
      this.closedBits |= 1 << direction;
      this.ranges[direction] = [];
      return;
    }
    this.ranges[direction] = out;
  }

  /** The receiver got [start, end) (a copy that was passed). */
  remove(direction: 0 | 1, start: number, end: number): void {
    const r = this.ranges[direction];
    if (r.length === 0 || start >= end) return;
    const out: number[] = [];
    for (let i = 0; i < r.length; i += 2) {
      const rs = r[i]!, re = r[i + 1]!;
      if (re <= start || rs >= end) { out.push(rs, re); continue; }
      if (rs < start) out.push(rs, start);
      if (re > end) out.push(end, re);
    }
    this.ranges[direction] = out;
  }

  /** The first offset of the direction the receiver has not got, or -1. */
  firstStart(direction: 0 | 1): number {
    const r = this.ranges[direction];
    return r.length > 0 ? r[0]! : -1;
  }

  /** Calls fn for each part of [start, end) the receiver has not got, in order; returns the first part's start, or -1. */
  overlaps(direction: 0 | 1, start: number, end: number, fn?: (s: number, e: number) => void): number {
    const r = this.ranges[direction];
    let first = -1;
    for (let i = 0; i < r.length; i += 2) {
      const s = Math.max(r[i]!, start), e = Math.min(r[i + 1]!, end);
      if (s >= e) continue;
      if (first < 0) first = s;
      fn?.(s, e);
    }
    return first;
  }
}
