// One pass over a byte range finding every DLP candidate: digit runs (cards,
// SSNs) by a byte loop, the rest (AWS ids and secrets, PEM headers, JWTs)
// from Aho–Corasick anchors. Findings carry offsets and a redacted form only;
// the caller never sees the secret's bytes. A candidate cut off by the end of
// the bytes seen so far sets `pendingFrom`, so the next scan of a stream
// starts early enough to see it whole.
import { MultiSearch, MatchList } from "../sdk/lib";
import { luhnOk, cardBrand, ssnOk, jwtHeaderOk, lastAlg } from "./checks";

export namespace Kind {
  export const CARD: i32 = 1;
  export const SSN: i32 = 2;
  export const AWS_KEY_ID: i32 = 4;
  export const AWS_SECRET: i32 = 8;
  export const PRIVATE_KEY: i32 = 16;
  export const JWT: i32 = 32;
  export const ALL: i32 = 63;
}

export class Findings {
  kinds: StaticArray<i32> = new StaticArray<i32>(32);
  starts: StaticArray<i32> = new StaticArray<i32>(32);
  ends: StaticArray<i32> = new StaticArray<i32>(32);
  redacted: Array<string> = new Array<string>(32);
  /** Card brand, key type or JWT alg: public facts about the finding. */
  detail: Array<string> = new Array<string>(32);
  /** Direction (0 to server, 1 to client) each finding came from; `dir` is stamped on new ones. */
  dirs: StaticArray<u8> = new StaticArray<u8>(32);
  dir: u8 = 0;
  count: i32 = 0;
  @inline get full(): bool { return this.count >= 32; }
  push(kind: i32, start: i32, end: i32, redacted: string, detail: string): void {
    if (this.full) return;
    const i = this.count++;
    unchecked(this.kinds[i] = kind);
    unchecked(this.starts[i] = start);
    unchecked(this.ends[i] = end);
    unchecked(this.dirs[i] = this.dir);
    this.redacted[i] = redacted;
    this.detail[i] = detail;
  }
}

/** Earliest start of a candidate cut off by the end of the bytes, or -1. */
export let pendingFrom: i32 = -1;
/**
 * False while more bytes may follow (a stream): a candidate that touches the
 * end is left pending, since a digit run or a token may continue. True for
 * the last look at some bytes (a datagram, a finished stream).
 */
let finalPass: bool = true;

const ID_AKIA = 1;
const ID_ASIA = 2;
const ID_BEGIN = 3;
const ID_JWT = 4;
const ID_LABEL = 5;

// One case-insensitive pass finds every anchor; the case-sensitive ones
// (AKIA, eyJ, BEGIN) are checked for case where they are handled.
const anchors = buildAnchors();
const hits = new MatchList(256);
const digitBuf = memory.data(40);

function buildAnchors(): MultiSearch {
  const m = new MultiSearch(true);
  m.addString("AKIA", ID_AKIA);
  m.addString("ASIA", ID_ASIA);
  m.addString("-----BEGIN ", ID_BEGIN);
  m.addString("eyJ", ID_JWT);
  // labels that put a 40-character AWS secret access key next to them
  m.addString("aws_secret_access_key", ID_LABEL);
  m.addString("secretaccesskey", ID_LABEL);
  m.addString("aws_secret_key", ID_LABEL);
  m.addString("secret_access_key", ID_LABEL);
  m.build();
  return m;
}

const AKIA = memory.data<u8>([0x41, 0x4b, 0x49, 0x41]);
const ASIA = memory.data<u8>([0x41, 0x53, 0x49, 0x41]);
const BEGIN = memory.data<u8>([0x2d, 0x2d, 0x2d, 0x2d, 0x2d, 0x42, 0x45, 0x47, 0x49, 0x4e, 0x20]);
const EYJ = memory.data<u8>([0x65, 0x79, 0x4a]);

@inline function exact(base: usize, at: i32, lit: usize, n: i32): bool {
  return memory.compare(base + <usize>at, lit, <usize>n) == 0;
}

@inline function isDigit(c: u8): bool { return <u8>(c - 0x30) < 10; }
@inline function isAlnum(c: u8): bool { return <u8>(c - 0x30) < 10 || <u8>((c | 0x20) - 0x61) < 26; }
@inline function isB64Url(c: u8): bool { return isAlnum(c) || c == 0x2d || c == 0x5f; }
@inline function isB64(c: u8): bool { return isAlnum(c) || c == 0x2b || c == 0x2f; }

@inline function pending(at: i32): void {
  if (pendingFrom < 0 || at < pendingFrom) pendingFrom = at;
}

/**
 * Scans [from, end) of base (bytes before `from` are readable for boundary
 * checks); `end` is also the end of everything known. Adds findings whose
 * start is >= minStart. `kinds` selects detectors.
 */
export function scan(base: usize, from: i32, end: i32, minStart: i32, kinds: i32, out: Findings, final: bool = true): void {
  pendingFrom = -1;
  finalPass = final;
  secretKinds = (kinds & Kind.AWS_SECRET) != 0;
  if ((kinds & (Kind.CARD | Kind.SSN)) != 0) scanDigits(base, from, end, minStart, kinds, out);
  if ((kinds & (Kind.AWS_KEY_ID | Kind.AWS_SECRET | Kind.PRIVATE_KEY | Kind.JWT)) != 0) {
    anchors.scan(base + <usize>from, end - from, hits);
    for (let h = 0; h < hits.count && !out.full; h++) {
      const at = from + unchecked(hits.starts[h]);
      if (at < minStart) continue;
      const id = unchecked(hits.ids[h]);
      if (id == ID_AKIA) { if ((kinds & Kind.AWS_KEY_ID) != 0 && exact(base, at, AKIA, 4)) keyId(base, at, end, out); }
      else if (id == ID_ASIA) { if ((kinds & Kind.AWS_KEY_ID) != 0 && exact(base, at, ASIA, 4)) keyId(base, at, end, out); }
      else if (id == ID_BEGIN) { if ((kinds & Kind.PRIVATE_KEY) != 0 && exact(base, at, BEGIN, 11)) pemHeader(base, at, end, out); }
      else if (id == ID_JWT) { if ((kinds & Kind.JWT) != 0 && exact(base, at, EYJ, 3)) jwt(base, at, end, out); }
      else if ((kinds & Kind.AWS_SECRET) != 0) awsSecret(base, at, end, out);
    }
    // more anchors than the list holds: rescan from the last one next time
    if (hits.overflow) pending(from + unchecked(hits.starts[hits.count - 1]));
  }
}

// Group bookkeeping of the current digit run: where each group's digits and
// characters start, and the separator before it (0 for the first).
const MAX_GROUPS = 40;
const gDigit = new StaticArray<i32>(MAX_GROUPS + 1);
const gChar = new StaticArray<i32>(MAX_GROUPS);
const gCharEnd = new StaticArray<i32>(MAX_GROUPS);
const gSep = new StaticArray<u8>(MAX_GROUPS);

function scanDigits(base: usize, from: i32, end: i32, minStart: i32, kinds: i32, out: Findings): void {
  let i = from;
  while (i < end && !out.full) {
    const c = load<u8>(base + <usize>i);
    if (!isDigit(c) || (i > 0 && isAlnum(load<u8>(base + <usize>(i - 1))))) { i++; continue; }
    // a run of digit groups joined by single ' ' or '-'
    const start = i;
    let n = 0;
    let groups = 0;
    let j = i;
    let sep: u8 = 0;
    while (j < end && n < 40 && groups < MAX_GROUPS) {
      unchecked(gDigit[groups] = n);
      unchecked(gChar[groups] = j);
      unchecked(gSep[groups] = sep);
      while (j < end && n < 40 && isDigit(load<u8>(base + <usize>j))) { store<u8>(digitBuf + <usize>n, load<u8>(base + <usize>j) - 0x30); n++; j++; }
      unchecked(gCharEnd[groups] = j);
      groups++;
      if (j + 1 < end && (load<u8>(base + <usize>j) == 0x20 || load<u8>(base + <usize>j) == 0x2d) && isDigit(load<u8>(base + <usize>(j + 1)))) {
        sep = load<u8>(base + <usize>j);
        j++;
        continue;
      }
      break;
    }
    unchecked(gDigit[groups] = n);
    const runEnd = j;
    i = runEnd > i ? runEnd : i + 1;
    if (runEnd >= end) {
      pending(start);
      if (!finalPass) continue;
    }
    if (runEnd < end && isAlnum(load<u8>(base + <usize>runEnd))) continue;
    if (start < minStart) continue;
    // every group may start a candidate; a found one consumes its groups
    let g = 0;
    while (g < groups && !out.full) {
      const used = candidateAt(g, groups, kinds, out);
      g += used > 0 ? used : 1;
    }
  }
}

// Tries an SSN (3-2-4 with dashes) or a card number (13..19 digits ending at
// a group end, one separator kind) starting at group g; returns the groups used.
function candidateAt(g: i32, groups: i32, kinds: i32, out: Findings): i32 {
  const d0 = unchecked(gDigit[g]);
  const len = (k: i32): i32 => unchecked(gDigit[k + 1]) - unchecked(gDigit[k]);
  if ((kinds & Kind.SSN) != 0 && g + 2 < groups && len(g) == 3 && len(g + 1) == 2 && len(g + 2) == 4
    && unchecked(gSep[g + 1]) == 0x2d && unchecked(gSep[g + 2]) == 0x2d) {
    const area = digitsValue(d0, 3);
    const group = digitsValue(d0 + 3, 2);
    const serial = digitsValue(d0 + 5, 4);
    if (ssnOk(area, group, serial)) {
      out.push(Kind.SSN, unchecked(gChar[g]), unchecked(gCharEnd[g + 2]), "***-**-" + lastDigits(d0 + 9, 4), "");
      return 3;
    }
  }
  if ((kinds & Kind.CARD) == 0) return 0;
  const sepKind = g + 1 < groups ? unchecked(gSep[g + 1]) : 0;
  for (let e = g; e < groups; e++) {
    if (e > g && unchecked(gSep[e]) != sepKind) break;
    const n = unchecked(gDigit[e + 1]) - d0;
    if (n > 19) break;
    if (n < 13) continue;
    if (!luhnOk(digitBuf + <usize>d0, n)) continue;
    const brand = cardBrand(digitBuf + <usize>d0, n);
    if (brand.length == 0) continue;
    out.push(Kind.CARD, unchecked(gChar[g]), unchecked(gCharEnd[e]), "*".repeat(n - 4) + lastDigits(d0 + n, 4), brand);
    return e - g + 1;
  }
  return 0;
}

function digitsValue(at: i32, k: i32): i32 {
  let v = 0;
  for (let i = 0; i < k; i++) v = v * 10 + <i32>load<u8>(digitBuf + <usize>(at + i));
  return v;
}

/** The k digits of the run that end at digit index n. */
function lastDigits(n: i32, k: i32): string {
  let s = "";
  for (let i = n - k; i < n; i++) s += String.fromCharCode(0x30 + <i32>load<u8>(digitBuf + <usize>i));
  return s;
}

// AKIA/ASIA + 16 upper-case letters or digits, not inside a longer word.
function keyId(base: usize, at: i32, end: i32, out: Findings): void {
  if (at > 0 && isAlnum(load<u8>(base + <usize>(at - 1)))) return;
  const stop = at + 20;
  if (stop > end || (stop == end && !finalPass)) { pending(at); return; }
  for (let i = at + 4; i < stop; i++) {
    const c = load<u8>(base + <usize>i);
    if (!(<u8>(c - 0x41) < 26 || isDigit(c))) return;
  }
  if (stop < end && isAlnum(load<u8>(base + <usize>stop))) return;
  const prefix = String.UTF8.decodeUnsafe(base + <usize>at, 4);
  out.push(Kind.AWS_KEY_ID, at, stop, prefix + "************" + String.UTF8.decodeUnsafe(base + <usize>(stop - 4), 4), prefix == "ASIA" ? "temporary" : "long-term");
  if (secretKinds) pairedSecret(base, stop, end, out);
}

/** Set by scan(): whether AWS secrets are being looked for. */
let secretKinds: bool = false;

// A key id followed closely by a 40-character secret, as in the credentials
// CSV ("AKIA...,wJalr...") or "id:secret" pairs: the secret needs no label.
function pairedSecret(base: usize, from: i32, end: i32, out: Findings): void {
  let i = from;
  let gap = 0;
  while (i < end && gap < 8 && isPairSeparator(load<u8>(base + <usize>i))) { i++; gap++; }
  if (gap == 0 || i + 40 > end) return;
  let lower = false, upper = false, digit = false;
  for (let k = 0; k < 40; k++) {
    const c = load<u8>(base + <usize>(i + k));
    if (!isB64(c)) return;
    if (<u8>(c - 0x61) < 26) lower = true;
    else if (<u8>(c - 0x41) < 26) upper = true;
    else if (isDigit(c)) digit = true;
  }
  if (i + 40 < end && isB64(load<u8>(base + <usize>(i + 40)))) return;
  // random keys mix all three; words and hex digests do not
  if (!(lower && upper && digit)) return;
  for (let k = 0; k < out.count; k++) if (unchecked(out.kinds[k]) == Kind.AWS_SECRET && unchecked(out.starts[k]) == i) return;
  out.push(Kind.AWS_SECRET, i, i + 40, "[40 characters]", "paired with a key id");
}

@inline function isPairSeparator(c: u8): bool {
  return c == 0x2c || c == 0x20 || c == 0x09 || c == 0x0d || c == 0x0a || c == 0x22 || c == 0x27 || c == 0x3a || c == 0x3d || c == 0x3b || c == 0x7c;
}

// label, up to 6 of  "':=space, then exactly 40 base64 characters.
function awsSecret(base: usize, at: i32, end: i32, out: Findings): void {
  let i = at;
  while (i < end && isLabelChar(load<u8>(base + <usize>i))) i++;
  let gap = 0;
  while (i < end && gap < 6 && isSeparator(load<u8>(base + <usize>i))) { i++; gap++; }
  if (i + 40 > end || (i + 40 == end && !finalPass)) { pending(at); return; }
  for (let k = 0; k < 40; k++) if (!isB64(load<u8>(base + <usize>(i + k)))) return;
  if (i + 40 < end && isB64(load<u8>(base + <usize>(i + 40)))) return;
  // overlapping labels ("aws_secret_access_key" holds "secret_access_key") find the same value
  for (let k = 0; k < out.count; k++) if (unchecked(out.kinds[k]) == Kind.AWS_SECRET && unchecked(out.starts[k]) == i) return;
  out.push(Kind.AWS_SECRET, i, i + 40, "[40 characters]", "");
}

@inline function isLabelChar(c: u8): bool { return isAlnum(c) || c == 0x5f; }
@inline function isSeparator(c: u8): bool { return c == 0x20 || c == 0x22 || c == 0x27 || c == 0x3a || c == 0x3d || c == 0x09; }

// "-----BEGIN <type>PRIVATE KEY-----"; the type is public, the body is not read.
function pemHeader(base: usize, at: i32, end: i32, out: Findings): void {
  let i = at + 11;
  const limit = at + 11 + 40;
  while (i < end && i < limit && load<u8>(base + <usize>i) != 0x2d) {
    const c = load<u8>(base + <usize>i);
    if (!(<u8>(c - 0x41) < 26 || c == 0x20 || isDigit(c))) return;
    i++;
  }
  if (i >= end || i + 5 > end) { pending(at); return; }
  if (i >= limit) return;
  for (let k = 0; k < 5; k++) if (load<u8>(base + <usize>(i + k)) != 0x2d) return;
  const label = String.UTF8.decodeUnsafe(base + <usize>(at + 11), <usize>(i - at - 11));
  if (!label.endsWith("PRIVATE KEY")) return;
  out.push(Kind.PRIVATE_KEY, at, i + 5, "-----BEGIN " + label + "-----", label);
}

// header "." payload "." signature, base64url; the header must decode to JSON with "alg".
function jwt(base: usize, at: i32, end: i32, out: Findings): void {
  if (at > 0 && isB64Url(load<u8>(base + <usize>(at - 1)))) return;
  let i = at;
  while (i < end && i - at <= 1024 && isB64Url(load<u8>(base + <usize>i))) i++;
  if (i >= end) { pending(at); return; }
  if (load<u8>(base + <usize>i) != 0x2e || i - at > 1024) return;
  const headerEnd = i;
  i++;
  const p1 = i;
  while (i < end && isB64Url(load<u8>(base + <usize>i))) i++;
  if (i >= end) { pending(at); return; }
  if (load<u8>(base + <usize>i) != 0x2e || i == p1) return;
  i++;
  while (i < end && isB64Url(load<u8>(base + <usize>i))) i++;
  if (i >= end && !finalPass) { pending(at); return; }
  if (!jwtHeaderOk(base + <usize>at, headerEnd - at)) return;
  out.push(Kind.JWT, at, i, "[JWT, " + (i - at).toString() + " characters]", lastAlg());
}
