// multipart/form-data bodies (RFC 7578): the parts between boundary lines,
// each with its headers (Content-Disposition's name and filename) and its
// content. PHP, Spring, multer and ASP.NET hand the fields to the application
// as arguments, so request.ts checks them as form fields.
//
// Read leniently, as those parsers do: a boundary line may end in CRLF or a
// bare LF and carry trailing whitespace, and the body may end without the
// closing boundary (it is cut at body_depth). The parser only walks the bytes
// it is given, once, so the work is linear in the inspected body.
import { findParam, paramPtr, paramLen, equalsLower, isOws } from "./params";
import { partCodingOf } from "./transferencoding";

/** RFC 2046 allows 70; parsers accept longer ones, and a longer one must not be a way out of parsing. */
const MAX_BOUNDARY = 256;

/** One part: offsets into the body, -1 when absent. */
export class Part {
  nameOff: i32 = -1; nameLen: i32 = 0;
  fileOff: i32 = -1; fileLen: i32 = 0;
  /** filename* (RFC 5987: charset''percent-encoded), which some parsers prefer to filename. */
  fileStarOff: i32 = -1; fileStarLen: i32 = 0;
  typeOff: i32 = -1; typeLen: i32 = 0;
  /** transferencoding.ts PartCoding bits of its Content-Transfer-Encoding headers. */
  codings: i32 = 0;
  bodyOff: i32 = 0; bodyLen: i32 = 0;
  reset(): void {
    this.codings = 0;
    this.nameOff = -1; this.nameLen = 0;
    this.fileOff = -1; this.fileLen = 0;
    this.fileStarOff = -1; this.fileStarLen = 0;
    this.typeOff = -1; this.typeLen = 0;
    this.bodyOff = 0; this.bodyLen = 0;
  }
  get isFile(): bool { return this.fileOff >= 0 || this.fileStarOff >= 0; }
}

let body: usize = 0;
let bodyLen: i32 = 0;
let boundary: usize = 0;
let boundaryLen: i32 = 0;
/** Where the next part's boundary line starts, or -1 when there are no more parts. */
let next: i32 = -1;

/**
 * Starts reading the body [p, p+n) with the boundary of the Content-Type
 * value [ct, ct+ctLen). False when there is no usable boundary or no
 * boundary line in the body.
 */
export function startParts(ct: usize, ctLen: i32, p: usize, n: i32): bool {
  if (!findParam(ct, ctLen, "boundary") || paramLen == 0 || paramLen > MAX_BOUNDARY) return false;
  for (let i = 0; i < paramLen; i++) {
    const c = load<u8>(paramPtr + <usize>i);
    if (c == 0x0a || c == 0x0d) return false; // the search below relies on boundaries being one line
  }
  body = p;
  bodyLen = n;
  boundary = paramPtr;
  boundaryLen = paramLen;
  next = findBoundaryLine(0);
  return next >= 0;
}

/** Reads the next part into `part`; false after the last one (or the closing boundary). */
export function nextPart(part: Part): bool {
  part.reset();
  if (next < 0) return false;
  let pos = next + 2 + boundaryLen;
  // "--boundary--" closes the body
  if (pos + 1 < bodyLen && load<u8>(body + <usize>pos) == 0x2d && load<u8>(body + <usize>(pos + 1)) == 0x2d) { next = -1; return false; }
  pos = lineEnd(pos);
  if (pos >= bodyLen) { next = -1; return false; }
  pos = readHeaders(pos + 1, part);
  part.bodyOff = pos;
  next = findBoundaryLine(pos);
  let end = next >= 0 ? next : bodyLen;
  // the line end before the boundary line belongs to the boundary, not the content
  if (next >= 0 && end > pos && load<u8>(body + <usize>(end - 1)) == 0x0a) {
    end--;
    if (end > pos && load<u8>(body + <usize>(end - 1)) == 0x0d) end--;
  }
  part.bodyLen = end > pos ? end - pos : 0;
  return true;
}

/**
 * Reads header lines from pos up to the blank line; returns where the content
 * starts. A line starting with SP or HT continues the header before it, as
 * Go's textproto and Python's email parser join folded lines: a
 * Content-Transfer-Encoding folded onto its next line is still decoded there.
 */
function readHeaders(pos: i32, part: Part): i32 {
  while (pos < bodyLen) {
    let eol = lineEnd(pos);
    let end = withoutCr(pos, eol);
    if (end == pos) return eol + 1; // the blank line
    while (eol + 1 < bodyLen && isOws(load<u8>(body + <usize>(eol + 1)))) {
      const next = eol + 1;
      eol = lineEnd(next);
      end = withoutCr(next, eol);
    }
    headerLine(pos, end, part);
    pos = eol + 1;
  }
  return bodyLen;
}

/** The end of the line [pos, eol) without its CR. */
function withoutCr(pos: i32, eol: i32): i32 {
  return eol > pos && load<u8>(body + <usize>(eol - 1)) == 0x0d ? eol - 1 : eol;
}

function headerLine(pos: i32, end: i32, part: Part): void {
  let colon = pos;
  while (colon < end && load<u8>(body + <usize>colon) != 0x3a) colon++;
  if (colon >= end) return;
  let nameEnd = colon;
  while (nameEnd > pos && isOws(load<u8>(body + <usize>(nameEnd - 1)))) nameEnd--;
  const nameLen = nameEnd - pos;
  let v = colon + 1;
  while (v < end && (load<u8>(body + <usize>v) == 0x20 || load<u8>(body + <usize>v) == 0x09)) v++;
  const vp = body + <usize>v;
  const vl = end - v;
  if (equalsLower(body + <usize>pos, nameLen, "content-disposition")) {
    if (findParam(vp, vl, "name")) { part.nameOff = offsetOf(paramPtr); part.nameLen = paramLen; }
    if (findParam(vp, vl, "filename")) { part.fileOff = offsetOf(paramPtr); part.fileLen = paramLen; }
    if (findParam(vp, vl, "filename*")) { part.fileStarOff = offsetOf(paramPtr); part.fileStarLen = paramLen; }
  } else if (equalsLower(body + <usize>pos, nameLen, "content-type")) {
    part.typeOff = v;
    part.typeLen = vl;
  } else if (equalsLower(body + <usize>pos, nameLen, "content-transfer-encoding")) {
    part.codings |= partCodingOf(vp, vl);
  }
}

/**
 * The start of the first line at or after `from` that begins "--boundary",
 * or -1. Only line starts are compared, and a comparison that matched k bytes
 * passed no line end, so each byte is looked at a bounded number of times.
 */
function findBoundaryLine(from: i32): i32 {
  let i = from;
  while (i < bodyLen) {
    if (isBoundaryAt(i)) return i;
    i = lineEnd(i) + 1;
  }
  return -1;
}

function isBoundaryAt(i: i32): bool {
  if (i + 2 + boundaryLen > bodyLen) return false;
  const p = body + <usize>i;
  if (load<u8>(p) != 0x2d || load<u8>(p + 1) != 0x2d) return false;
  return memory.compare(p + 2, boundary, <usize>boundaryLen) == 0;
}

/** Offset of the LF ending the line at pos, or bodyLen. */
function lineEnd(pos: i32): i32 {
  while (pos < bodyLen && load<u8>(body + <usize>pos) != 0x0a) pos++;
  return pos;
}

function offsetOf(p: usize): i32 { return <i32>(p - body); }

/** The body being read (request.ts reads parts through offsets into it). */
export function partsBody(): usize { return body; }
