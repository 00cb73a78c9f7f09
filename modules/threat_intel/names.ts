// Just enough of DNS, TLS and HTTP to pull out the name a connection is for:
// the first DNS question, the TLS ClientHello's server_name, and the HTTP
// Host header. Every read is bounds-checked against the bytes given; none
// allocates. dns_guard/tls_inspect have full parsers; these are the
// name-only subset threat_intel needs on any port.

/** Where dnsQueryName writes the dotted name (at most 253 bytes). */
export const dnsName: usize = memory.data(256);
/** Set by tlsServerName/httpHost on success: the name's bytes in the input. */
export let foundPtr: usize = 0;
export let foundLen: i32 = 0;

export namespace Found {
  export const YES: i32 = 1;
  /** The bytes stop before the answer: try again when more arrive. */
  export const NEED_MORE: i32 = 0;
  export const NO: i32 = -1;
}

/** First question name of a DNS query message (no length prefix); its length in dnsName, or -1. */
export function dnsQueryName(ptr: usize, len: i32): i32 {
  if (len < 17) return -1;
  if ((load<u8>(ptr + 2) & 0x80) != 0) return -1; // a response
  const qd = (<i32>load<u8>(ptr + 4) << 8) | <i32>load<u8>(ptr + 5);
  if (qd == 0) return -1;
  let pos = 12;
  let out = 0;
  while (true) {
    if (pos >= len) return -1;
    const l = <i32>load<u8>(ptr + <usize>pos);
    if (l == 0) break;
    if (l > 63) return -1; // compression has no place in a query's first name
    if (pos + 1 + l > len || out + l + 1 > 253) return -1;
    if (out > 0) store<u8>(dnsName + <usize>(out++), 0x2e);
    memory.copy(dnsName + <usize>out, ptr + <usize>(pos + 1), <usize>l);
    out += l;
    pos += 1 + l;
  }
  return out > 0 ? out : -1;
}

@inline function u16at(p: usize): i32 { return (<i32>load<u8>(p) << 8) | <i32>load<u8>(p + 1); }

/** server_name of a TLS ClientHello at the start of a to-server stream. */
export function tlsServerName(ptr: usize, len: i32): i32 {
  if (len < 1) return Found.NEED_MORE;
  if (load<u8>(ptr) != 0x16) return Found.NO;
  if (len < 9) return Found.NEED_MORE;
  if (load<u8>(ptr + 1) != 3 || load<u8>(ptr + 5) != 1) return Found.NO;
  const recEnd = 5 + u16at(ptr + 3);
  const hsEnd = 9 + ((<i32>load<u8>(ptr + 6) << 16) | u16at(ptr + 7));
  // the hello may continue in a second record; the first one is what we read
  const end = hsEnd < recEnd ? hsEnd : recEnd;
  const have = len < end ? len : end;
  const incomplete = len < end;
  let p = 9 + 2 + 32;
  if (p + 1 > have) return incomplete ? Found.NEED_MORE : Found.NO;
  p += 1 + <i32>load<u8>(ptr + <usize>p);
  if (p + 2 > have) return incomplete ? Found.NEED_MORE : Found.NO;
  p += 2 + u16at(ptr + <usize>p);
  if (p + 1 > have) return incomplete ? Found.NEED_MORE : Found.NO;
  p += 1 + <i32>load<u8>(ptr + <usize>p);
  if (p + 2 > have) return incomplete ? Found.NEED_MORE : Found.NO;
  const extEnd = p + 2 + u16at(ptr + <usize>p);
  p += 2;
  while (p + 4 <= have && p + 4 <= extEnd) {
    const type = u16at(ptr + <usize>p);
    const elen = u16at(ptr + <usize>(p + 2));
    const body = p + 4;
    if (type == 0) {
      if (body + elen > have) return incomplete ? Found.NEED_MORE : Found.NO;
      // server_name_list: u16 length, then (u8 type, u16 length, name)
      if (elen < 5 || load<u8>(ptr + <usize>(body + 2)) != 0) return Found.NO;
      const nlen = u16at(ptr + <usize>(body + 3));
      if (nlen == 0 || body + 5 + nlen > body + elen) return Found.NO;
      foundPtr = ptr + <usize>(body + 5);
      foundLen = nlen;
      return Found.YES;
    }
    p = body + elen;
  }
  return p + 4 > have && incomplete ? Found.NEED_MORE : Found.NO;
}

/** True when the stream starts like an HTTP/1.x request ("GET ", "POST "...). */
export function looksLikeHttpRequest(ptr: usize, len: i32): bool {
  let i = 0;
  while (i < len && i < 16) {
    const c = load<u8>(ptr + <usize>i);
    if (c == 0x20) return i >= 3;
    if (c < 0x41 || c > 0x5a) return false;
    i++;
  }
  return false;
}

/**
 * Looks for a Host header line starting at or after `from` (an offset just
 * after a '\n', or 0) in len bytes; sets foundPtr/foundLen to the host without
 * port. Returns the offset to resume from (after the line) with YES, NEED_MORE
 * when a Host line has started but is not complete, NO when none is there.
 * `resume` receives where the next call should start.
 */
export let resume: i32 = 0;
export function httpHost(ptr: usize, from: i32, len: i32): i32 {
  let i = from;
  while (i < len) {
    // i is at a line start
    if (i + 1 < len && load<u8>(ptr + <usize>i) == 0x0d && load<u8>(ptr + <usize>(i + 1)) == 0x0a) { resume = len; return Found.NO; } // end of headers
    if (i + 5 > len) { resume = i; return Found.NEED_MORE; }
    let eol = i;
    while (eol < len && load<u8>(ptr + <usize>eol) != 0x0a) eol++;
    if (isHost(ptr + <usize>i)) {
      if (eol == len) { resume = i; return Found.NEED_MORE; }
      let a = i + 5;
      let b = eol;
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
      resume = eol + 1;
      return b > a ? Found.YES : Found.NO;
    }
    if (eol == len) { resume = i; return Found.NEED_MORE; }
    i = eol + 1;
  }
  resume = i;
  return Found.NEED_MORE;
}

@inline function isHost(p: usize): bool {
  return (load<u8>(p) | 0x20) == 0x68 && (load<u8>(p + 1) | 0x20) == 0x6f && (load<u8>(p + 2) | 0x20) == 0x73
    && (load<u8>(p + 3) | 0x20) == 0x74 && load<u8>(p + 4) == 0x3a;
}
