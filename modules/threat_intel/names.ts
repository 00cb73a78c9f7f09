// Just enough of DNS, TLS and HTTP to pull out the names a connection is for:
// the questions of a DNS query and the CNAME/DNAME targets of an answer, the TLS
// ClientHello's server_name (the hello put back together from its records),
// and the host of an HTTP request target or Host header (httprequests.ts
// finds the lines). Every read is bounds-checked against the bytes given;
// none allocates. dns_guard/tls_inspect have full parsers; these are the
// name-only subset threat_intel needs on any port.

/** Where dnsQueryName writes the dotted name (at most 253 bytes). */
export const dnsName: usize = memory.data(256);
/** Set by tlsHandshakeMessage/clientHelloServerName/requestTargetHost/hostHeaderValue on success: the name's bytes in the input. */
export let foundPtr: usize = 0;
export let foundLen: i32 = 0;

export namespace Found {
  export const YES: i32 = 1;
  /** The bytes stop before the answer: try again when more arrive. */
  export const NEED_MORE: i32 = 0;
  export const NO: i32 = -1;
}

namespace DnsType {
  export const CNAME: i32 = 5;
  export const DNAME: i32 = 39;
}
/** Answer records read per response; a real one has a handful. */
const MAX_ANSWERS = 64;
/** Compression pointers followed per name, so a pointer loop ends. */
const MAX_POINTERS = 16;

@inline function u16at(p: usize): i32 { return (<i32>load<u8>(p) << 8) | <i32>load<u8>(p + 1); }

/** True for a DNS message with the QR bit set (a response). */
export function dnsIsResponse(ptr: usize, len: i32): bool {
  return len >= 12 && (load<u8>(ptr + 2) & 0x80) != 0;
}

/**
 * Questions read per query. Servers answer one (RFC 9619), but a forwarder
 * may pass more on; past this many the rest are not read.
 */
export const MAX_QUESTIONS = 16;

// A walk over a query's questions: the next one's offset, how many are left.
let questionPos: i32 = 0;
let questionsLeft: i32 = 0;

/** Starts a walk over the questions of a DNS query (no length prefix); false when it has none. */
export function dnsQuestionsStart(ptr: usize, len: i32): bool {
  questionsLeft = 0;
  if (len < 12 || (load<u8>(ptr + 2) & 0x80) != 0) return false;
  const qd = u16at(ptr + 4);
  questionsLeft = qd < MAX_QUESTIONS ? qd : MAX_QUESTIONS;
  questionPos = 12;
  return questionsLeft > 0;
}

/**
 * The name of the next question, in dnsName: its length, or -1 when no more
 * are left or the rest cannot be found (a count larger than the questions
 * present). A name that cannot be read (too long, a bad pointer) is passed
 * over when its end can still be found.
 */
export function dnsNextQuestion(ptr: usize, len: i32): i32 {
  while (questionsLeft > 0) {
    questionsLeft--;
    const at = questionPos;
    const end = skipDnsName(ptr, len, at);
    // the type and class after the name are not needed to read the name
    questionPos = end < 0 ? len : end + 4;
    if (end < 0 || questionPos > len) questionsLeft = 0;
    const n = readDnsName(ptr, len, at);
    if (n > 0) return n;
  }
  return -1;
}

/**
 * The name at `pos` of a DNS message, dotted into dnsName, following
 * compression pointers (only backwards, so a loop cannot form); its length,
 * or -1 when it is malformed or longer than 253 bytes.
 */
function readDnsName(ptr: usize, len: i32, pos: i32): i32 {
  let out = 0;
  let pointers = 0;
  while (true) {
    if (pos >= len) return -1;
    const l = <i32>load<u8>(ptr + <usize>pos);
    if (l == 0) break;
    if ((l & 0xc0) == 0xc0) {
      if (pos + 1 >= len || ++pointers > MAX_POINTERS) return -1;
      const to = ((l & 0x3f) << 8) | <i32>load<u8>(ptr + <usize>(pos + 1));
      if (to >= pos) return -1;
      pos = to;
      continue;
    }
    if (l > 63) return -1;
    if (pos + 1 + l > len || out + l + 1 > 253) return -1;
    if (out > 0) store<u8>(dnsName + <usize>(out++), 0x2e);
    memory.copy(dnsName + <usize>out, ptr + <usize>(pos + 1), <usize>l);
    out += l;
    pos += 1 + l;
  }
  return out > 0 ? out : -1;
}

/** Offset just after the name at `pos` (a pointer ends a name), or -1. */
function skipDnsName(ptr: usize, len: i32, pos: i32): i32 {
  while (pos < len) {
    const l = <i32>load<u8>(ptr + <usize>pos);
    if (l == 0) return pos + 1;
    if ((l & 0xc0) == 0xc0) return pos + 2 <= len ? pos + 2 : -1;
    if (l > 63) return -1;
    pos += 1 + l;
  }
  return -1;
}

// A walk over a response's answer records: the next one's offset, how many are left.
let answerPos: i32 = 0;
let answersLeft: i32 = 0;

/** Starts a walk over the answers of a DNS response; false when it has none to walk. */
export function dnsAnswersStart(ptr: usize, len: i32): bool {
  answersLeft = 0;
  if (!dnsIsResponse(ptr, len)) return false;
  const questions = u16at(ptr + 4);
  let pos = 12;
  for (let q = 0; q < questions; q++) {
    pos = skipDnsName(ptr, len, pos);
    if (pos < 0 || pos + 4 > len) return false;
    pos += 4;
  }
  const answers = u16at(ptr + 6);
  answersLeft = answers < MAX_ANSWERS ? answers : MAX_ANSWERS;
  answerPos = pos;
  return answersLeft > 0;
}

/**
 * The target of the next CNAME or DNAME record among the answers, in
 * dnsName: its length, or -1 when no more are left. The client follows these
 * aliases, so a benign query name can lead to a listed one ("CNAME cloaking").
 */
export function dnsNextAlias(ptr: usize, len: i32): i32 {
  while (answersLeft > 0) {
    answersLeft--;
    const pos = skipDnsName(ptr, len, answerPos);
    if (pos < 0 || pos + 10 > len) break;
    const type = u16at(ptr + <usize>pos);
    const rdata = pos + 10;
    const rdataEnd = rdata + u16at(ptr + <usize>(pos + 8));
    if (rdataEnd > len) break;
    answerPos = rdataEnd;
    if (type != DnsType.CNAME && type != DnsType.DNAME) continue;
    const n = readDnsName(ptr, len, rdata);
    if (n > 0) return n;
  }
  answersLeft = 0;
  return -1;
}

/** Largest ClientHello gathered from several records; larger ones are given up on. */
export const TLS_MAX_HELLO: i32 = 16384;
/** Records one ClientHello may be spread over before it is given up on. */
const TLS_MAX_RECORDS = 256;
const helloBuf: usize = memory.data(TLS_MAX_HELLO);

/**
 * Set by tlsHandshakeMessage on YES: where the bytes after the message are,
 * as the offset of the record they are in (from the `ptr` given) and the
 * content bytes of that record the message took. A client may send its next
 * hello in the same record as the tail of the last one.
 */
export let afterMessageRecord: i32 = 0;
export let afterMessageSkip: i32 = 0;

/**
 * The handshake message at the start of a to-server stream, or `skip` bytes
 * into the content of its first record, gathered from consecutive handshake
 * records (RFC 8446 5.1: a message may span records, and servers put it back
 * together). YES with foundPtr/foundLen on the whole message, NEED_MORE
 * while it is incomplete, NO when the stream is not TLS handshake records or
 * the message is too large or too scattered.
 */
export function tlsHandshakeMessage(ptr: usize, len: i32, skip: i32 = 0): i32 {
  if (len >= 9 + skip && isHandshakeRecord(ptr)) {
    // the common case, the whole message in the first record: read it in place
    const recLen = u16at(ptr + 3);
    const need = 4 + u24at(ptr + <usize>(6 + skip));
    if (skip + need <= recLen && 5 + skip + need <= len) {
      foundPtr = ptr + <usize>(5 + skip);
      foundLen = need;
      messageEndsAt(0, skip + need, recLen);
      return Found.YES;
    }
  }
  let pos = 0;
  let got = 0;
  let need = -1;
  for (let records = 0; records < TLS_MAX_RECORDS; records++) {
    if (pos + 5 > len) return pos < len && !isHandshakeRecordPrefix(ptr + <usize>pos, len - pos) ? Found.NO : Found.NEED_MORE;
    if (!isHandshakeRecord(ptr + <usize>pos)) return Found.NO;
    const recLen = u16at(ptr + <usize>(pos + 3));
    const body = pos + 5;
    const from = records == 0 ? skip : 0;
    if (from > recLen) return Found.NO;
    const present = recLen < len - body ? recLen : len - body;
    if (present < from) return Found.NEED_MORE;
    const avail = present - from;
    const take = avail < TLS_MAX_HELLO - got ? avail : TLS_MAX_HELLO - got;
    memory.copy(helloBuf + <usize>got, ptr + <usize>(body + from), <usize>take);
    const before = got;
    got += take;
    if (need < 0 && got >= 4) {
      need = 4 + u24at(helloBuf + 1);
      if (need > TLS_MAX_HELLO) return Found.NO;
    }
    if (need >= 0 && got >= need) {
      foundPtr = helloBuf;
      foundLen = need;
      messageEndsAt(pos, from + need - before, recLen);
      return Found.YES;
    }
    if (present < recLen) return Found.NEED_MORE;
    pos = body + recLen;
  }
  return Found.NO;
}

function messageEndsAt(record: i32, used: i32, recLen: i32): void {
  afterMessageRecord = used < recLen ? record : record + 5 + recLen;
  afterMessageSkip = used < recLen ? used : 0;
}

@inline function u24at(p: usize): i32 { return (<i32>load<u8>(p) << 16) | u16at(p + 1); }
@inline function isHandshakeRecord(p: usize): bool { return load<u8>(p) == 0x16 && load<u8>(p + 1) == 3; }
function isHandshakeRecordPrefix(p: usize, n: i32): bool { return load<u8>(p) == 0x16 && (n < 2 || load<u8>(p + 1) == 3); }

/** server_name of a whole ClientHello handshake message: YES with foundPtr/foundLen, or NO. */
export function clientHelloServerName(msg: usize, end: i32): i32 {
  if (end < 4 || load<u8>(msg) != 1) return Found.NO;
  let p = 4 + 2 + 32;
  if (p + 1 > end) return Found.NO;
  p += 1 + <i32>load<u8>(msg + <usize>p); // session id
  if (p + 2 > end) return Found.NO;
  p += 2 + u16at(msg + <usize>p); // cipher suites
  if (p + 1 > end) return Found.NO;
  p += 1 + <i32>load<u8>(msg + <usize>p); // compression methods
  if (p + 2 > end) return Found.NO;
  let extEnd = p + 2 + u16at(msg + <usize>p);
  if (extEnd > end) extEnd = end;
  p += 2;
  while (p + 4 <= extEnd) {
    const type = u16at(msg + <usize>p);
    const elen = u16at(msg + <usize>(p + 2));
    const body = p + 4;
    if (body + elen > extEnd) return Found.NO;
    if (type == 0) return serverNameExtension(msg + <usize>body, elen);
    p = body + elen;
  }
  return Found.NO;
}

// server_name_list: u16 length, then (u8 type, u16 length, name)
function serverNameExtension(ext: usize, elen: i32): i32 {
  if (elen < 5 || load<u8>(ext + 2) != 0) return Found.NO;
  const nlen = u16at(ext + 3);
  if (nlen == 0 || 5 + nlen > elen) return Found.NO;
  foundPtr = ext + 5;
  foundLen = nlen;
  return Found.YES;
}

/** Offset of the first byte at or after `from` that is not CR or LF; len when there is none yet. */
export function skipEmptyLines(ptr: usize, from: i32, len: i32): i32 {
  let i = from;
  while (i < len) {
    const c = load<u8>(ptr + <usize>i);
    if (c != 0x0d && c != 0x0a) break;
    i++;
  }
  return i;
}

/** True when the bytes start like an HTTP/1.x request line ("GET ", "POST "...). */
export function looksLikeHttpRequest(ptr: usize, len: i32): bool {
  return requestLineStart(ptr, len) == Found.YES;
}

/**
 * Whether the bytes start like a request line: a method of 3..15 capital
 * letters and a space. NEED_MORE while every byte so far could still be one.
 */
export function requestLineStart(ptr: usize, len: i32): i32 {
  let i = 0;
  while (i < len && i < 16) {
    const c = load<u8>(ptr + <usize>i);
    if (c == 0x20) return i >= 3 ? Found.YES : Found.NO;
    if (c < 0x41 || c > 0x5a) return Found.NO;
    i++;
  }
  return i < 16 ? Found.NEED_MORE : Found.NO;
}

/** Set by requestTargetHost: the request line's method is CONNECT. */
export let targetIsConnect: bool = false;

/**
 * The host the target of the request line [from, end) names (no line end in
 * it), to foundPtr/foundLen: that of an absolute-form target ("GET
 * http://host:port/path", which a proxy connects to and which RFC 9112 3.2.2
 * puts before Host) or of a CONNECT target ("host:port"), without userinfo,
 * port or IPv6 brackets. YES with a host, NO when the target has none ("/path").
 */
export function requestTargetHost(ptr: usize, from: i32, end: i32): i32 {
  let a = from;
  while (a < end && load<u8>(ptr + <usize>a) != 0x20) a++;
  targetIsConnect = a - from == 7 && isConnect(ptr + <usize>from);
  while (a < end && load<u8>(ptr + <usize>a) == 0x20) a++;
  let b = a;
  while (b < end && load<u8>(ptr + <usize>b) > 0x20) b++;
  if (targetIsConnect) return authorityHost(ptr, a, b);
  const authority = afterScheme(ptr, a, b);
  if (authority < 0) return Found.NO;
  let e = authority;
  while (e < b && !endsAuthority(load<u8>(ptr + <usize>e))) e++;
  return authorityHost(ptr, authority, e);
}

@inline function isConnect(p: usize): bool {
  return load<u32>(p) == 0x4e4e4f43 && load<u16>(p + 4) == 0x4345 && load<u8>(p + 6) == 0x54; // "CONNECT", little-endian loads
}
@inline function endsAuthority(c: u8): bool { return c == 0x2f || c == 0x3f || c == 0x23; }

// "scheme://" at a (scheme = ALPHA *(ALPHA / DIGIT / "+" / "-" / ".")): the offset after it, or -1
function afterScheme(ptr: usize, a: i32, b: i32): i32 {
  let i = a;
  while (i < b) {
    const c = load<u8>(ptr + <usize>i) | 0x20;
    const letter = c >= 0x61 && c <= 0x7a;
    if (!letter && (i == a || !((c >= 0x30 && c <= 0x39) || c == 0x2b || c == 0x2d || c == 0x2e))) break;
    i++;
  }
  if (i == a || i + 3 > b) return -1;
  if (load<u8>(ptr + <usize>i) != 0x3a || load<u8>(ptr + <usize>(i + 1)) != 0x2f || load<u8>(ptr + <usize>(i + 2)) != 0x2f) return -1;
  return i + 3;
}

// "[userinfo@]host[:port]" or "[v6]:port" in [a, b): the host to foundPtr/foundLen
function authorityHost(ptr: usize, a: i32, b: i32): i32 {
  for (let k = b - 1; k >= a; k--) if (load<u8>(ptr + <usize>k) == 0x40) { a = k + 1; break; }
  let e = a;
  if (a < b && load<u8>(ptr + <usize>a) == 0x5b) {
    a++;
    e = a;
    while (e < b && load<u8>(ptr + <usize>e) != 0x5d) e++;
    if (e == b) return Found.NO;
  } else {
    while (e < b && load<u8>(ptr + <usize>e) != 0x3a) e++;
  }
  foundPtr = ptr + <usize>a;
  foundLen = e - a;
  return e > a ? Found.YES : Found.NO;
}

/**
 * The host of a Host header value [from, end) (from just after "Host:"),
 * without surrounding whitespace and :port, to foundPtr/foundLen: YES, or NO
 * when it is empty.
 */
export function hostHeaderValue(ptr: usize, from: i32, end: i32): i32 {
  let a = from;
  let b = end;
  while (a < b && (load<u8>(ptr + <usize>a) == 0x20 || load<u8>(ptr + <usize>a) == 0x09)) a++;
  while (b > a && (load<u8>(ptr + <usize>(b - 1)) <= 0x20)) b--;
  // drop a :port, but not inside an [IPv6] literal
  for (let k = b - 1; k > a; k--) {
    const c = load<u8>(ptr + <usize>k);
    if (c == 0x3a) { b = k; break; }
    if (c < 0x30 || c > 0x39) break;
  }
  foundPtr = ptr + <usize>a;
  foundLen = b - a;
  return b > a ? Found.YES : Found.NO;
}
