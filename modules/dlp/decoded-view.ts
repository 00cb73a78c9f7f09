// The decoded view of a direction: its stream with chunk framing and
// quoted-printable soft breaks taken out, =XX escapes and base64 parts
// decoded, each byte tagged with the stream offset it came from. It exists only around a
// place where decoding changed something: while the bytes pass unchanged
// the raw scan (index.ts) sees all there is, so the view is scanned only for
// findings that cross such a place, and those are reported at the stream
// offset of their first byte.
import { DecoderState } from "./decoder-state";
import { Findings, scan, pendingFrom } from "./detect";

/** Set on a byte's stream offset when decoding produced it (an =XX escape, a base64 byte, an inserted end of body or part). */
export const POS_DECODED: i32 = 1 << 30;
const POS_MASK: i32 = POS_DECODED - 1;
/** Stream bytes copied in front of the first changed place, so a value that began before it is whole. */
const SEED = 96;
/** Bytes re-scanned before a packet's new ones, as index.ts OVERLAP. */
const OVERLAP = 64;
/** A cut-off candidate is kept for at most this many bytes, as index.ts MAX_PENDING. */
const MAX_PENDING = 4096;
/** Bytes kept before the scan start, for the word-boundary checks that look back. */
const CONTEXT = 4;
/**
 * Bytes all directions' kept tails (and checkpoints) may take together,
 * counting 5 bytes (the byte and its stream offset) per decoded byte. Past
 * it, a direction that needs more gives up decoding (stream-decoder.ts).
 */
const MAX_TAIL_BYTES = 8 * 1024 * 1024;
let tailBytes = 0;

/** A direction's decoded bytes kept between packets (none while its view is inactive). */
export class Tail {
  bytes: Uint8Array | null = null;
  pos: Int32Array | null = null;
  @inline get capacity(): i32 { const b = this.bytes; return b === null ? 0 : b.length; }
}

/** Frees a tail's buffers from the shared budget. */
export function releaseTail(t: Tail | null): void {
  if (t === null) return;
  tailBytes -= t.capacity * 5;
  t.bytes = null;
  t.pos = null;
}

/** Room for n decoded bytes in t; false when the budget is spent. */
export function reserveTail(t: Tail, n: i32): bool {
  if (t.capacity >= n) return true;
  // the usual tail is the overlap and its context: sized to fit, so mid-body flows stay cheap
  const size = n < OVERLAP + CONTEXT + 4 ? OVERLAP + CONTEXT + 4 : n;
  if (tailBytes - t.capacity * 5 + size * 5 > MAX_TAIL_BYTES) return false;
  releaseTail(t);
  t.bytes = new Uint8Array(size);
  t.pos = new Int32Array(size);
  tailBytes += size * 5;
  return true;
}

export function copyTail(from: Tail, n: i32, to: Tail): bool {
  if (!reserveTail(to, n)) return false;
  if (n == 0) return true;
  memory.copy(to.bytes!.dataStart, from.bytes!.dataStart, <usize>n);
  memory.copy(to.pos!.dataStart, from.pos!.dataStart, <usize>n << 2);
  return true;
}

// One scan's bytes: the kept tail, then what this packet decoded. Shared by
// all flows (one packet is decoded at a time).
let sBytes = new Uint8Array(8192);
let sPos = new Int32Array(8192);
let sLen = 0;
/** Stream bytes of the packet being decoded, for seeding the view. */
let rawBase: usize = 0;
/** Where a view activated during this packet starts its scan. */
let seededScanFrom = 0;

function grow(n: i32): void {
  if (n <= sBytes.length) return;
  let size = sBytes.length * 2;
  while (size < n) size *= 2;
  const b = new Uint8Array(size);
  const p = new Int32Array(size);
  memory.copy(b.dataStart, sBytes.dataStart, <usize>sLen);
  memory.copy(p.dataStart, sPos.dataStart, <usize>sLen << 2);
  sBytes = b;
  sPos = p;
}

@inline function push(c: u8, pos: i32): void {
  if (sLen >= sBytes.length) grow(sLen + 1);
  unchecked(sBytes[sLen] = c);
  unchecked(sPos[sLen] = pos);
  sLen++;
}

/** Starts a packet: the view's kept tail goes first in the scratch. */
export function beginPacket(d: DecoderState, tail: Tail, base: usize): void {
  rawBase = base;
  sLen = 0;
  seededScanFrom = 0;
  if (!d.viewActive || d.tailLen == 0) return;
  grow(d.tailLen);
  memory.copy(sBytes.dataStart, tail.bytes!.dataStart, <usize>d.tailLen);
  memory.copy(sPos.dataStart, tail.pos!.dataStart, <usize>d.tailLen << 2);
  sLen = d.tailLen;
}

/**
 * One decoded byte from stream offset `pos`. While the view is inactive and
 * the bytes are the stream's own, only the offset is followed; the first
 * changed byte (or a gap: framing left out) starts the view, seeded with
 * the stream bytes just before it.
 */
export function emit(d: DecoderState, c: u8, pos: i32, decoded: bool): void {
  if (!d.viewActive) {
    if (!decoded && pos == d.viewNext) { d.viewNext = pos + 1; return; }
    activate(d);
  }
  push(c, decoded ? pos | POS_DECODED : pos);
}

/** Stream bytes [from, to) passed on unchanged. */
export function emitRun(d: DecoderState, base: usize, from: i32, to: i32): void {
  if (!d.viewActive && from == d.viewNext) { d.viewNext = to; return; }
  if (!d.viewActive) activate(d);
  const n = to - from;
  grow(sLen + n);
  memory.copy(sBytes.dataStart + <usize>sLen, base + <usize>from, <usize>n);
  for (let k = 0; k < n; k++) unchecked(sPos[sLen + k] = from + k);
  sLen += n;
}

function activate(d: DecoderState): void {
  const to = d.viewNext;
  let from = to - SEED;
  if (from < d.viewFloor) from = d.viewFloor;
  if (from < 0) from = 0;
  for (let p = from; p < to; p++) push(load<u8>(rawBase + <usize>p), p);
  // the seed may begin inside a word: scanning starts after its first delimiter
  let s = 0;
  if (from > 0) {
    while (s < sLen && isWordByte(unchecked(sBytes[s]))) s++;
  }
  seededScanFrom = s;
  d.viewActive = true;
  d.viewScanFrom = -1;
  d.viewPending = false;
}

@inline function isWordByte(c: u8): bool {
  return <u8>(c - 0x30) < 10 || <u8>((c | 0x20) - 0x61) < 26 || c == 0x2d || c == 0x5f || c == 0x2e || c == 0x2b || c == 0x2f;
}

/** First index in [from, sLen) whose stream offset is at least `at`. */
function firstAtOrAfter(from: i32, at: i32): i32 {
  let lo = from, hi = sLen;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((unchecked(sPos[mid]) & POS_MASK) < at) lo = mid + 1; else hi = mid;
  }
  return lo;
}

/** True when view bytes [s, e) are the stream's own bytes, in a row: the raw scan saw that value. */
function unchanged(s: i32, e: i32): bool {
  let p = unchecked(sPos[s]);
  if ((p & POS_DECODED) != 0) return false;
  for (let i = s + 1; i < e; i++) {
    const q = unchecked(sPos[i]);
    if (q != p + 1) return false;
    p = q;
  }
  return true;
}

/**
 * Scans the view's bytes of this packet (from the kept tail's scan start)
 * and keeps in `found` only the findings that cross a changed place, with
 * stream offsets; a resend keeps those ending after `keepAfter` (as index.ts
 * does for the raw scan).
 */
export function scanView(d: DecoderState, kinds: i32, found: Findings, final: bool, keepAfter: i32): void {
  const from = d.viewScanFrom < 0 ? seededScanFrom : d.viewScanFrom;
  const first = found.count;
  scan(sBytes.dataStart, from, sLen, firstAtOrAfter(from, d.viewDoneTo), kinds, found, final);
  const cut = final ? -1 : pendingFrom;
  let kept = first;
  for (let i = first; i < found.count; i++) {
    const s = unchecked(found.starts[i]);
    const e = unchecked(found.ends[i]);
    if (unchanged(s, e)) continue;
    const start = unchecked(sPos[s]) & POS_MASK;
    const end = (unchecked(sPos[e - 1]) & POS_MASK) + 1;
    if (end <= keepAfter) continue;
    unchecked(found.starts[i] = start);
    unchecked(found.ends[i] = end);
    if (end > d.viewDoneTo) d.viewDoneTo = end;
    found.move(i, kept++);
  }
  found.count = kept;
  d.viewPending = cut >= 0;
  // what the next scan needs: the cut-off candidate, or the overlap
  let keep = cut >= 0 ? cut : sLen - OVERLAP;
  if (keep < sLen - MAX_PENDING) keep = sLen - MAX_PENDING;
  if (keep < from) keep = from;
  let tailStart = keep - CONTEXT;
  if (tailStart < 0) tailStart = 0;
  d.viewScanFrom = keep - tailStart;
  d.tailLen = sLen - tailStart;
  keepFrom = tailStart;
}
let keepFrom = 0;

/** Stores the scratch bytes scanView chose to keep; false when the budget is spent. */
export function storeTail(d: DecoderState, tail: Tail): bool {
  if (!reserveTail(tail, d.tailLen)) return false;
  memory.copy(tail.bytes!.dataStart, sBytes.dataStart + <usize>keepFrom, <usize>d.tailLen);
  memory.copy(tail.pos!.dataStart, sPos.dataStart + (<usize>keepFrom << 2), <usize>d.tailLen << 2);
  return true;
}

/** Bytes passed on unchanged from here: the view ends, and a later one is seeded from here on. */
export function deactivate(d: DecoderState, tail: Tail): void {
  d.viewActive = false;
  d.viewPending = false;
  d.tailLen = 0;
  d.viewNext = d.next;
  d.viewFloor = d.next;
  releaseTail(tail);
}
