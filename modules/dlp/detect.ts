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
  /** First slot the current scan wrote: earlier ones belong to another scan and keep their offsets. */
  scanFirst: i32 = 0;
  /** Medium-severity findings of the current scan, which a severe one may replace once the list is full. */
  mediums: i32 = 0;
  @inline get full(): bool { return this.count >= 32; }
  /** Full with nothing a more severe finding could replace: scanning on would find nothing to report. */
  @inline get saturated(): bool { return this.count >= 32 && this.mediums == 0; }
  reset(): void { this.count = 0; this.scanFirst = 0; this.mediums = 0; }
  startScan(): void { this.scanFirst = this.count; this.mediums = 0; }
  // Past 32 findings, a severe one (a card, a secret key, a private key)
  // replaces a medium one: decoys (33 SSNs) must not hide the key after them.
  push(kind: i32, start: i32, end: i32, redacted: string, detail: string): void {
    const medium = !isSevere(kind);
    if (!this.full) {
      if (medium) this.mediums++;
      this.set(this.count++, kind, start, end, redacted, detail);
      return;
    }
    if (medium || this.mediums == 0) return;
    let i = this.count - 1;
    while (isSevere(unchecked(this.kinds[i]))) i--;
    this.mediums--;
    this.set(i, kind, start, end, redacted, detail);
  }
  /** Copies finding `from` into slot `to`. */
  move(from: i32, to: i32): void {
    if (from == to) return;
    this.set(to, unchecked(this.kinds[from]), unchecked(this.starts[from]), unchecked(this.ends[from]), this.redacted[from], this.detail[from]);
    unchecked(this.dirs[to] = unchecked(this.dirs[from]));
  }
  private set(i: i32, kind: i32, start: i32, end: i32, redacted: string, detail: string): void {
    unchecked(this.kinds[i] = kind);
    unchecked(this.starts[i] = start);
    unchecked(this.ends[i] = end);
    unchecked(this.dirs[i] = this.dir);
    this.redacted[i] = redacted;
    this.detail[i] = detail;
  }
}

/** The kinds reported at severity 1 (index.ts KIND_SEVERITY). */
@inline function isSevere(kind: i32): bool { return (kind & (Kind.CARD | Kind.AWS_SECRET | Kind.PRIVATE_KEY)) != 0; }

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
/** The longest anchor ("aws_secret_access_key"). */
const MAX_ANCHOR = 21;
/**
 * Anchors are matched a window at a time. At most two anchors end at one
 * byte ("secret_access_key" ends where "aws_secret_access_key" does), so a
 * window, read on MAX_ANCHOR - 1 bytes past its end, holds at most
 * 2 * (480 + 20) = 1000 of them: the list never overflows, and every anchor
 * is handled once however densely they come. (A list that overflowed, and a
 * rescan from its last hit, left the bytes after it unscanned: DLP-7.)
 */
const ANCHOR_WINDOW = 480;
const hits = new MatchList(1024);
const digitBuf = memory.data(40);

function buildAnchors(): MultiSearch {
  const m = new MultiSearch(true);
  m.addString("AKIA", ID_AKIA);
  m.addString("ASIA", ID_ASIA);
  m.addString("-----BEGIN ", ID_BEGIN);
  // a key pasted in a web form: browsers send its spaces as + or %20
  m.addString("-----BEGIN+", ID_BEGIN);
  m.addString("-----BEGIN%20", ID_BEGIN);
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
const BEGIN = memory.data<u8>([0x2d, 0x2d, 0x2d, 0x2d, 0x2d, 0x42, 0x45, 0x47, 0x49, 0x4e]);
const EYJ = memory.data<u8>([0x65, 0x79, 0x4a]);

@inline function exact(base: usize, at: i32, lit: usize, n: i32): bool {
  return memory.compare(base + <usize>at, lit, <usize>n) == 0;
}

@inline function isDigit(c: u8): bool { return <u8>(c - 0x30) < 10; }
@inline function isAlnum(c: u8): bool { return <u8>(c - 0x30) < 10 || <u8>((c | 0x20) - 0x61) < 26; }
@inline function isB64Url(c: u8): bool { return isAlnum(c) || c == 0x2d || c == 0x5f; }
@inline function isB64(c: u8): bool { return isAlnum(c) || c == 0x2b || c == 0x2f; }
@inline function isHex(c: u8): bool { return <u8>(c - 0x30) < 10 || <u8>((c | 0x20) - 0x61) < 6; }
@inline function byteAt(base: usize, i: i32): u8 { return load<u8>(base + <usize>i); }

/**
 * True when the bytes just before `at` are an escape that stands for a
 * delimiter: JSON's \n \t \r \b \f, or a percent-encoded byte (%22, %20,
 * %3A). They end in a letter or digit, yet the application decodes them
 * and gets the value after them on its own (DLP-2).
 */
function escapedDelimiterBefore(base: usize, at: i32): bool {
  if (at >= 2 && byteAt(base, at - 2) == 0x5c && isJsonEscapeLetter(byteAt(base, at - 1))) return true;
  return at >= 3 && byteAt(base, at - 3) == 0x25 && isHex(byteAt(base, at - 2)) && isHex(byteAt(base, at - 1));
}
@inline function isJsonEscapeLetter(c: u8): bool { return c == 0x6e || c == 0x74 || c == 0x72 || c == 0x62 || c == 0x66; }

/** True when a value may start at `at`: no letter or digit of a longer word is right before it. */
function wordStartsAt(base: usize, at: i32): bool {
  return at == 0 || !isAlnum(byteAt(base, at - 1)) || escapedDelimiterBefore(base, at);
}

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
  out.startScan();
  if ((kinds & (Kind.CARD | Kind.SSN)) != 0) scanDigits(base, from, end, minStart, kinds, out);
  if ((kinds & (Kind.AWS_KEY_ID | Kind.AWS_SECRET | Kind.PRIVATE_KEY | Kind.JWT)) == 0) return;
  for (let w = from; w < end && !out.saturated; w += ANCHOR_WINDOW) {
    scanAnchorWindow(base, w, end, minStart, kinds, out);
  }
}

/** Handles the anchors that start in [w, w + ANCHOR_WINDOW). */
function scanAnchorWindow(base: usize, w: i32, end: i32, minStart: i32, kinds: i32, out: Findings): void {
  const windowEnd = w + ANCHOR_WINDOW;
  const readTo = windowEnd + MAX_ANCHOR - 1 < end ? windowEnd + MAX_ANCHOR - 1 : end;
  anchors.scan(base + <usize>w, readTo - w, hits);
  for (let h = 0; h < hits.count && !out.saturated; h++) {
    const at = w + unchecked(hits.starts[h]);
    if (at < minStart || at >= windowEnd) continue;
    const id = unchecked(hits.ids[h]);
    if (id == ID_AKIA) { if ((kinds & Kind.AWS_KEY_ID) != 0 && exact(base, at, AKIA, 4)) keyId(base, at, end, out); }
    else if (id == ID_ASIA) { if ((kinds & Kind.AWS_KEY_ID) != 0 && exact(base, at, ASIA, 4)) keyId(base, at, end, out); }
    else if (id == ID_BEGIN) { if ((kinds & Kind.PRIVATE_KEY) != 0 && exact(base, at, BEGIN, 10)) pemHeader(base, at, end, out); }
    else if (id == ID_JWT) { if ((kinds & Kind.JWT) != 0 && exact(base, at, EYJ, 3)) jwt(base, at, end, out); }
    else if ((kinds & Kind.AWS_SECRET) != 0) awsSecret(base, at, end, out);
  }
  // cannot happen (see ANCHOR_WINDOW); were it to, the window is looked at again with the next bytes
  if (hits.overflow) pending(w);
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
  while (i < end && !out.saturated) {
    const c = load<u8>(base + <usize>i);
    if (!isDigit(c) || !wordStartsAt(base, i) || isPercentEscapeAt(base, i - 1, end) || afterDoubleEquals(base, i)) { i++; continue; }
    // a run of digit groups joined by single ' ' or '-' (or a form's + or %20)
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
      const sepLen = groupSeparatorAt(base, j, end);
      if (sepLen == 0) break;
      sep = separatorKind;
      j += sepLen;
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
    while (g < groups && !out.saturated) {
      const used = candidateAt(g, groups, kinds, out);
      g += used > 0 ? used : 1;
    }
  }
}

/** Set by groupSeparatorAt: '-' or ' ' (a form's + and %20 are spaces). */
let separatorKind: u8 = 0;

/**
 * Length of the separator at j joining two digit groups (0 when there is
 * none): ' ' or '-', or what a browser form sends for a space, '+' or
 * "%20" (DLP-3). Its kind goes to separatorKind.
 */
function groupSeparatorAt(base: usize, j: i32, end: i32): i32 {
  if (j >= end) return 0;
  const c = byteAt(base, j);
  let n = 0;
  if (c == 0x20 || c == 0x2d || c == 0x2b) n = 1;
  else if (c == 0x25 && j + 2 < end && byteAt(base, j + 1) == 0x32 && byteAt(base, j + 2) == 0x30) n = 3;
  if (n == 0 || j + n >= end || !isDigit(byteAt(base, j + n))) return 0;
  separatorKind = c == 0x2d ? 0x2d : 0x20;
  return n;
}

/**
 * True after "==": Python's email package writes every MIME boundary as
 * fifteen '=' and a random 19-digit number (one in ten of them passes Luhn
 * and a brand's prefix), and a form writes a value after a single '='.
 */
function afterDoubleEquals(base: usize, at: i32): bool {
  return at >= 2 && byteAt(base, at - 1) == 0x3d && byteAt(base, at - 2) == 0x3d;
}

/** True when the byte at p is the % of an escape %XX: the digits after it encode another byte. */
function isPercentEscapeAt(base: usize, p: i32, end: i32): bool {
  return p >= 0 && p + 2 < end && byteAt(base, p) == 0x25 && isHex(byteAt(base, p + 1)) && isHex(byteAt(base, p + 2));
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
  if (!wordStartsAt(base, at)) return;
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
  if (gap == 0) return;
  const stop = secretEnd(base, i, end);
  if (stop < 0) return;
  // random keys mix all three; words and hex digests do not
  if (!mixesCaseAndDigits(base, i, stop)) return;
  if (alreadyFound(out, i)) return;
  out.push(Kind.AWS_SECRET, i, stop, "[40 characters]", "paired with a key id");
}

const NOT_A_SECRET = -1;
const SECRET_CUT_OFF = -2;

/**
 * Where a 40-character base64 value starting at i ends, or NOT_A_SECRET, or
 * SECRET_CUT_OFF when the bytes end first. PHP's json_encode writes `/` as
 * `\/` (DLP-4): the decoder gives back the 40 characters, so `\/` counts as
 * one of them.
 */
function secretEnd(base: usize, i: i32, end: i32): i32 {
  for (let n = 0; n < 40; n++) {
    const w = secretCharWidth(base, i, end);
    if (w <= 0) return w == 0 ? NOT_A_SECRET : SECRET_CUT_OFF;
    i += w;
  }
  if (i == end) return finalPass ? i : SECRET_CUT_OFF;
  return secretCharWidth(base, i, end) == 0 ? i : NOT_A_SECRET;
}

/** Bytes of one base64 character at i (2 for `\/`), 0 when there is none, -1 when the bytes end first. */
function secretCharWidth(base: usize, i: i32, end: i32): i32 {
  if (i >= end) return -1;
  const c = byteAt(base, i);
  if (isB64(c)) return 1;
  if (c != 0x5c) return 0;
  if (i + 1 >= end) return -1;
  return byteAt(base, i + 1) == 0x2f ? 2 : 0;
}

function mixesCaseAndDigits(base: usize, from: i32, to: i32): bool {
  let lower = false, upper = false, digit = false;
  for (let i = from; i < to; i++) {
    const c = byteAt(base, i);
    if (<u8>(c - 0x61) < 26) lower = true;
    else if (<u8>(c - 0x41) < 26) upper = true;
    else if (isDigit(c)) digit = true;
  }
  return lower && upper && digit;
}

/** Overlapping labels ("aws_secret_access_key" holds "secret_access_key") and a pair's id find the same value. */
function alreadyFound(out: Findings, start: i32): bool {
  for (let k = 0; k < out.count; k++) if (unchecked(out.kinds[k]) == Kind.AWS_SECRET && unchecked(out.starts[k]) == start) return true;
  return false;
}

@inline function isPairSeparator(c: u8): bool {
  return c == 0x2c || c == 0x20 || c == 0x09 || c == 0x0d || c == 0x0a || c == 0x22 || c == 0x27 || c == 0x3a || c == 0x3d || c == 0x3b || c == 0x7c;
}

/** Label characters read past an anchor: the longest label is 21, and a bound keeps dense labels linear. */
const MAX_LABEL = 40;

// label, up to 8 separators, then exactly 40 base64 characters.
function awsSecret(base: usize, at: i32, end: i32, out: Findings): void {
  let i = at;
  while (i < end && i - at < MAX_LABEL && isLabelChar(byteAt(base, i))) i++;
  let gap = 0;
  while (i < end && gap < 8 && isSeparator(byteAt(base, i))) { i++; gap++; }
  const stop = secretEnd(base, i, end);
  if (stop == SECRET_CUT_OFF) { pending(at); return; }
  if (stop < 0 || alreadyFound(out, i)) return;
  out.push(Kind.AWS_SECRET, i, stop, "[40 characters]", "");
}

@inline function isLabelChar(c: u8): bool { return isAlnum(c) || c == 0x5f; }
/**
 * Between a label and its value: blanks and "':= as in JSON, INI and YAML,
 * and (DLP-4) XML's > (<SecretAccessKey>...), Ruby's =>, and the \ of
 * quotes escaped in JSON held in a JSON string.
 */
@inline function isSeparator(c: u8): bool {
  return c == 0x20 || c == 0x22 || c == 0x27 || c == 0x3a || c == 0x3d || c == 0x09 || c == 0x3e || c == 0x5c;
}

const MAX_PEM_LABEL = 40;
/** The header's label with form-encoded spaces decoded. */
const pemLabel = memory.data(MAX_PEM_LABEL + 2);

// "-----BEGIN <type>PRIVATE KEY-----", or GnuPG's "PGP PRIVATE KEY BLOCK"
// (DLP-6); its spaces may be a form's + or %20, as when a key is pasted in a
// web form. The type is public, the body is not read.
function pemHeader(base: usize, at: i32, end: i32, out: Findings): void {
  let i = at + 10;
  let n = 0;
  while (i < end && n <= MAX_PEM_LABEL && byteAt(base, i) != 0x2d) {
    const c = byteAt(base, i);
    const space = formSpaceWidth(base, i, end);
    if (space < 0) { pending(at); return; }
    if (space == 0 && !(<u8>(c - 0x41) < 26 || isDigit(c))) return;
    store<u8>(pemLabel + <usize>n, space > 0 ? 0x20 : c);
    n++;
    i += space > 0 ? space : 1;
  }
  if (i >= end || i + 5 > end) { pending(at); return; }
  if (n > MAX_PEM_LABEL + 1) return;
  for (let k = 0; k < 5; k++) if (byteAt(base, i + k) != 0x2d) return;
  // the anchor ends in the space before the type
  const label = String.UTF8.decodeUnsafe(pemLabel + 1, <usize>(n - 1));
  if (!label.endsWith("PRIVATE KEY") && label != "PGP PRIVATE KEY BLOCK") return;
  out.push(Kind.PRIVATE_KEY, at, i + 5, "-----BEGIN " + label + "-----", label);
}

/** Bytes of a space at i: 1 for ' ' or '+', 3 for "%20", 0 for none, -1 when the bytes end inside "%20". */
function formSpaceWidth(base: usize, i: i32, end: i32): i32 {
  const c = byteAt(base, i);
  if (c == 0x20 || c == 0x2b) return 1;
  if (c != 0x25) return 0;
  if (i + 3 > end) return -1;
  return byteAt(base, i + 1) == 0x32 && byteAt(base, i + 2) == 0x30 ? 3 : 0;
}

// header "." payload "." signature, base64url; the header must decode to JSON with "alg".
function jwt(base: usize, at: i32, end: i32, out: Findings): void {
  if (at > 0 && isB64Url(byteAt(base, at - 1)) && !escapedDelimiterBefore(base, at)) return;
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
