// The request body as the back end reads it: Content-Encoding undone
// (gzip, deflate), then a UTF-16/32 charset transcoded to UTF-8. Each step
// writes into one of two buffers allocated once (the body never grows past
// body_depth, and 2-byte units take at most 3 UTF-8 bytes), so the cost per
// request is bounded by body_depth whatever the body claims.
import { Head } from "./http";
import { inflate, hasZlibHeader, inflatedLen, consumedLen, Inflate, Wrapper } from "./inflate";
import { Utf, utfOfLabel, utfOfJson, toUtf8, transcodedCap } from "./charset";
import { findParam, paramPtr, paramLen, equalsLower, isOws } from "./params";

/** What became of the body's Content-Encoding. */
export enum Coding {
  /** None, or undone: the text is what the back end reads (cut at body_depth if the body was). */
  READ = 0,
  /** Undone, but it inflates past body_depth: only the first body_depth bytes are seen. */
  PAST_DEPTH = 1,
  /** Unknown, corrupt or preset-dictionary: the text is what could be decoded before that. */
  UNDECODABLE = 2,
}

/** The body text after the last step. */
export let textPtr: usize = 0;
export let textLen: i32 = 0;
/** Bytes after the end of a compressed stream, which a server that ignores them, or skips decoding, may read. */
export let trailPtr: usize = 0;
export let trailLen: i32 = 0;

/** More stacked codings than this are not undone (gzip of gzip is seen; a tower of them is refused). */
const MAX_CODINGS = 4;
const CODING_IDENTITY = 0;
const CODING_GZIP = 1;
const CODING_DEFLATE = 2;
const CODING_UNKNOWN = 3;
const codings = new StaticArray<i32>(MAX_CODINGS);
let codingCount = 0;

const H_CONTENT_ENCODING = Uint8Array.wrap(String.UTF8.encode("content-encoding"));

let stageA = new Uint8Array(0);
let stageB = new Uint8Array(0);

/** Starts from the body bytes as received (de-chunked). */
export function setText(p: usize, n: i32): void {
  textPtr = p;
  textLen = n;
  trailPtr = 0;
  trailLen = 0;
}

/**
 * Undoes the Content-Encoding codings of `h`, last applied first, inflating
 * at most `depth` bytes per step. `cut` says the body bytes are only the
 * start of the body, so a stream that ends early is expected.
 */
export function undoContentEncoding(s: usize, h: Head, depth: i32, cut: bool): Coding {
  if (!readCodings(s, h)) return Coding.UNDECODABLE;
  let result = Coding.READ;
  for (let k = codingCount - 1; k >= 0; k--) {
    const c = unchecked(codings[k]);
    if (c == CODING_IDENTITY) continue;
    if (c == CODING_UNKNOWN) return Coding.UNDECODABLE;
    const r = inflateStep(c, depth, cut);
    if (r == Coding.UNDECODABLE) return r;
    if (r == Coding.PAST_DEPTH) { result = r; cut = true; }
  }
  return result;
}

/**
 * Transcodes the text to UTF-8 when the charset parameter of Content-Type
 * [ct, ct+ctLen) names UTF-16 or UTF-32, or, for JSON without a charset, when
 * its first bytes show one. Returns whether a label made it transcode: a
 * server that ignores the charset (PHP does) reads the bytes as sent, so
 * the caller inspects those too.
 */
export function undoCharset(ct: usize, ctLen: i32, json: bool, depth: i32): bool {
  let enc = Utf.NONE;
  let labelled = false;
  if (ctLen > 0 && findParam(ct, ctLen, "charset")) { enc = utfOfLabel(paramPtr, paramLen); labelled = true; }
  else if (json) enc = utfOfJson(textPtr, textLen);
  if (enc == Utf.NONE || textLen == 0) return false;
  const out = spareStage(depth);
  textLen = toUtf8(textPtr, textLen, enc, out.dataStart);
  textPtr = out.dataStart;
  return labelled;
}

function inflateStep(coding: i32, depth: i32, cut: bool): Coding {
  const wrapper = coding == CODING_GZIP ? Wrapper.GZIP : hasZlibHeader(textPtr, textLen) ? Wrapper.ZLIB : Wrapper.RAW;
  const out = spareStage(depth);
  const r = inflate(textPtr, textLen, out.dataStart, depth, wrapper);
  const rest = textLen - consumedLen;
  if (r == Inflate.DONE && rest > 0) {
    trailPtr = textPtr + <usize>consumedLen;
    trailLen = rest;
  }
  textPtr = out.dataStart;
  textLen = inflatedLen;
  if (r == Inflate.DONE || (r == Inflate.TRUNCATED && cut)) return Coding.READ;
  if (r == Inflate.FULL) return Coding.PAST_DEPTH;
  return Coding.UNDECODABLE;
}

/** The stage buffer not holding the current text. */
function spareStage(depth: i32): Uint8Array {
  const size = transcodedCap(depth);
  if (stageA.length != size) { stageA = new Uint8Array(size); stageB = new Uint8Array(size); }
  return textPtr == stageA.dataStart ? stageB : stageA;
}

/** Collects the codings of every Content-Encoding header, in order; false past MAX_CODINGS. */
function readCodings(s: usize, h: Head): bool {
  codingCount = 0;
  let i = h.find(s, H_CONTENT_ENCODING);
  while (i >= 0) {
    if (!listCodings(h.valuePtr(i), unchecked(h.valLen[i]))) return false;
    i = h.find(s, H_CONTENT_ENCODING, i + 1);
  }
  return true;
}

function listCodings(p: usize, n: i32): bool {
  let i = 0;
  while (i < n) {
    while (i < n && isOws(load<u8>(p + <usize>i))) i++;
    const start = i;
    while (i < n && load<u8>(p + <usize>i) != 0x2c) i++;
    let end = i;
    while (end > start && isOws(load<u8>(p + <usize>(end - 1)))) end--;
    i++;
    if (end == start) continue;
    if (codingCount >= MAX_CODINGS) return false;
    unchecked(codings[codingCount++] = codingOf(p + <usize>start, end - start));
  }
  return true;
}

function codingOf(p: usize, n: i32): i32 {
  if (equalsLower(p, n, "identity")) return CODING_IDENTITY;
  if (equalsLower(p, n, "gzip") || equalsLower(p, n, "x-gzip")) return CODING_GZIP;
  if (equalsLower(p, n, "deflate")) return CODING_DEFLATE;
  return CODING_UNKNOWN;
}

