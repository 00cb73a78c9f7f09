// Sets of byte offsets kept as sorted, disjoint, non-adjacent [start, end)
// pairs in a flat array: what a stream holds past a hole, what a receiver
// lacks. A handful of pairs at most, so a new array per change is cheap.

/** `ranges` with [start, end) added: touching or overlapping pairs merge. */
export function withRange(ranges: readonly number[], start: number, end: number): number[] {
  const out: number[] = [];
  let s = start, e = end, placed = false;
  for (let i = 0; i < ranges.length; i += 2) {
    const rs = ranges[i]!, re = ranges[i + 1]!;
    if (re < s) { out.push(rs, re); continue; }
    if (rs > e) {
      if (!placed) { out.push(s, e); placed = true; }
      out.push(rs, re);
      continue;
    }
    s = Math.min(s, rs);
    e = Math.max(e, re);
  }
  if (!placed) out.push(s, e);
  return out;
}
