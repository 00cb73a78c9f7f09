// UTF-16 and UTF-32 request bodies, transcoded to UTF-8 before inspection:
// Express's json() accepts any "utf-*" charset, Tomcat reads form parameters
// in the request's charset, and Jackson detects UTF-16/32 JSON by itself. The
// detections work on ASCII, which these encodings spread over 2 or 4 bytes
// with zeros between, so a payload in them is invisible until transcoded.

/** An encoding the body may be in; NONE means ASCII-compatible (UTF-8, Latin-1...), inspected as is. */
export enum Utf { NONE = 0, UTF16 = 1, UTF16LE = 2, UTF16BE = 3, UTF32 = 4, UTF32LE = 5, UTF32BE = 6 }

/**
 * The encoding a charset label names (case, '-' and '_' ignored). UTF-16 and
 * UTF-32 without a byte order take it from a BOM, else from the zeros.
 */
export function utfOfLabel(p: usize, n: i32): Utf {
  const l = squeezed(p, n);
  if (l == "utf16" || l == "unicode") return Utf.UTF16;
  if (l == "utf16le" || l == "ucs2" || l == "unicodelittle") return Utf.UTF16LE;
  if (l == "utf16be" || l == "unicodebig" || l == "unicodebigunmarked") return Utf.UTF16BE;
  if (l == "utf32" || l == "ucs4") return Utf.UTF32;
  if (l == "utf32le") return Utf.UTF32LE;
  if (l == "utf32be") return Utf.UTF32BE;
  return Utf.NONE;
}

/**
 * JSON's own encoding detection (RFC 4627 section 3, as Jackson does it):
 * the first two characters are ASCII, so the zeros around them tell UTF-16
 * and UTF-32 and their byte order. A BOM says it too.
 */
export function utfOfJson(p: usize, n: i32): Utf {
  if (n < 2) return Utf.NONE;
  const b0 = load<u8>(p), b1 = load<u8>(p + 1);
  if (n >= 4) {
    const b2 = load<u8>(p + 2), b3 = load<u8>(p + 3);
    if (b0 == 0 && b1 == 0 && (b2 != 0 || b3 != 0)) return Utf.UTF32BE;
    if (b0 != 0 && b1 == 0 && b2 == 0 && b3 == 0) return Utf.UTF32LE;
    if (b0 == 0xff && b1 == 0xfe && b2 == 0 && b3 == 0) return Utf.UTF32LE;
  }
  if ((b0 == 0xff && b1 == 0xfe) || (b0 != 0 && b1 == 0)) return Utf.UTF16LE;
  if ((b0 == 0xfe && b1 == 0xff) || (b0 == 0 && b1 != 0)) return Utf.UTF16BE;
  return Utf.NONE;
}

/** Bytes the transcoded text of n input bytes can take at most (3 UTF-8 bytes per 2-byte unit). */
export function transcodedCap(n: i32): i32 { return n + (n >> 1) + 4; }

/**
 * Transcodes [p, p+n) in `enc` to UTF-8 at `out` (room for transcodedCap(n))
 * and returns the length. A BOM is dropped; a lone surrogate or a code point
 * past U+10FFFF becomes U+FFFD, as decoders replace them; a trailing partial
 * unit is dropped.
 */
export function toUtf8(p: usize, n: i32, enc: Utf, out: usize): i32 {
  enc = resolvedOrder(p, n, enc);
  const unit = enc == Utf.UTF32LE || enc == Utf.UTF32BE ? 4 : 2;
  const big = enc == Utf.UTF16BE || enc == Utf.UTF32BE;
  let i = 0;
  let o = 0;
  if (n >= unit && readUnit(p, unit, big) == 0xfeff) i = unit;
  while (i + unit <= n) {
    let cp = readUnit(p + <usize>i, unit, big);
    i += unit;
    if (unit == 2 && cp >= 0xd800 && cp < 0xdc00 && i + 2 <= n) {
      const lo = readUnit(p + <usize>i, 2, big);
      if (lo >= 0xdc00 && lo < 0xe000) { cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00); i += 2; }
    }
    if ((cp >= 0xd800 && cp < 0xe000) || cp > 0x10ffff) cp = 0xfffd;
    o = putUtf8(out, o, cp);
  }
  return o;
}

/** UTF-16 or UTF-32 without a byte order: the BOM's, else the side the zeros of ASCII text fall on (iconv-lite guesses so too), else little-endian. */
function resolvedOrder(p: usize, n: i32, enc: Utf): Utf {
  if (enc != Utf.UTF16 && enc != Utf.UTF32) return enc;
  const wide = enc == Utf.UTF32;
  if (n >= 2) {
    const b0 = load<u8>(p), b1 = load<u8>(p + 1);
    if (b0 == 0xfe && b1 == 0xff) return Utf.UTF16BE;
    if (b0 == 0xff && b1 == 0xfe) return wide ? Utf.UTF32LE : Utf.UTF16LE;
    if (wide && n >= 4 && b0 == 0 && b1 == 0 && load<u8>(p + 2) == 0xfe && load<u8>(p + 3) == 0xff) return Utf.UTF32BE;
  }
  let zerosFirst = 0;
  let zerosLast = 0;
  const unit = wide ? 4 : 2;
  for (let i = 0; i + unit <= n && i < 256; i += unit) {
    if (load<u8>(p + <usize>i) == 0) zerosFirst++;
    if (load<u8>(p + <usize>(i + unit - 1)) == 0) zerosLast++;
  }
  if (zerosFirst > zerosLast) return wide ? Utf.UTF32BE : Utf.UTF16BE;
  return wide ? Utf.UTF32LE : Utf.UTF16LE;
}

function readUnit(p: usize, unit: i32, big: bool): u32 {
  if (unit == 2) {
    const a = <u32>load<u8>(p), b = <u32>load<u8>(p + 1);
    return big ? (a << 8) | b : (b << 8) | a;
  }
  const a = <u32>load<u8>(p), b = <u32>load<u8>(p + 1), c = <u32>load<u8>(p + 2), d = <u32>load<u8>(p + 3);
  return big ? (a << 24) | (b << 16) | (c << 8) | d : (d << 24) | (c << 16) | (b << 8) | a;
}

function putUtf8(out: usize, o: i32, cp: u32): i32 {
  const q = out + <usize>o;
  if (cp < 0x80) { store<u8>(q, <u8>cp); return o + 1; }
  if (cp < 0x800) {
    store<u8>(q, <u8>(0xc0 | (cp >> 6)));
    store<u8>(q + 1, <u8>(0x80 | (cp & 0x3f)));
    return o + 2;
  }
  if (cp < 0x10000) {
    store<u8>(q, <u8>(0xe0 | (cp >> 12)));
    store<u8>(q + 1, <u8>(0x80 | ((cp >> 6) & 0x3f)));
    store<u8>(q + 2, <u8>(0x80 | (cp & 0x3f)));
    return o + 3;
  }
  store<u8>(q, <u8>(0xf0 | (cp >> 18)));
  store<u8>(q + 1, <u8>(0x80 | ((cp >> 12) & 0x3f)));
  store<u8>(q + 2, <u8>(0x80 | ((cp >> 6) & 0x3f)));
  store<u8>(q + 3, <u8>(0x80 | (cp & 0x3f)));
  return o + 4;
}

/** The label lower-cased without '-', '_' and surrounding quotes or spaces, at most 32 bytes. */
function squeezed(p: usize, n: i32): string {
  let s = "";
  for (let i = 0; i < n && i < 32; i++) {
    let c = load<u8>(p + <usize>i);
    if (c == 0x2d || c == 0x5f || c == 0x22 || c == 0x20 || c == 0x09) continue;
    if (<u8>(c - 0x41) < 26) c |= 0x20;
    s += String.fromCharCode(c);
  }
  return s;
}
