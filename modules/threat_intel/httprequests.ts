// Follows the HTTP/1.x requests of a client stream, so that every request of
// a keep-alive or pipelined connection has its target and Host headers read,
// whichever segments they arrive in, and body bytes are skipped by the
// message's own framing (RFC 9112 6) instead of being read as a request line.
//
// The host hands over the whole client stream from its first byte on every
// packet that adds to it, so the follower keeps only offsets into it: its
// memory per flow is fixed, and each stream byte is looked at a bounded
// number of times however the stream is cut into segments.
//
// When the framing cannot be trusted (a line that is not a request line where
// one must start, a bad Content-Length or chunk size, Content-Length next to
// Transfer-Encoding, a coding other than chunked last), a server either
// refuses the request and closes, or frames it some other way than we would:
// that is how request smuggling hides a request. So from then on no length is
// trusted: every later line of the stream that reads as a whole request line
// ("METHOD target HTTP/1.x") is taken as a request, body bytes or not, and its
// target and Host headers are checked.
import {
  Found, requestLineStart, looksLikeHttpRequest, requestTargetHost, hostHeaderValue, targetIsConnect,
} from "./names";

export namespace HttpStep {
  /** Every whole line so far has been read: call again when the stream grows. */
  export const NEED_MORE: i32 = 0;
  /** foundPtr/foundLen: the host a request target names (absolute form, CONNECT). */
  export const TARGET: i32 = 1;
  /** foundPtr/foundLen: the host of a Host header. */
  export const HOST: i32 = 2;
  /** A TLS record starts at `pos`: the tunnel after a CONNECT (or an Upgrade) has begun. */
  export const TLS: i32 = 3;
}

namespace Phase {
  export const REQUEST_LINE: i32 = 0;
  export const HEADERS: i32 = 1;
  export const BODY: i32 = 2;
  export const CHUNK_SIZE: i32 = 3;
  export const CHUNK_DATA: i32 = 4;
  /** The CRLF that ends a chunk's data. */
  export const CHUNK_END: i32 = 5;
  export const TRAILERS: i32 = 6;
  /** After a CONNECT or Upgrade request: a tunnel, or (refused) the next request. */
  export const SWITCH: i32 = 7;
  /** Framing lost: every line is looked at for a whole request line. */
  export const LOST: i32 = 8;
}

/** Content-Length states besides a length. */
const NO_LENGTH: i64 = -1;
const BAD_LENGTH: i64 = -2;
/** Decimal digits of a Content-Length, hex digits of a chunk size, past leading zeros. */
const MAX_DIGITS = 15;

export class HttpRequests {
  /** The next byte of the client stream not read yet. */
  pos: i32 = 0;
  /** The end of the line at pos has been searched for up to here, so a long line split into many segments is searched once. */
  private searched: i32 = 0;
  private phase: i32 = Phase.REQUEST_LINE;
  /** Body or chunk bytes still to skip. */
  private left: i64 = 0;
  /** Framing was lost: lengths are no longer trusted. */
  private lost: bool = false;
  // the current request's head
  private connect: bool = false;
  private upgrade: bool = false;
  private http10: bool = false;
  private codings: bool = false;
  private chunkedLast: bool = false;
  private length: i64 = NO_LENGTH;

  /**
   * Reads on from pos to the next name to check or the end of the bytes
   * given (len, the stream length). The line of a name returned has been
   * consumed: the next call goes on after it.
   */
  next(s: usize, len: i32): i32 {
    while (true) {
      if (this.pos >= len) return HttpStep.NEED_MORE;
      const phase = this.phase;
      if (phase == Phase.BODY || phase == Phase.CHUNK_DATA) {
        this.skipBody(len);
        if (this.left > 0) return HttpStep.NEED_MORE;
        if (phase == Phase.BODY) this.requestDone();
        else this.phase = Phase.CHUNK_END;
        continue;
      }
      if (phase == Phase.SWITCH) {
        const r = this.afterSwitch(s, len);
        if (r != Found.YES) return r == Found.NEED_MORE ? HttpStep.NEED_MORE : HttpStep.TLS;
        continue;
      }
      const eol = this.lineEnd(s, len);
      if (eol < 0) return HttpStep.NEED_MORE;
      const from = this.pos;
      this.pos = eol + 1;
      // the line without its CR
      const end = eol > from && load<u8>(s + <usize>(eol - 1)) == 0x0d ? eol - 1 : eol;
      const step = this.line(s, from, end);
      if (step != HttpStep.NEED_MORE) return step;
    }
    return HttpStep.NEED_MORE;
  }

  /** Where the line at pos ends ('\n'), or -1 when it has not ended yet. */
  private lineEnd(s: usize, len: i32): i32 {
    let i = this.searched > this.pos ? this.searched : this.pos;
    while (i < len && load<u8>(s + <usize>i) != 0x0a) i++;
    this.searched = i;
    return i < len ? i : -1;
  }

  /** One whole line [from, end): a name to check, or NEED_MORE to read on. */
  private line(s: usize, from: i32, end: i32): i32 {
    const phase = this.phase;
    if (phase == Phase.HEADERS) return end == from ? this.headEnd() : this.header(s, from, end);
    if (phase == Phase.REQUEST_LINE) {
      // servers skip empty lines before a request line (RFC 9112 2.2)
      if (end == from) return HttpStep.NEED_MORE;
      if (!looksLikeHttpRequest(s + <usize>from, end - from)) { this.lose(); return HttpStep.NEED_MORE; }
      return this.requestLine(s, from, end);
    }
    if (phase == Phase.LOST) return isWholeRequestLine(s, from, end) ? this.requestLine(s, from, end) : HttpStep.NEED_MORE;
    if (phase == Phase.CHUNK_SIZE) { this.chunkSize(s, from, end); return HttpStep.NEED_MORE; }
    if (phase == Phase.CHUNK_END) {
      if (end == from) this.phase = Phase.CHUNK_SIZE;
      else this.lose();
      return HttpStep.NEED_MORE;
    }
    // TRAILERS: fields after the last chunk, up to an empty line
    if (end == from) this.requestDone();
    return HttpStep.NEED_MORE;
  }

  private requestLine(s: usize, from: i32, end: i32): i32 {
    this.phase = Phase.HEADERS;
    this.http10 = endsWithVersion10(s, from, end);
    this.codings = false;
    this.chunkedLast = false;
    this.upgrade = false;
    this.length = NO_LENGTH;
    const r = requestTargetHost(s, from, end);
    this.connect = targetIsConnect;
    return r == Found.YES ? HttpStep.TARGET : HttpStep.NEED_MORE;
  }

  private header(s: usize, from: i32, end: i32): i32 {
    let v = valueAfter(s, from, end, NAME_HOST, 4);
    if (v >= 0) return hostHeaderValue(s, v, end) == Found.YES ? HttpStep.HOST : HttpStep.NEED_MORE;
    if (this.lost) return HttpStep.NEED_MORE;
    v = valueAfter(s, from, end, NAME_CONTENT_LENGTH, 14);
    if (v >= 0) { this.contentLength(s, v, end); return HttpStep.NEED_MORE; }
    v = valueAfter(s, from, end, NAME_TRANSFER_ENCODING, 17);
    if (v >= 0) { this.codings = true; this.chunkedLast = lastCodingIsChunked(s, v, end); return HttpStep.NEED_MORE; }
    if (valueAfter(s, from, end, NAME_UPGRADE, 7) >= 0) this.upgrade = true;
    return HttpStep.NEED_MORE;
  }

  /** The empty line after the fields: how the body is framed (RFC 9112 6.3). */
  private headEnd(): i32 {
    if (this.lost) { this.phase = Phase.LOST; return HttpStep.NEED_MORE; }
    // a CONNECT has no content (RFC 9110 9.3.6): the tunnel, if any, follows the head
    if (this.connect) { this.requestDone(); return HttpStep.NEED_MORE; }
    if (this.codings) {
      // ambiguous framing (the smuggling shapes), or one no server can follow: a server refuses and closes
      if (!this.chunkedLast || this.length != NO_LENGTH || this.http10) { this.lose(); return HttpStep.NEED_MORE; }
      this.phase = Phase.CHUNK_SIZE;
      return HttpStep.NEED_MORE;
    }
    if (this.length == BAD_LENGTH) { this.lose(); return HttpStep.NEED_MORE; }
    if (this.length > 0) { this.phase = Phase.BODY; this.left = this.length; return HttpStep.NEED_MORE; }
    // no Content-Length nor Transfer-Encoding: a request has no body
    this.requestDone();
    return HttpStep.NEED_MORE;
  }

  // "5", "5, 5" (RFC 9110 8.6: a list of one value repeated) or repeated fields agreeing; anything else is bad
  private contentLength(s: usize, from: i32, end: i32): void {
    if (this.length == BAD_LENGTH) return;
    let i = from;
    while (true) {
      while (i < end && isOws(load<u8>(s + <usize>i))) i++;
      const digitsAt = i;
      let n: i64 = 0;
      let significant = 0;
      while (i < end && isDigit(load<u8>(s + <usize>i))) {
        const d = <i64>load<u8>(s + <usize>i) - 0x30;
        if (n > 0 || d > 0) significant++;
        if (significant > MAX_DIGITS) { this.length = BAD_LENGTH; return; }
        n = n * 10 + d;
        i++;
      }
      while (i < end && isOws(load<u8>(s + <usize>i))) i++;
      if (i == digitsAt || (this.length != NO_LENGTH && this.length != n)) { this.length = BAD_LENGTH; return; }
      this.length = n;
      if (i == end) return;
      if (load<u8>(s + <usize>i) != 0x2c) { this.length = BAD_LENGTH; return; }
      i++;
    }
  }

  // 1*HEXDIG [ BWS ";" chunk-ext ] (RFC 9112 7.1)
  private chunkSize(s: usize, from: i32, end: i32): void {
    let i = from;
    let n: i64 = 0;
    let digits = 0;
    while (i < end) {
      const h = hexValue(load<u8>(s + <usize>i));
      if (h < 0) break;
      if (n > 0 || h != 0) digits++;
      n = (n << 4) | <i64>h;
      i++;
      if (digits > MAX_DIGITS) { this.lose(); return; }
    }
    const afterDigits = i;
    while (i < end && isOws(load<u8>(s + <usize>i))) i++;
    if (afterDigits == from || (i < end && load<u8>(s + <usize>i) != 0x3b)) { this.lose(); return; }
    if (n == 0) { this.phase = Phase.TRAILERS; return; }
    this.phase = Phase.CHUNK_DATA;
    this.left = n;
  }

  private skipBody(len: i32): void {
    const avail = <i64>(len - this.pos);
    const take = this.left < avail ? this.left : avail;
    this.pos += <i32>take;
    this.left -= take;
  }

  private requestDone(): void {
    this.phase = this.connect || this.upgrade ? Phase.SWITCH : Phase.REQUEST_LINE;
  }

  /**
   * After a CONNECT or Upgrade: a TLS record (NO: the caller reads the
   * ClientHello at pos), the next request because the server refused (YES,
   * read on), NEED_MORE. Anything else is a tunnel of some other protocol,
   * looked at line by line as when framing is lost.
   */
  private afterSwitch(s: usize, len: i32): i32 {
    let i = this.pos;
    while (i < len && (load<u8>(s + <usize>i) == 0x0d || load<u8>(s + <usize>i) == 0x0a)) i++;
    if (i >= len) return Found.NEED_MORE;
    if (load<u8>(s + <usize>i) == 0x16) { this.pos = i; this.phase = Phase.LOST; return Found.NO; }
    const r = requestLineStart(s + <usize>i, len - i);
    if (r == Found.NEED_MORE) return r;
    if (r == Found.YES) this.phase = Phase.REQUEST_LINE;
    else this.lose();
    return Found.YES;
  }

  private lose(): void {
    this.lost = true;
    this.phase = Phase.LOST;
  }
}

const NAME_HOST = memory.data<u8>([0x68, 0x6f, 0x73, 0x74]); // host
const NAME_CONTENT_LENGTH = memory.data<u8>([0x63, 0x6f, 0x6e, 0x74, 0x65, 0x6e, 0x74, 0x2d, 0x6c, 0x65, 0x6e, 0x67, 0x74, 0x68]); // content-length
const NAME_TRANSFER_ENCODING = memory.data<u8>([0x74, 0x72, 0x61, 0x6e, 0x73, 0x66, 0x65, 0x72, 0x2d, 0x65, 0x6e, 0x63, 0x6f, 0x64, 0x69, 0x6e, 0x67]); // transfer-encoding
const NAME_UPGRADE = memory.data<u8>([0x75, 0x70, 0x67, 0x72, 0x61, 0x64, 0x65]); // upgrade
const CHUNKED = memory.data<u8>([0x63, 0x68, 0x75, 0x6e, 0x6b, 0x65, 0x64]); // chunked

@inline function isOws(c: u8): bool { return c == 0x20 || c == 0x09; }
@inline function isDigit(c: u8): bool { return c >= 0x30 && c <= 0x39; }

function hexValue(c: u8): i32 {
  if (c >= 0x30 && c <= 0x39) return <i32>c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return <i32>l - 0x61 + 10;
  return -1;
}

/** Whether [a, a+n) is the lower-case name at `name`, letters compared without case. */
function sameNoCase(s: usize, a: i32, name: usize, n: i32): bool {
  for (let k = 0; k < n; k++) if ((load<u8>(s + <usize>(a + k)) | 0x20) != load<u8>(name + <usize>k)) return false;
  return true;
}

/** Where the value starts when the field line [from, end) is the named field ("name:"), else -1. */
function valueAfter(s: usize, from: i32, end: i32, name: usize, n: i32): i32 {
  if (end - from <= n || load<u8>(s + <usize>(from + n)) != 0x3a) return -1;
  return sameNoCase(s, from, name, n) ? from + n + 1 : -1;
}

/** Whether the last coding of a Transfer-Encoding list [from, end) is chunked. */
function lastCodingIsChunked(s: usize, from: i32, end: i32): bool {
  let b = end;
  while (b > from && (isOws(load<u8>(s + <usize>(b - 1))) || load<u8>(s + <usize>(b - 1)) == 0x2c)) b--;
  let a = b;
  while (a > from && load<u8>(s + <usize>(a - 1)) != 0x2c) a--;
  while (a < b && isOws(load<u8>(s + <usize>a))) a++;
  return b - a == 7 && sameNoCase(s, a, CHUNKED, 7);
}

/** "... HTTP/1.0" at the end of a request line. */
function endsWithVersion10(s: usize, from: i32, end: i32): bool {
  return end - from >= 8 && load<u8>(s + <usize>(end - 1)) == 0x30 && isVersion1(s, end - 8);
}

// "HTTP/1." at p
@inline function isVersion1(s: usize, p: i32): bool {
  return load<u32>(s + <usize>p) == 0x50545448 && load<u16>(s + <usize>(p + 4)) == 0x312f && load<u8>(s + <usize>(p + 6)) == 0x2e; // little-endian loads
}

/**
 * A request line a server would take, after framing is lost: method, space,
 * target, space, "HTTP/1." and a digit, so that body text ("THE END") is not
 * taken for one.
 */
function isWholeRequestLine(s: usize, from: i32, end: i32): bool {
  if (end - from < 14 || !looksLikeHttpRequest(s + <usize>from, end - from)) return false;
  return load<u8>(s + <usize>(end - 9)) == 0x20 && isVersion1(s, end - 8) && isDigit(load<u8>(s + <usize>(end - 1)));
}
