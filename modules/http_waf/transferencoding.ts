// A multipart part's own Content-Transfer-Encoding. RFC 7578 deprecates it,
// but servers still undo it before the application reads the field: Go's
// mime/multipart decodes quoted-printable parts (so r.FormValue returns the
// decoded text), and stacks built on a MIME library (Jakarta Mail, Apache
// mime4j, Python's email package) decode base64 and quoted-printable alike.
import { equalsLower } from "./params";

/** What a part's Content-Transfer-Encoding headers asked for, as bits (a part may carry several). */
export namespace PartCoding {
  export const QUOTED_PRINTABLE = 1;
  export const BASE64 = 2;
  /** A coding that is neither an identity nor one of the two above: a server may decode it in a way the WAF cannot. */
  export const UNKNOWN = 4;
}

/**
 * The PartCoding bit of the header value [p, p+n): case-insensitive, with
 * surrounding whitespace (line breaks of a folded header too) and any
 * `;` parameter ignored. Go compares the whole trimmed value, so it decodes
 * fewer spellings than this; reading more of them only adds views. 7bit,
 * 8bit, binary and an empty value are the bytes as sent: 0.
 */
export function partCodingOf(p: usize, n: i32): i32 {
  let s = 0;
  while (s < n && isSpace(load<u8>(p + <usize>s))) s++;
  let e = s;
  while (e < n && load<u8>(p + <usize>e) != 0x3b) e++;
  while (e > s && isSpace(load<u8>(p + <usize>(e - 1)))) e--;
  const w = p + <usize>s;
  const l = e - s;
  if (l == 0) return 0;
  if (equalsLower(w, l, "quoted-printable")) return PartCoding.QUOTED_PRINTABLE;
  if (equalsLower(w, l, "base64")) return PartCoding.BASE64;
  if (equalsLower(w, l, "7bit") || equalsLower(w, l, "8bit") || equalsLower(w, l, "binary")) return 0;
  return PartCoding.UNKNOWN;
}

function isSpace(c: u8): bool { return c == 0x20 || c == 0x09 || c == 0x0d || c == 0x0a; }
