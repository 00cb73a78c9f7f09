// Header parameters ("multipart/form-data; boundary=x; charset=utf-16"):
// `; name=value` pairs after a leading value, the value a token or a quoted
// string. Shared by Content-Type (boundary, charset) and a multipart part's
// Content-Disposition (name, filename).
import { lowerByte } from "./http";

/** The value found by the last findParam (quotes removed, escapes kept). */
export let paramPtr: usize = 0;
export let paramLen: i32 = 0;

/**
 * Looks for the parameter `name` (lower case, compared case-insensitively) in
 * the header value [p, p+n). The first occurrence wins.
 */
export function findParam(p: usize, n: i32, name: string): bool {
  let i = skipValue(p, 0, n);
  while (i < n) {
    i++; // past ';'
    while (i < n && isOws(load<u8>(p + <usize>i))) i++;
    const k = i;
    while (i < n && load<u8>(p + <usize>i) != 0x3d && load<u8>(p + <usize>i) != 0x3b) i++;
    let ke = i;
    while (ke > k && isOws(load<u8>(p + <usize>(ke - 1)))) ke--;
    if (i >= n || load<u8>(p + <usize>i) == 0x3b) continue; // a parameter without '='
    i++; // past '='
    while (i < n && isOws(load<u8>(p + <usize>i))) i++;
    const matches = equalsLower(p + <usize>k, ke - k, name);
    if (i < n && load<u8>(p + <usize>i) == 0x22) {
      const vs = i + 1;
      i = pastQuoted(p, vs, n);
      if (matches) { paramPtr = p + <usize>vs; paramLen = (i <= n && i > vs && load<u8>(p + <usize>(i - 1)) == 0x22 ? i - 1 : i) - vs; return true; }
      i = skipValue(p, i, n);
      continue;
    }
    const vs = i;
    i = skipValue(p, i, n);
    if (matches) {
      let ve = i;
      while (ve > vs && isOws(load<u8>(p + <usize>(ve - 1)))) ve--;
      paramPtr = p + <usize>vs;
      paramLen = ve - vs;
      return true;
    }
  }
  return false;
}

/** Offset of the next ';' at or after i (quoted strings skipped), or n. */
function skipValue(p: usize, i: i32, n: i32): i32 {
  while (i < n) {
    const c = load<u8>(p + <usize>i);
    if (c == 0x3b) return i;
    i = c == 0x22 ? pastQuoted(p, i + 1, n) : i + 1;
  }
  return n;
}

/** Offset just past the closing quote of a quoted string whose content starts at i (a backslash escapes the next byte), or n. */
function pastQuoted(p: usize, i: i32, n: i32): i32 {
  while (i < n) {
    const c = load<u8>(p + <usize>i);
    if (c == 0x22) return i + 1;
    i += c == 0x5c ? 2 : 1;
  }
  return n;
}

/** Whether the n bytes at p are `lowerWord`, whatever their case. */
export function equalsLower(p: usize, n: i32, lowerWord: string): bool {
  if (n != lowerWord.length) return false;
  for (let i = 0; i < n; i++) if (lowerByte(load<u8>(p + <usize>i)) != <u8>lowerWord.charCodeAt(i)) return false;
  return true;
}

/** Optional whitespace around header list items and parameters (RFC 9110 OWS). */
@inline export function isOws(c: u8): bool { return c == 0x20 || c == 0x09; }
