// Quoted-printable (RFC 2045 6.7) as the decoders back ends use read it: Go's
// mime/quotedprintable (which mime/multipart applies to a part on its own),
// Python's email package, Jakarta Mail. Decoding is lenient, as theirs is
// where they do not give up: the WAF must see at least what any of them
// hands the application, and a sequence one of them rejects only makes that
// server refuse the request.

/**
 * Decodes [src, src+n) into dst (room for n bytes; the output is never
 * longer) and returns the decoded length. One pass, no look-back.
 *
 * - `=XX` is the byte XX; lower-case hex is accepted, as Go and Python do.
 * - `=` then optional SP/HT then CRLF or LF is a soft line break: removed.
 * - Any other `=` (bad hex, cut short at the end) stays as sent, as Python
 *   keeps it; Go refuses the part, so no server sees something else there.
 * - Every other byte is copied, line breaks included.
 */
export function decodeQuotedPrintable(src: usize, n: i32, dst: usize): i32 {
  let o = 0;
  let i = 0;
  while (i < n) {
    const c = load<u8>(src + <usize>i);
    if (c != 0x3d) { store<u8>(dst + <usize>(o++), c); i++; continue; }
    if (i + 2 < n) {
      const hi = hexValue(load<u8>(src + <usize>(i + 1)));
      const lo = hexValue(load<u8>(src + <usize>(i + 2)));
      if (hi >= 0 && lo >= 0) { store<u8>(dst + <usize>(o++), <u8>((hi << 4) | lo)); i += 3; continue; }
    }
    const brk = softBreakEnd(src, i + 1, n);
    if (brk > 0) { i = brk; continue; }
    store<u8>(dst + <usize>(o++), c);
    i++;
  }
  return o;
}

/**
 * Where a soft line break that starts after an `=` at `from` ends, or 0 when
 * none starts there. The spaces it passes are not looked at again from
 * another `=`, since one stops the run, so the decoding stays linear.
 */
function softBreakEnd(src: usize, from: i32, n: i32): i32 {
  let j = from;
  while (j < n && (load<u8>(src + <usize>j) == 0x20 || load<u8>(src + <usize>j) == 0x09)) j++;
  if (j < n && load<u8>(src + <usize>j) == 0x0a) return j + 1;
  if (j + 1 < n && load<u8>(src + <usize>j) == 0x0d && load<u8>(src + <usize>(j + 1)) == 0x0a) return j + 2;
  return 0;
}

function hexValue(c: u8): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}
