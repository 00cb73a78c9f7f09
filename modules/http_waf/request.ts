// Runs the detections over every part of one parsed request: path, query
// arguments, the headers that carry user input, cookies and the body. Each
// part is decoded the way the back end would decode it, then checked by the
// detections that make sense for it. Findings keep the first hit per
// detection (where and what), which is what an alert reports.
import { Head, Body, lowerByte } from "./http";
import { Config, Detect } from "./config";
import { decodeInto, copyInto, value, valueLen, valueRounds, VALUE_CAP } from "./normalize";
import { isSqli, fp, fpLen, fpContext } from "./sqli";
import { isXss, xssKind } from "./xss";
import { isTraversal } from "./traversal";
import { isCommandInjection } from "./cmdi";
import { isJndi } from "./jndi";
import { scannerIn, scannerName } from "./scanner";
import { utf8Text, hex4 } from "../sdk/lib";
import { Coding, setText, textPtr, textLen, trailPtr, trailLen, undoContentEncoding, undoCharset } from "./bodytext";
import { Part, startParts, nextPart } from "./multipart";
import { PartCoding } from "./transferencoding";
import { decodeQuotedPrintable } from "./quotedprintable";
import { decodeMimeBase64, Padding, dataAfterPadding } from "./mimebase64";
import { decodedBuffer } from "./partbuffer";

export const DETECTIONS = 7;

export class Findings {
  mask: i32 = 0;
  field: StaticArray<string> = new StaticArray<string>(DETECTIONS);
  sample: StaticArray<string> = new StaticArray<string>(DETECTIONS);
  detail: StaticArray<string> = new StaticArray<string>(DETECTIONS);
  /** The part coding undone to find each detection ("quoted-printable", "base64"), or "" for text as sent. */
  decoded: StaticArray<string> = new StaticArray<string>(DETECTIONS);
  extraId: i32 = -1;
  /** A multipart part carried a Content-Transfer-Encoding the module cannot undo (1001017). */
  unknownPartCoding: bool = false;
  /** Why the body could not be read whole (a bodytext.ts Coding; 0 = it could), for a dedicated anomaly. */
  unreadBody: i32 = 0;
  reset(): void { this.mask = 0; this.extraId = -1; this.unreadBody = 0; this.unknownPartCoding = false; }
}

// Which detections each kind of field gets.
const FOR_PATH = Detect.TRAVERSAL | Detect.XSS | Detect.JNDI | Detect.CMDI | Detect.EXTRA;
const FOR_SEGMENT = Detect.SQLI;
const FOR_ARG = Detect.SQLI | Detect.XSS | Detect.TRAVERSAL | Detect.CMDI | Detect.JNDI | Detect.EXTRA;
const FOR_UA = Detect.SCANNER | Detect.JNDI | Detect.SQLI | Detect.XSS | Detect.CMDI | Detect.EXTRA;
const FOR_INPUT_HEADER = Detect.JNDI | Detect.SQLI | Detect.XSS | Detect.EXTRA;
const FOR_OTHER_HEADER = Detect.JNDI | Detect.EXTRA;
const FOR_RAW_BODY = Detect.JNDI | Detect.XSS | Detect.CMDI | Detect.EXTRA;

const H_USER_AGENT = utf8l("user-agent");
const H_REFERER = utf8l("referer");
const H_COOKIE = utf8l("cookie");
const H_XFF = utf8l("x-forwarded-for");
const H_CONTENT_TYPE = utf8l("content-type");

function utf8l(s: string): Uint8Array { return Uint8Array.wrap(String.UTF8.encode(s)); }

let cfg: Config = new Config();
let out: Findings = new Findings();
// The field being checked, as a constant prefix plus a name in memory; the
// label string is only built when something is found.
let fieldPrefix: string = "";
let fieldNamePtr: usize = 0;
let fieldNameLen: i32 = 0;
/** The part coding undone to get the value being checked, or "" (Findings.decoded). */
let decodedAs: string = "";

function setField(prefix: string, p: usize, n: i32): void {
  fieldPrefix = prefix;
  fieldNamePtr = p;
  fieldNameLen = n < 64 ? n : 64;
}

function fieldLabel(): string {
  if (fieldNameLen <= 0) return fieldPrefix;
  return fieldPrefix + ":" + utf8Text(fieldNamePtr, fieldNameLen, 64);
}

/** Checks the request in `h` (head) and `body` (its first bytes) against every enabled detection. */
export function inspectRequest(s: usize, h: Head, body: Body, config: Config, findings: Findings): void {
  cfg = config;
  out = findings;
  findings.reset();
  // target: path, then query arguments
  let q = h.bOff;
  const end = h.bOff + h.bLen;
  while (q < end && load<u8>(s + <usize>q) != 0x3f && load<u8>(s + <usize>q) != 0x23) q++;
  setField("path", 0, 0);
  decodeInto(s + <usize>h.bOff, q - h.bOff, false);
  check(FOR_PATH, true);
  checkSegments();
  if (q < end && load<u8>(s + <usize>q) == 0x3f) {
    let qe = q + 1;
    while (qe < end && load<u8>(s + <usize>qe) != 0x23) qe++;
    args(s + <usize>(q + 1), qe - q - 1, 0x26, true, "query");
  }
  // headers
  for (let i = 0; i < h.count; i++) {
    const np = s + <usize>unchecked(h.nameOff[i]);
    const nl = unchecked(h.nameLen[i]);
    const vp = h.valuePtr(i);
    const vl = unchecked(h.valLen[i]);
    if (nameIs(np, nl, H_COOKIE)) {
      args(vp, vl, 0x3b, false, "cookie");
      continue;
    }
    setField("header", np, nl);
    copyInto(vp, vl);
    if (nameIs(np, nl, H_USER_AGENT)) check(FOR_UA, false);
    else if (nameIs(np, nl, H_REFERER)) {
      check(FOR_INPUT_HEADER, false);
      // the referring page's own query arguments are user input too (reflected XSS links)
      let qm = 0;
      while (qm < vl && load<u8>(vp + <usize>qm) != 0x3f) qm++;
      if (qm + 1 < vl) args(vp + <usize>(qm + 1), vl - qm - 1, 0x26, true, "referer");
    } else if (nameIs(np, nl, H_XFF)) check(FOR_INPUT_HEADER, false);
    else check(FOR_OTHER_HEADER, false);
  }
  if (body.len > 0) inspectBody(s, h, body);
}

// The body as the back end reads it (bodytext.ts: Content-Encoding, then a
// UTF-16/32 charset undone), dispatched by its media type. Where the coding
// cannot be undone, the bytes as sent are inspected too: a server that
// ignores Content-Encoding (PHP does for requests) reads them so.
function inspectBody(s: usize, h: Head, body: Body): void {
  const ct = h.find(s, H_CONTENT_TYPE);
  const ctPtr = ct >= 0 ? h.valuePtr(ct) : 0;
  const ctLen = ct >= 0 ? unchecked(h.valLen[ct]) : 0;
  const kind = ct >= 0 ? kindOf(ctPtr, ctLen) : KIND_UNTYPED;
  const depth = body.buf.length;
  setText(body.buf.dataStart, body.len);
  const coding = undoContentEncoding(s, h, depth, body.len < body.total || !body.complete);
  if (coding != Coding.READ) reportUnreadBody(body, coding);
  // trailing bytes after a compressed stream lie in the received body, which no later step overwrites
  const tp = trailPtr;
  const tl = trailLen;
  inspectText(kind, ctPtr, ctLen, depth);
  if (coding == Coding.UNDECODABLE) {
    setText(body.buf.dataStart, body.len);
    inspectText(kind, ctPtr, ctLen, depth);
  }
  if (tl > 0) {
    setText(tp, tl);
    inspectText(kind, ctPtr, ctLen, depth);
  }
}

const KIND_UNTYPED = -1;
const KIND_OTHER = 0;
const KIND_FORM = 1;
const KIND_JSON = 2;
const KIND_MULTIPART = 3;

// Only the media type decides, as back ends read it (type-is, Spring):
// "application/json; x=x-www-form-urlencoded" is JSON, whatever its parameters say.
function kindOf(p: usize, n: i32): i32 {
  const m = mediaTypeLen(p, n);
  if (containsNoCase(p, m, "x-www-form-urlencoded")) return KIND_FORM;
  if (containsNoCase(p, m, "json")) return KIND_JSON;
  // Spring and PHP parse multipart/form-data; Spring any multipart/*
  if (containsNoCase(p, m, "multipart/")) return KIND_MULTIPART;
  return KIND_OTHER;
}

/** Inspects the current body text (bodytext.ts) after undoing its charset. */
function inspectText(kind: i32, ctPtr: usize, ctLen: i32, depth: i32): void {
  const sentPtr = textPtr;
  const sentLen = textLen;
  const labelled = undoCharset(ctPtr, ctLen, kind == KIND_JSON, depth);
  inspectAs(kind, ctPtr, ctLen, textPtr, textLen);
  if (labelled) inspectAs(kind, ctPtr, ctLen, sentPtr, sentLen);
}

function inspectAs(kind: i32, ctPtr: usize, ctLen: i32, p: usize, n: i32): void {
  if (n <= 0) return;
  if (kind == KIND_UNTYPED) kind = looksLikeForm(p, n) ? KIND_FORM : KIND_OTHER;
  if (kind == KIND_FORM) args(p, n, 0x26, true, "body");
  else if (kind == KIND_JSON) jsonStrings(p, n);
  else if (kind == KIND_MULTIPART) multipartFields(ctPtr, ctLen, p, n);
  else rawBody("body", 0, 0, p, n);
}

/**
 * A body the module could not read whole. One that inflates past body_depth
 * is a body longer than body_depth (index.ts reports 1001014 from
 * body.total, so the body is made to say so); one whose coding could not be
 * undone index.ts reports from findings.unreadBody (1001016).
 */
function reportUnreadBody(body: Body, coding: Coding): void {
  out.unreadBody = coding;
  if (coding != Coding.PAST_DEPTH) return;
  const over = <i64>body.buf.length + 1;
  if (body.total < over) body.total = over;
}

function rawBody(where: string, nameP: usize, nameLen: i32, p: usize, n: i32): void {
  setField(where, nameP, nameLen);
  copyInto(p, n);
  check(FOR_RAW_BODY, false);
}

const part = new Part();

// Each field of a multipart body is an argument to the back end (PHP's
// $_POST, Spring's @RequestParam), so it gets the argument checks. Uploaded
// file contents are arbitrary data: they get the raw-body checks, as the
// whole body did before, while the filename, which applications store and
// join to paths, is checked as an argument and for traversal as a path.
function multipartFields(ctPtr: usize, ctLen: i32, p: usize, n: i32): void {
  if (!startParts(ctPtr, ctLen, p, n)) { rawBody("body", 0, 0, p, n); return; }
  while (nextPart(part)) {
    const nameP = part.nameOff >= 0 ? p + <usize>part.nameOff : 0;
    const nameLen = part.nameLen;
    setField("multipart", nameP, nameLen);
    if (nameLen > 0) {
      decodeInto(nameP, nameLen, false);
      check(Detect.SQLI | Detect.XSS | Detect.JNDI, false);
    }
    if (part.fileOff >= 0) fileName(nameP, nameLen, p + <usize>part.fileOff, part.fileLen);
    if (part.fileStarOff >= 0) fileName(nameP, nameLen, p + <usize>part.fileStarOff, part.fileStarLen);
    const bp = p + <usize>part.bodyOff;
    const json = !part.isFile && part.typeOff >= 0 && containsNoCase(p + <usize>part.typeOff, mediaTypeLen(p + <usize>part.typeOff, part.typeLen), "json");
    // as sent first: what a server that does not decode reads, reported without "decoded"
    partContent(nameP, nameLen, json, bp, part.bodyLen);
    if (part.codings != 0) decodedPart(nameP, nameLen, json, bp, part.bodyLen, part.codings);
  }
}

function partContent(nameP: usize, nameLen: i32, json: bool, p: usize, n: i32): void {
  if (part.isFile) rawBody("multipart file", nameP, nameLen, p, n);
  else if (json) jsonStrings(p, n);
  else {
    setField("multipart", nameP, nameLen);
    decodeInto(p, n, false);
    check(FOR_ARG, false);
  }
}

// A part in quoted-printable or base64 is also inspected as a decoding
// server hands it to the application. A part may name several codings
// (servers read the first or the last header): each is undone in turn. A
// coding the module cannot undo is reported (1001017) on top of the
// as-sent inspection. Decoded text is never longer than the part, so it
// stays within what body_depth let in.
function decodedPart(nameP: usize, nameLen: i32, json: bool, p: usize, n: i32, codings: i32): void {
  if ((codings & PartCoding.UNKNOWN) != 0) out.unknownPartCoding = true;
  const buf = decodedBuffer(n);
  if ((codings & PartCoding.QUOTED_PRINTABLE) != 0) {
    decodedAs = "quoted-printable";
    partContent(nameP, nameLen, json, buf, decodeQuotedPrintable(p, n, buf));
  }
  if ((codings & PartCoding.BASE64) != 0) {
    decodedAs = "base64";
    partContent(nameP, nameLen, json, buf, decodeMimeBase64(p, n, buf, Padding.ENDS_GROUP));
    // decoders split on an "=" inside the data (mimebase64.ts): the other reading too
    if (dataAfterPadding) partContent(nameP, nameLen, json, buf, decodeMimeBase64(p, n, buf, Padding.SKIPPED));
  }
  decodedAs = "";
}

// Clients send a file's base name, so any ".." segment in it is an attack (the strict path check).
function fileName(nameP: usize, nameLen: i32, p: usize, n: i32): void {
  setField("multipart filename", nameP, nameLen);
  decodeInto(p, n, false);
  check(Detect.TRAVERSAL, true);
  check(FOR_ARG, false);
}

// name=value pairs split by sep; names and values decoded and checked.
function args(p: usize, n: i32, sep: u8, form: bool, where: string): void {
  // no cap on the number of arguments: padding with 10,000 harmless ones must not hide the last
  let i = 0;
  while (i <= n) {
    let e = i;
    while (e < n && load<u8>(p + <usize>e) != sep) e++;
    let a = i;
    while (a < e && load<u8>(p + <usize>a) == 0x20) a++;
    let eq = a;
    while (eq < e && load<u8>(p + <usize>eq) != 0x3d) eq++;
    if (e > a) {
      const nameLen = eq - a;
      setField(where, p + <usize>a, nameLen);
      if (nameLen > 0) {
        decodeInto(p + <usize>a, nameLen, form);
        check(Detect.SQLI | Detect.XSS | Detect.JNDI, false);
      }
      if (eq < e) {
        decodeInto(p + <usize>(eq + 1), e - eq - 1, form);
        check(FOR_ARG, false);
      } else if (nameLen > 0) {
        // a bare "?<payload>" has no '=': the name is the value
        decodeInto(p + <usize>a, nameLen, form);
        check(FOR_ARG, false);
      }
    }
    i = e + 1;
  }
}

// Path segments for SQL injection (/item/1'%20or%201=1): each decoded segment alone.
function checkSegments(): void {
  if ((cfg.enabled & Detect.SQLI) == 0 || (out.mask & Detect.SQLI) != 0) return;
  const p = value.dataStart;
  const n = valueLen;
  let i = 0;
  while (i < n) {
    let e = i;
    while (e < n && load<u8>(p + <usize>e) != 0x2f) e++;
    if (e > i && isSqli(p + <usize>i, e - i)) {
      setField("path segment", 0, 0);
      record(0, p + <usize>i, e - i, sqliDetail());
      return;
    }
    i = e + 1;
  }
}

// The string values of a JSON body ({"q": "1' or 1=1--"}), with \" \\ \/ \n \uXXXX undone, checked as arguments.
function jsonStrings(p: usize, n: i32): void {
  let i = 0;
  while (i < n) {
    if (load<u8>(p + <usize>i) != 0x22) { i++; continue; }
    let j = i + 1;
    let o = 0;
    const dst = value.dataStart;
    while (j < n && o < VALUE_CAP) {
      let c = load<u8>(p + <usize>j);
      if (c == 0x22) break;
      if (c == 0x5c && j + 1 < n) {
        j++;
        const e = load<u8>(p + <usize>j);
        if (e == 0x6e) c = 0x0a;
        else if (e == 0x74) c = 0x09;
        else if (e == 0x72) c = 0x0d;
        else if (e == 0x75 && j + 4 < n) {
          const cp = hex4(p + <usize>(j + 1));
          if (cp >= 0 && cp < 0x80) { c = <u8>cp; j += 4; } else c = e;
        } else c = e;
      }
      store<u8>(dst + <usize>(o++), c);
      j++;
    }
    setField("body:json", 0, 0);
    // back ends often percent-decode JSON values too, so they are judged decoded
    decodeInto(value.dataStart, o, false);
    check(FOR_ARG, false);
    i = j + 1;
  }
}


/** Runs the detections in `want` (and enabled, not yet found) over the current value. */
function check(want: i32, inPath: bool): void {
  let todo = want & cfg.enabled & ~out.mask;
  if (todo == 0) return;
  const p = value.dataStart;
  const n = valueLen;
  if (n == 0) return;
  // One pass over the value finds which detections could match at all, so the
  // long ordinary values (text, tokens, base64) skip most of the detectors.
  const seen = byteClasses(p, n);
  if ((seen & (HAS_DOLLAR_BRACE)) == 0) todo &= ~Detect.JNDI;
  if ((seen & (HAS_SHELL | HAS_DOLLAR_BRACE | HAS_DOLLAR_PAREN)) == 0) todo &= ~Detect.CMDI;
  if ((seen & (HAS_LT | HAS_COLON | HAS_AMP | HAS_PAREN)) == 0) todo &= ~Detect.XSS;
  if ((seen & (HAS_DOTDOT | HAS_SLASH | HAS_COLON)) == 0) todo &= ~Detect.TRAVERSAL;
  if ((todo & Detect.JNDI) != 0 && isJndi(p, n)) record(4, p, n, "");
  if ((todo & Detect.SQLI) != 0 && !inPath && isSqli(p, n)) record(0, p, n, sqliDetail());
  if ((todo & Detect.XSS) != 0 && isXss(p, n)) record(1, p, n, xssDetail());
  if ((todo & Detect.TRAVERSAL) != 0 && isTraversal(p, n, inPath)) record(2, p, n, valueRounds > 1 ? "double-encoded" : valueRounds == 1 ? "encoded" : "");
  if ((todo & Detect.CMDI) != 0 && isCommandInjection(p, n)) record(3, p, n, "");
  if ((todo & Detect.SCANNER) != 0) {
    const t = scannerIn(p, n);
    if (t >= 0) record(5, p, n, scannerName(t));
  }
  if ((todo & Detect.EXTRA) != 0 && cfg.extras.length > 0) {
    let id = cfg.extraSearch.first(p, n);
    if (id < 0) id = cfg.extraSearchNoCase.first(p, n);
    if (id >= 0) { out.extraId = id; record(6, p, n, ""); }
  }
}

const HAS_DOLLAR_BRACE = 1;
const HAS_DOLLAR_PAREN = 2;
const HAS_SHELL = 4;
const HAS_LT = 8;
const HAS_COLON = 16;
const HAS_AMP = 32;
const HAS_PAREN = 64;
const HAS_DOTDOT = 128;
const HAS_SLASH = 256;

function byteClasses(p: usize, n: i32): i32 {
  let seen = 0;
  let prev: u8 = 0;
  for (let i = 0; i < n; i++) {
    const c = load<u8>(p + <usize>i);
    if (c >= 0x30 && c != 0x3a && c != 0x3b && c != 0x3c && c != 0x5c && c != 0x60 && c != 0x7b && c != 0x7c) {
      prev = c;
      continue; // letters, digits and most punctuation above '0' matter to no pre-check
    }
    if (c == 0x7b && prev == 0x24) seen |= HAS_DOLLAR_BRACE;
    else if (c == 0x28) { seen |= HAS_PAREN; if (prev == 0x24) seen |= HAS_DOLLAR_PAREN; }
    else if (c == 0x60) seen |= HAS_SHELL | HAS_PAREN; // a backtick runs a command, or calls a JS template tag
    else if (c == 0x3b || c == 0x7c || c == 0x0a || c == 0x0d) seen |= HAS_SHELL;
    else if (c == 0x26) seen |= HAS_AMP | HAS_SHELL;
    else if (c == 0x3c) seen |= HAS_LT;
    else if (c == 0x3a) seen |= HAS_COLON;
    else if (c == 0x2f || c == 0x5c) seen |= HAS_SLASH;
    else if (c == 0x2e && prev == 0x2e) seen |= HAS_DOTDOT;
    prev = c;
  }
  return seen;
}

function record(bit: i32, p: usize, n: i32, detail: string): void {
  out.mask |= 1 << bit;
  unchecked(out.field[bit] = fieldLabel());
  unchecked(out.sample[bit] = sample(p, n));
  unchecked(out.detail[bit] = detail);
  unchecked(out.decoded[bit] = decodedAs);
}

function sample(p: usize, n: i32): string {
  const max = 96;
  const m = n < max ? n : max;
  const s = utf8Text(p, m, m);
  return m < n ? s + "..." : s;
}

function sqliDetail(): string {
  const f = utf8Text(fp.dataStart, fpLen, 16);
  const ctx = fpContext == 0x27 ? " in '...'" : fpContext == 0x22 ? " in \"...\"" : "";
  return "fingerprint " + f + ctx;
}

function xssDetail(): string {
  if (xssKind == 1) return "script-capable tag";
  if (xssKind == 2) return "event handler attribute";
  if (xssKind == 3) return "script URL";
  return "JavaScript string break-out";
}

function nameIs(p: usize, n: i32, lowerName: Uint8Array): bool {
  if (n != lowerName.length) return false;
  for (let i = 0; i < n; i++) if (lowerByte(load<u8>(p + <usize>i)) != unchecked(lowerName[i])) return false;
  return true;
}

function containsNoCase(p: usize, n: i32, w: string): bool {
  const m = w.length;
  for (let i = 0; i + m <= n; i++) {
    let k = 0;
    while (k < m && lowerByte(load<u8>(p + <usize>(i + k))) == <u8>w.charCodeAt(k)) k++;
    if (k == m) return true;
  }
  return false;
}

/** Length of the media type at the start of a Content-Type value: up to its first ';'. */
function mediaTypeLen(p: usize, n: i32): i32 {
  let i = 0;
  while (i < n && load<u8>(p + <usize>i) != 0x3b) i++;
  return i;
}

// No Content-Type: treat "a=1&b=2" shaped bodies as forms, as PHP would not but many frameworks do.
function looksLikeForm(p: usize, n: i32): bool {
  if (n == 0) return false;
  const c = load<u8>(p);
  if (c == 0x7b || c == 0x5b || c == 0x3c) return false;
  for (let i = 0; i < n && i < 64; i++) if (load<u8>(p + <usize>i) == 0x3d) return true;
  return false;
}

