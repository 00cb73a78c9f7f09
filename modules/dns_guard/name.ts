// Reads a (possibly compressed) DNS name out of a message. Compression is
// where DNS parsers get hurt, so every rule is explicit:
// - a pointer must point strictly before the start of the name segment it
//   came from, so a chain only ever moves backwards and cannot loop;
// - at most MAX_HOPS pointers per name, even so;
// - the name may not exceed 255 bytes in wire form (RFC 1035 2.3.4);
// - every byte read is inside the message; label types 01/10 are refused.
// The name comes out twice: `key`, lower-cased raw labels joined with '.'
// (for list lookups), and `text`, its presentation form with unprintable
// bytes, dots and backslashes inside labels escaped as \DDD (as dig prints).

export const NAME_WIRE_MAX = 255;
export const MAX_HOPS = 32;

export enum NameError {
  TRUNCATED = -1,
  POINTER_LOOP = -2,
  FORWARD_POINTER = -3,
  TOO_LONG = -4,
  LABEL_TYPE = -5,
}

export function nameErrorText(e: i32): string {
  switch (e) {
    case NameError.TRUNCATED: return "name runs past the end of the message";
    case NameError.POINTER_LOOP: return "too many compression pointers";
    case NameError.FORWARD_POINTER: return "compression pointer does not point backwards";
    case NameError.TOO_LONG: return "name longer than 255 bytes";
    case NameError.LABEL_TYPE: return "reserved label type";
  }
  return "bad name";
}

export class NameBuf {
  key: StaticArray<u8> = new StaticArray<u8>(NAME_WIRE_MAX + 1);
  keyLen: i32 = 0;
  /** Escaped presentation form; \DDD makes a byte at most 4 characters. */
  text: StaticArray<u8> = new StaticArray<u8>(NAME_WIRE_MAX * 4 + 4);
  textLen: i32 = 0;
  labels: i32 = 0;
  longestLabel: i32 = 0;

  @inline reset(): void { this.keyLen = 0; this.textLen = 0; this.labels = 0; this.longestLabel = 0; }

  @inline get keyPtr(): usize { return changetype<usize>(this.key); }

  addLabel(src: usize, n: i32): void {
    let k = this.keyLen;
    let t = this.textLen;
    const key = changetype<usize>(this.key);
    const text = changetype<usize>(this.text);
    if (this.labels > 0) { store<u8>(key + <usize>k, 0x2e); store<u8>(text + <usize>t, 0x2e); k++; t++; }
    for (let i = 0; i < n; i++) {
      let c = load<u8>(src + <usize>i);
      store<u8>(key + <usize>k, <u8>(c - 65) < 26 ? c | 0x20 : c);
      k++;
      if (c > 0x20 && c < 0x7f && c != 0x2e && c != 0x5c) {
        store<u8>(text + <usize>t, c);
        t++;
      } else {
        store<u8>(text + <usize>t, 0x5c);
        store<u8>(text + <usize>t + 1, <u8>(0x30 + c / 100));
        store<u8>(text + <usize>t + 2, <u8>(0x30 + (c / 10) % 10));
        store<u8>(text + <usize>t + 3, <u8>(0x30 + c % 10));
        t += 4;
      }
    }
    this.keyLen = k;
    this.textLen = t;
    this.labels++;
    if (n > this.longestLabel) this.longestLabel = n;
  }

  /** Appends the labels of o from the key and text offsets ks, ts on: n labels, the longest `longest` bytes. */
  appendSuffix(o: NameBuf, ks: i32, ts: i32, n: i32, longest: i32): void {
    if (n <= 0) return;
    const key = changetype<usize>(this.key);
    const text = changetype<usize>(this.text);
    if (this.labels > 0) {
      store<u8>(key + <usize>this.keyLen, 0x2e);
      store<u8>(text + <usize>this.textLen, 0x2e);
      this.keyLen++;
      this.textLen++;
    }
    memory.copy(key + <usize>this.keyLen, changetype<usize>(o.key) + <usize>ks, <usize>(o.keyLen - ks));
    memory.copy(text + <usize>this.textLen, changetype<usize>(o.text) + <usize>ts, <usize>(o.textLen - ts));
    this.keyLen += o.keyLen - ks;
    this.textLen += o.textLen - ts;
    this.labels += n;
    if (longest > this.longestLabel) this.longestLabel = longest;
  }

  /** Presentation form; the root name is ".". */
  toString(): string {
    if (this.textLen == 0) return ".";
    return String.UTF8.decodeUnsafe(changetype<usize>(this.text), <usize>this.textLen);
  }
}

/*
 * What a successful walk learnt, for the message being read: from each
 * position it passed, the wire bytes and pointer hops to the name's end. A
 * pointer to such a position needs no second walk. Without this, 256 records
 * each a 2-byte pointer to a 255-byte name (or to 127 one-byte labels) made a
 * 4 KB message walk and copy 65,000 name bytes, ~250 us a packet (60x the
 * same bytes in one question).
 *
 * Position p is remembered only after a walk through it succeeded: a pointer
 * met there or later pointed below the segment start then, which is at or
 * below p, so a walk that starts at p (a pointer's target) passes the same
 * checks. A name not copied out (a record not kept) stops at such a
 * pointer; one copied out does when the rest is in a kept name's text (see
 * keepName); either only when the totals stay within the limits: otherwise
 * the walk goes on and fails with the same error it always did.
 */
const MEMO_SIZE = 16384; // a pointer's 14 bits reach no further
const memoStamp = new StaticArray<u32>(MEMO_SIZE);
const memoWire = new StaticArray<u16>(MEMO_SIZE);
const memoHops = new StaticArray<u8>(MEMO_SIZE);
let stamp: u32 = 1;
let memoBase: usize = 0;
let memoLen: i32 = -1;
const PATH_MAX = NAME_WIRE_MAX + MAX_HOPS + 2;
const pathPos = new StaticArray<i32>(PATH_MAX);
const pathWire = new StaticArray<i32>(PATH_MAX);
const pathHops = new StaticArray<i32>(PATH_MAX);

/*
 * Names the message keeps (its questions and answers), and for each position
 * their walks passed, where the rest of the name from there sits in the kept
 * name's text: a pointer to such a position appends that rest rather than
 * decoding it again, label by label. Answers point at the question, or into
 * it: 32 of them at a name of 127 one-byte labels cost as much again as
 * everything else in the message (~50 us, 25x a plain message).
 */
const MAX_KEPT = 64;
const keptNames = new StaticArray<NameBuf | null>(MAX_KEPT);
let keptCount = 0;
const keptStamp = new StaticArray<u32>(MEMO_SIZE);
const keptIdx = new StaticArray<u8>(MEMO_SIZE);
const keptKey = new StaticArray<u16>(MEMO_SIZE);
const keptText = new StaticArray<u16>(MEMO_SIZE);
const keptLabels = new StaticArray<u8>(MEMO_SIZE);
const keptLongest = new StaticArray<u8>(MEMO_SIZE);
// The last decode into a NameBuf, per path step: where the rest starts in it, labels before, longest label from there.
const pathKey = new StaticArray<i32>(PATH_MAX);
const pathText = new StaticArray<i32>(PATH_MAX);
const pathLabels = new StaticArray<i32>(PATH_MAX);
const pathLong = new StaticArray<i32>(PATH_MAX);
let lastName: NameBuf | null = null;
let lastSteps = 0;

/** Forgets what walks learnt: a new message is at [base, base+len). */
export function newMessage(base: usize, len: i32): void {
  if (++stamp == 0) {
    memory.fill(changetype<usize>(memoStamp), 0, MEMO_SIZE << 2);
    memory.fill(changetype<usize>(keptStamp), 0, MEMO_SIZE << 2);
    stamp = 1;
  }
  memoBase = base;
  memoLen = len;
  for (let i = 0; i < keptCount; i++) unchecked(keptNames[i] = null);
  keptCount = 0;
  lastName = null;
}

/** Registers `name`, just read by readName and kept unchanged while the message is handled. */
export function keepName(name: NameBuf): void {
  if (lastName !== name || keptCount >= MAX_KEPT) return;
  const idx = keptCount++;
  unchecked(keptNames[idx] = name);
  for (let k = 0; k < lastSteps; k++) {
    const p = unchecked(pathPos[k]);
    unchecked(keptStamp[p] = stamp);
    unchecked(keptIdx[p] = <u8>idx);
    unchecked(keptKey[p] = <u16>unchecked(pathKey[k]));
    unchecked(keptText[p] = <u16>unchecked(pathText[k]));
    unchecked(keptLabels[p] = <u8>unchecked(pathLabels[k]));
    unchecked(keptLongest[p] = <u8>unchecked(pathLong[k]));
  }
}

/** A decode into out succeeded: the longest label from each step on, for keepName. */
function decoded(out: NameBuf, steps: i32, tailLongest: i32): void {
  let run = tailLongest;
  for (let k = steps - 1; k >= 0; k--) {
    const n = unchecked(pathLong[k]);
    if (n > run) run = n;
    unchecked(pathLong[k] = run);
  }
  lastName = out;
  lastSteps = steps;
}

function remember(steps: i32, wire: i32, hops: i32): void {
  for (let k = 0; k < steps; k++) {
    const p = unchecked(pathPos[k]);
    unchecked(memoStamp[p] = stamp);
    unchecked(memoWire[p] = <u16>(wire - unchecked(pathWire[k]) + 1));
    unchecked(memoHops[p] = <u8>(hops - unchecked(pathHops[k])));
  }
}

/**
 * Reads the name at `off` of the message [base, base+len) into out, or only
 * checks it when out is null. Returns the offset just after the name where it
 * starts (after its first pointer when compressed), or a negative NameError.
 */
export function readName(base: usize, len: i32, off: i32, out: NameBuf | null): i32 {
  if (out !== null) { out.reset(); lastName = null; }
  const memo = base == memoBase && len == memoLen;
  let pos = off;
  let end = -1;
  let hops = 0;
  let wire = 1;
  let segmentStart = off;
  let steps = 0;
  while (true) {
    if (pos >= len || pos < 0) return NameError.TRUNCATED;
    const b = <i32>load<u8>(base + <usize>pos);
    if (memo && pos < MEMO_SIZE) {
      unchecked(pathPos[steps] = pos); unchecked(pathWire[steps] = wire); unchecked(pathHops[steps] = hops);
      if (out !== null) {
        const dot = out.labels > 0 ? 1 : 0;
        unchecked(pathKey[steps] = out.keyLen + dot); unchecked(pathText[steps] = out.textLen + dot);
        unchecked(pathLabels[steps] = out.labels); unchecked(pathLong[steps] = (b & 0xc0) == 0 ? b : 0);
      }
      steps++;
    }
    if (b == 0) {
      if (memo) { remember(steps, wire, hops); if (out !== null) decoded(out, steps, 0); }
      return end < 0 ? pos + 1 : end;
    }
    const kind = b & 0xc0;
    if (kind == 0xc0) {
      if (pos + 1 >= len) return NameError.TRUNCATED;
      const target = ((b & 0x3f) << 8) | <i32>load<u8>(base + <usize>(pos + 1));
      if (end < 0) end = pos + 2;
      if (++hops > MAX_HOPS) return NameError.POINTER_LOOP;
      if (target >= segmentStart) return NameError.FORWARD_POINTER;
      segmentStart = target;
      pos = target;
      if (memo && unchecked(memoStamp[target]) == stamp) {
        const w = wire + <i32>unchecked(memoWire[target]) - 1;
        const h = hops + <i32>unchecked(memoHops[target]);
        if (w <= NAME_WIRE_MAX && h <= MAX_HOPS) {
          if (out === null) { remember(steps, w, h); return end; }
          if (unchecked(keptStamp[target]) == stamp) {
            const kept = unchecked(keptNames[unchecked(keptIdx[target])])!;
            const longest = <i32>unchecked(keptLongest[target]);
            out.appendSuffix(kept, unchecked(keptKey[target]), unchecked(keptText[target]), kept.labels - <i32>unchecked(keptLabels[target]), longest);
            remember(steps, w, h);
            decoded(out, steps, longest);
            return end;
          }
        }
      }
      continue;
    }
    if (kind != 0) return NameError.LABEL_TYPE;
    wire += b + 1;
    if (wire > NAME_WIRE_MAX) return NameError.TOO_LONG;
    if (pos + 1 + b > len) return NameError.TRUNCATED;
    if (out !== null) out.addLabel(base + <usize>(pos + 1), b);
    pos += 1 + b;
  }
}
