// HTTP/1.x message parsing over in-order stream bytes. The host hands the
// module the whole stream of one direction so far, so the parser is
// restartable: it parses one message starting at a given offset and says
// "need more" until the message (or enough of it) is there. Everything lives
// in module-level buffers reused for every message: no allocation per packet.
//
// Leniency follows what servers accept (bare LF line ends, leading blank
// lines, obs-fold continuation lines, SP/HTAB runs and trailing whitespace in
// the request line); what still breaks the grammar is NOT_HTTP, and the
// module decides whether that means another protocol or a malformed request.

export enum Parse { NEED_MORE = 0, OK = 1, NOT_HTTP = 2, TOO_LONG = 3 }

export const ARENA_BYTES = 65536;
/**
 * Every header a head can hold: a header line takes at least 3 bytes ("a:\n")
 * and a head at most ARENA_BYTES (the largest max_header_bytes). Servers such
 * as Node and Go have no count limit, so a header after the hundredth
 * (Content-Length, Cookie, a JNDI carrier) must be seen; the byte bound
 * already limits the work.
 */
const MAX_HEADERS = ARENA_BYTES / 3 + 1;
/** The longest method token read as a method; Tomcat takes any token, so a longer one is reported, not ignored. */
const MAX_METHOD = 64;

/** One parsed message head (request or response); offsets are into the stream, values into `arena`. */
export class Head {
  start: i32 = 0;
  /** Offset just past the blank line ending the head. */
  end: i32 = 0;
  // request line: method, target, protocol; or response: protocol, status, reason
  aOff: i32 = 0; aLen: i32 = 0;
  bOff: i32 = 0; bLen: i32 = 0;
  cOff: i32 = 0; cLen: i32 = 0;
  status: i32 = 0;
  count: i32 = 0;
  nameOff: StaticArray<i32> = new StaticArray<i32>(MAX_HEADERS);
  nameLen: StaticArray<i32> = new StaticArray<i32>(MAX_HEADERS);
  valOff: StaticArray<i32> = new StaticArray<i32>(MAX_HEADERS);
  valLen: StaticArray<i32> = new StaticArray<i32>(MAX_HEADERS);
  /** Header values, folded lines joined by one space. */
  arena: Uint8Array = new Uint8Array(ARENA_BYTES);
  arenaUsed: i32 = 0;
  /** Headers beyond MAX_HEADERS that were dropped. */
  dropped: i32 = 0;
  contentLength: i64 = -1;
  contentLengthConflict: bool = false;
  chunked: bool = false;
  /** Transfer-Encoding present (chunked or not). */
  hasTransferEncoding: bool = false;
  /** The head ran past the caller's limit and was cut there. */
  truncated: bool = false;
  /** The parse window reached maxHead bytes (more data cannot complete the head). */
  windowFull: bool = false;

  reset(start: i32): void {
    this.start = start;
    this.end = 0;
    this.aOff = 0; this.aLen = 0; this.bOff = 0; this.bLen = 0; this.cOff = 0; this.cLen = 0;
    this.status = 0;
    this.count = 0;
    this.arenaUsed = 0;
    this.dropped = 0;
    this.contentLength = -1;
    this.contentLengthConflict = false;
    this.chunked = false;
    this.hasTransferEncoding = false;
    this.truncated = false;
    this.windowFull = false;
  }

  @inline valuePtr(i: i32): usize { return this.arena.dataStart + <usize>unchecked(this.valOff[i]); }

  /** Index of the first header named `lowerName` (ASCII, lower case), or -1. */
  find(stream: usize, lowerName: Uint8Array, from: i32 = 0): i32 {
    const n = lowerName.length;
    for (let i = from; i < this.count; i++) {
      if (unchecked(this.nameLen[i]) != n) continue;
      const p = stream + <usize>unchecked(this.nameOff[i]);
      let j = 0;
      while (j < n && lowerByte(load<u8>(p + <usize>j)) == unchecked(lowerName[j])) j++;
      if (j == n) return i;
    }
    return -1;
  }
}

@inline export function lowerByte(c: u8): u8 { return <u8>(c - 65) < 26 ? c | 0x20 : c; }
@inline function isTchar(c: u8): bool {
  // RFC 9110 token characters
  if (<u8>(c - 0x30) < 10 || <u8>((c | 0x20) - 0x61) < 26) return true;
  return c == 0x21 || c == 0x23 || c == 0x24 || c == 0x25 || c == 0x26 || c == 0x27 || c == 0x2a || c == 0x2b
    || c == 0x2d || c == 0x2e || c == 0x5e || c == 0x5f || c == 0x60 || c == 0x7c || c == 0x7e;
}

/** Whether a byte may start a method (an RFC 9110 token character). */
export function isTokenByte(c: u8): bool { return isTchar(c); }

/** End of the line starting at pos (index of its LF), or -1 when no LF before `limit`. */
function lineEnd(s: usize, pos: i32, limit: i32): i32 {
  for (let i = pos; i < limit; i++) if (load<u8>(s + <usize>i) == 0x0a) return i;
  return -1;
}

/** Length of the line content [pos, lf) without a trailing CR. */
@inline function contentLen(s: usize, pos: i32, lf: i32): i32 {
  return lf > pos && load<u8>(s + <usize>(lf - 1)) == 0x0d ? lf - 1 - pos : lf - pos;
}

/** Skips CR/LF bytes some clients send between messages. */
export function skipBlankLines(s: usize, pos: i32, len: i32): i32 {
  while (pos < len) {
    const c = load<u8>(s + <usize>pos);
    if (c != 0x0d && c != 0x0a) break;
    pos++;
  }
  return pos;
}

function isGet(s: usize, at: i32, len: i32): bool {
  return len == 3 && load<u8>(s + <usize>at) == 0x47 && load<u8>(s + <usize>(at + 1)) == 0x45 && load<u8>(s + <usize>(at + 2)) == 0x54;
}

/**
 * A request-line separator. Tomcat takes runs of SP and HTAB, and Python's
 * http.server splits on any ASCII whitespace (VT, FF and 0x1c-0x1f too), so
 * a request the back end serves is not turned away here as "not HTTP".
 */
@inline function isLineSpace(c: u8): bool {
  return c == 0x20 || c == 0x09 || c == 0x0b || c == 0x0c || <u8>(c - 0x1c) < 4;
}

/** Index of the first LF in [from, to), or -1. */
export function findLf(s: usize, from: i32, to: i32): i32 {
  return lineEnd(s, from, to);
}

/**
 * Parses a request head at pos. `maxHead` bounds the head: past it the result
 * is TOO_LONG with whatever was parsed (request line and complete headers) in `h`.
 */
export function parseRequestHead(s: usize, pos: i32, len: i32, maxHead: i32, h: Head): Parse {
  h.reset(pos);
  const limit = min(len, pos + maxHead);
  h.windowFull = pos + maxHead <= len;
  const r = parseRequestLine(s, pos, limit, h);
  if (r != Parse.OK) return r;
  if (h.cLen == 0) return Parse.OK;
  return parseHeaders(s, h.end, len, limit, h);
}

/**
 * The request line at pos, read as leniently as the servers above: separator
 * runs, trailing whitespace, and any token up to MAX_METHOD as the method.
 * On OK, `h.end` is just past the line.
 */
export function parseRequestLine(s: usize, pos: i32, limit: i32, h: Head): Parse {
  let i = pos;
  while (i < limit && i - pos <= MAX_METHOD && isTchar(load<u8>(s + <usize>i))) i++;
  if (i - pos > MAX_METHOD) return Parse.NOT_HTTP;
  if (i >= limit) return h.windowFull ? Parse.TOO_LONG : Parse.NEED_MORE;
  if (i == pos || !isLineSpace(load<u8>(s + <usize>i))) return Parse.NOT_HTTP;
  h.aOff = pos; h.aLen = i - pos;
  let t = i;
  while (t < limit && isLineSpace(load<u8>(s + <usize>t))) t++;
  const lf = lineEnd(s, t, limit);
  if (lf < 0) {
    // the request line itself is too long: expose the target seen so far
    if (h.windowFull) {
      h.bOff = t; h.bLen = limit - t; h.truncated = true;
      return Parse.TOO_LONG;
    }
    return Parse.NEED_MORE;
  }
  let stop = lf;
  while (stop > t && (isLineSpace(load<u8>(s + <usize>(stop - 1))) || load<u8>(s + <usize>(stop - 1)) == 0x0d)) stop--;
  // target up to the last separator when a protocol follows, else to the line end (HTTP/0.9)
  let last = stop;
  while (last > t && !isLineSpace(load<u8>(s + <usize>(last - 1)))) last--;
  if (last > t && isProtocol(s, last, stop)) {
    let targetEnd = last;
    while (targetEnd > t && isLineSpace(load<u8>(s + <usize>(targetEnd - 1)))) targetEnd--;
    h.bOff = t; h.bLen = targetEnd - t;
    h.cOff = last; h.cLen = stop - last;
  } else {
    // HTTP/0.9 had only "GET target": any other word and text is another
    // protocol's greeting ("SSH-2.0-OpenSSH_9.6 Ubuntu"), which servers refuse as HTTP.
    if (!isGet(s, pos, h.aLen)) return Parse.NOT_HTTP;
    h.bOff = t; h.bLen = stop - t;
    if (h.bLen > 0 && hasLineSpace(s, t, stop)) return Parse.NOT_HTTP;
  }
  if (h.bLen == 0) return Parse.NOT_HTTP;
  h.end = lf + 1;
  return Parse.OK;
}

/**
 * Whether the complete line [pos, lf) ends in an HTTP version word ("... HTTP/1.1"),
 * splitting on any whitespace (Python's str.split). Such a line is an attempt at a
 * request even when parseRequestLine cannot read it.
 */
export function endsWithHttpVersion(s: usize, pos: i32, lf: i32): bool {
  let stop = lf;
  while (stop > pos && isAnySpace(load<u8>(s + <usize>(stop - 1)))) stop--;
  let last = stop;
  while (last > pos && !isAnySpace(load<u8>(s + <usize>(last - 1)))) last--;
  return last > pos && isProtocol(s, last, stop);
}

// Python's str.split() also splits ISO-8859-1 text at NEL (0x85) and NBSP (0xa0).
@inline function isAnySpace(c: u8): bool {
  return isLineSpace(c) || c == 0x0d || c == 0x85 || c == 0xa0;
}

/** Parses a response head ("HTTP/1.1 200 OK") at pos. */
export function parseResponseHead(s: usize, pos: i32, len: i32, maxHead: i32, h: Head): Parse {
  h.reset(pos);
  const limit = min(len, pos + maxHead);
  h.windowFull = pos + maxHead <= len;
  if (limit - pos < 5) return h.windowFull ? Parse.TOO_LONG : Parse.NEED_MORE;
  if (!startsWithHttp(s, pos)) return Parse.NOT_HTTP;
  const lf = lineEnd(s, pos, limit);
  if (lf < 0) return h.windowFull ? Parse.TOO_LONG : Parse.NEED_MORE;
  const stop = pos + contentLen(s, pos, lf);
  let i = pos;
  while (i < stop && load<u8>(s + <usize>i) != 0x20) i++;
  h.aOff = pos; h.aLen = i - pos;
  while (i < stop && load<u8>(s + <usize>i) == 0x20) i++;
  let status = 0;
  const sOff = i;
  while (i < stop && <u8>(load<u8>(s + <usize>i) - 0x30) < 10 && i - sOff < 3) {
    status = status * 10 + <i32>(load<u8>(s + <usize>i) - 0x30);
    i++;
  }
  if (i - sOff != 3) return Parse.NOT_HTTP;
  h.status = status;
  h.bOff = sOff; h.bLen = 3;
  while (i < stop && load<u8>(s + <usize>i) == 0x20) i++;
  h.cOff = i; h.cLen = stop - i;
  return parseHeaders(s, lf + 1, len, limit, h);
}

function startsWithHttp(s: usize, pos: i32): bool {
  return load<u8>(s + <usize>pos) == 0x48 && load<u8>(s + <usize>(pos + 1)) == 0x54 && load<u8>(s + <usize>(pos + 2)) == 0x54
    && load<u8>(s + <usize>(pos + 3)) == 0x50 && load<u8>(s + <usize>(pos + 4)) == 0x2f;
}

function isProtocol(s: usize, from: i32, to: i32): bool {
  return to - from >= 6 && to - from <= 10 && startsWithHttp(s, from);
}

function hasLineSpace(s: usize, from: i32, to: i32): bool {
  for (let i = from; i < to; i++) if (isLineSpace(load<u8>(s + <usize>i))) return true;
  return false;
}

const NAME_CONTENT_LENGTH = [0x63, 0x6f, 0x6e, 0x74, 0x65, 0x6e, 0x74, 0x2d, 0x6c, 0x65, 0x6e, 0x67, 0x74, 0x68]; // content-length
const NAME_TRANSFER_ENCODING = [0x74, 0x72, 0x61, 0x6e, 0x73, 0x66, 0x65, 0x72, 0x2d, 0x65, 0x6e, 0x63, 0x6f, 0x64, 0x69, 0x6e, 0x67];

function parseHeaders(s: usize, pos: i32, len: i32, limit: i32, h: Head): Parse {
  let cur = -1; // header index a continuation line extends
  while (true) {
    if (pos >= limit) return headLimit(h);
    const lf = lineEnd(s, pos, limit);
    if (lf < 0) return headLimit(h);
    const n = contentLen(s, pos, lf);
    if (n == 0) {
      h.end = lf + 1;
      finishFraming(s, h);
      return Parse.OK;
    }
    const first = load<u8>(s + <usize>pos);
    if (first == 0x20 || first == 0x09) {
      // obs-fold: the line continues the previous header's value
      if (cur >= 0) appendValue(h, cur, s, pos, pos + n, true);
      pos = lf + 1;
      continue;
    }
    let c = pos;
    while (c < pos + n && load<u8>(s + <usize>c) != 0x3a) c++;
    if (c == pos + n || c == pos) {
      // a line with no colon: servers reject it; skip it rather than give up inspecting
      pos = lf + 1;
      cur = -1;
      continue;
    }
    let nameEnd = c;
    while (nameEnd > pos && (load<u8>(s + <usize>(nameEnd - 1)) == 0x20 || load<u8>(s + <usize>(nameEnd - 1)) == 0x09)) nameEnd--;
    if (h.count >= MAX_HEADERS) {
      h.dropped++;
      cur = -1;
    } else {
      cur = h.count++;
      unchecked(h.nameOff[cur] = pos);
      unchecked(h.nameLen[cur] = nameEnd - pos);
      unchecked(h.valOff[cur] = h.arenaUsed);
      unchecked(h.valLen[cur] = 0);
      appendValue(h, cur, s, c + 1, pos + n, false);
    }
    pos = lf + 1;
  }
}

// The head did not end inside the window: more bytes may come unless the window is already maxHead long.
function headLimit(h: Head): Parse {
  if (h.windowFull) { h.truncated = true; return Parse.TOO_LONG; }
  return Parse.NEED_MORE;
}

function appendValue(h: Head, idx: i32, s: usize, from: i32, to: i32, fold: bool): void {
  while (from < to && (load<u8>(s + <usize>from) == 0x20 || load<u8>(s + <usize>from) == 0x09)) from++;
  while (to > from && (load<u8>(s + <usize>(to - 1)) == 0x20 || load<u8>(s + <usize>(to - 1)) == 0x09)) to--;
  // only the header being built can grow: it is always the last one in the arena
  let n = to - from;
  const room = h.arena.length - h.arenaUsed - 1;
  if (n > room) n = room < 0 ? 0 : room;
  const dst = h.arena.dataStart + <usize>h.arenaUsed;
  let o = 0;
  if (fold && unchecked(h.valLen[idx]) > 0 && n > 0) { store<u8>(dst, 0x20); o = 1; }
  memory.copy(dst + <usize>o, s + <usize>from, <usize>n);
  h.arenaUsed += n + o;
  unchecked(h.valLen[idx] = unchecked(h.valLen[idx]) + n + o);
}

function nameIs(s: usize, h: Head, i: i32, name: i32[]): bool {
  if (unchecked(h.nameLen[i]) != name.length) return false;
  const p = s + <usize>unchecked(h.nameOff[i]);
  for (let j = 0; j < name.length; j++) if (lowerByte(load<u8>(p + <usize>j)) != <u8>unchecked(name[j])) return false;
  return true;
}

// Content-Length and Transfer-Encoding decide where the body ends. Like
// RFC 9112, chunked wins over a length; differing lengths are a conflict
// (request smuggling), which the caller reports.
function finishFraming(s: usize, h: Head): void {
  for (let i = 0; i < h.count; i++) {
    if (nameIs(s, h, i, NAME_CONTENT_LENGTH)) {
      const v = parseDecimal(h.valuePtr(i), unchecked(h.valLen[i]));
      if (v < 0) { h.contentLengthConflict = true; continue; }
      if (h.contentLength >= 0 && h.contentLength != v) h.contentLengthConflict = true;
      if (h.contentLength < 0 || v > h.contentLength) h.contentLength = v;
    } else if (nameIs(s, h, i, NAME_TRANSFER_ENCODING)) {
      h.hasTransferEncoding = true;
      if (endsWithChunked(h.valuePtr(i), unchecked(h.valLen[i]))) h.chunked = true;
    }
  }
}

function parseDecimal(p: usize, n: i32): i64 {
  if (n == 0 || n > 15) return -1;
  let v: i64 = 0;
  for (let i = 0; i < n; i++) {
    const d = load<u8>(p + <usize>i) - 0x30;
    if (d > 9) return -1;
    v = v * 10 + <i64>d;
  }
  return v;
}

function endsWithChunked(p: usize, n: i32): bool {
  // the last coding must be "chunked" (case-insensitive), possibly after "gzip, "
  while (n > 0 && (load<u8>(p + <usize>(n - 1)) == 0x20 || load<u8>(p + <usize>(n - 1)) == 0x09)) n--;
  if (n < 7) return false;
  const q = p + <usize>(n - 7);
  const word = "chunked";
  for (let i = 0; i < 7; i++) if (lowerByte(load<u8>(q + <usize>i)) != <u8>word.charCodeAt(i)) return false;
  return n == 7 || load<u8>(q - 1) == 0x2c || load<u8>(q - 1) == 0x20 || load<u8>(q - 1) == 0x09;
}

/** Result of reading a body: bytes copied to the body buffer, whether the body is complete, and where it ends. */
export class Body {
  buf: Uint8Array = new Uint8Array(0);
  len: i32 = 0;
  complete: bool = false;
  /** Stream offset just past the body (valid when complete). */
  end: i32 = 0;
  /** Total body bytes (decoded chunk sizes, or Content-Length). */
  total: i64 = 0;
  malformed: bool = false;
}

/**
 * Reads the body of `h` from stream bytes, copying at most body.buf.length
 * bytes (de-chunked). `isResponse` lets a response without framing run to the
 * end of the stream (it ends at connection close); `noBody` marks the answer to a HEAD request.
 */
export function readBody(s: usize, len: i32, h: Head, body: Body, isResponse: bool, noBody: bool = false): void {
  body.len = 0;
  body.complete = false;
  body.malformed = false;
  body.total = 0;
  const start = h.end;
  const cap = body.buf.length;
  // 1xx, 204 and 304 responses, and responses to HEAD, end with their head whatever the headers say
  if (isResponse && (noBody || (h.status >= 100 && h.status < 200) || h.status == 204 || h.status == 304)) {
    body.complete = true;
    body.end = start;
    return;
  }
  if (h.chunked) { readChunked(s, start, len, body); return; }
  if (h.contentLength >= 0) {
    const cl = h.contentLength;
    const have = <i64>(len - start);
    const take = <i32>min(min(cl, have), <i64>cap);
    memory.copy(body.buf.dataStart, s + <usize>start, <usize>take);
    body.len = take;
    body.total = cl;
    if (have >= cl) { body.complete = true; body.end = start + <i32>cl; }
    return;
  }
  if (isResponse && !(h.status >= 100 && h.status < 200) && h.status != 204 && h.status != 304) {
    const take = min(len - start, cap);
    memory.copy(body.buf.dataStart, s + <usize>start, <usize>take);
    body.len = take;
    body.total = <i64>(len - start);
    return; // runs until the connection closes
  }
  body.complete = true;
  body.end = start;
}

function readChunked(s: usize, pos: i32, len: i32, body: Body): void {
  const cap = body.buf.length;
  // bounded by the stream length: every iteration consumes at least one line
  while (true) {
    const lf = lineEnd(s, pos, len);
    if (lf < 0) { if (len - pos > 1024) body.malformed = true; return; }
    let size: i64 = 0;
    let digits = 0;
    let i = pos;
    while (i < lf) {
      const c = load<u8>(s + <usize>i);
      let d: i32 = -1;
      if (<u8>(c - 0x30) < 10) d = c - 0x30;
      else if (<u8>((c | 0x20) - 0x61) < 6) d = (c | 0x20) - 0x57;
      if (d < 0) break;
      if (digits >= 15) { body.malformed = true; return; }
      size = size * 16 + <i64>d;
      digits++;
      i++;
    }
    if (digits == 0) { body.malformed = true; return; }
    pos = lf + 1;
    if (size == 0) {
      // trailer section up to a blank line
      while (true) {
        const tl = lineEnd(s, pos, len);
        if (tl < 0) return;
        const blank = contentLen(s, pos, tl) == 0;
        pos = tl + 1;
        if (blank) { body.complete = true; body.end = pos; return; }
      }
    }
    const have = <i64>(len - pos);
    const take = <i32>min(min(size, have), <i64>(cap - body.len));
    if (take > 0) {
      memory.copy(body.buf.dataStart + <usize>body.len, s + <usize>pos, <usize>take);
      body.len += take;
    }
    body.total += min(size, have);
    if (have < size + 1) return; // the chunk (and its CRLF) is not all here yet
    pos += <i32>size;
    // CRLF after the chunk data
    if (load<u8>(s + <usize>pos) == 0x0d) pos++;
    if (pos >= len) return;
    if (load<u8>(s + <usize>pos) != 0x0a) { body.malformed = true; return; }
    pos++;
  }
}
