// Base64 in a MIME part (RFC 2045 6.8) as the lenient decoders read it:
// Python's email package and Java's MIME decoder skip every byte outside the
// alphabet (line breaks, spaces, junk), and a final group without its
// padding still gives its whole bytes. The SDK's base64Decode refuses such
// input, which here would leave a payload unread that a server reads.
//
// Decoders disagree about an `=` before the end of the data. Java's MIME
// decoder stops there and refuses data after it; Python's binascii ends the
// data at a group its padding completes but skips a stray `=` (one that
// completes nothing) and reads on as if it were not there. So when alphabet
// bytes follow an `=`, there are two readings: the bits run on past the `=`
// (Padding.SKIPPED), or each `=` ends a group and the next starts afresh
// (Padding.ENDS_GROUP, whose output starts with what a decoder that stops at
// the padding reads). The caller inspects both; they are the same when no
// data follows a padding byte, which `dataAfterPadding` tells.

export enum Padding { ENDS_GROUP = 0, SKIPPED = 1 }

/** Whether the last decode met alphabet bytes after an `=`: the other Padding reading differs. */
export let dataAfterPadding: bool = false;

/**
 * Decodes [src, src+n) into dst (room for n bytes; the output is at most
 * 3/4 of it) and returns the decoded length. The standard alphabet only:
 * `-` and `_` are skipped as the MIME decoders skip them, since reading them
 * as URL-safe digits would give bytes no server sees.
 */
export function decodeMimeBase64(src: usize, n: i32, dst: usize, padding: Padding): i32 {
  let o = 0;
  let acc: u32 = 0;
  let bits = 0;
  let padSeen = false;
  dataAfterPadding = false;
  for (let i = 0; i < n; i++) {
    const c = load<u8>(src + <usize>i);
    const v = digitValue(c);
    if (v < 0) {
      if (c == 0x3d) {
        padSeen = true;
        if (padding == Padding.ENDS_GROUP) { acc = 0; bits = 0; }
      }
      continue;
    }
    if (padSeen) dataAfterPadding = true;
    acc = ((acc << 6) | <u32>v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      store<u8>(dst + <usize>(o++), <u8>(acc >> <u32>bits));
    }
  }
  return o;
}

function digitValue(c: u8): i32 {
  if (c >= 0x41 && c <= 0x5a) return c - 0x41;
  if (c >= 0x61 && c <= 0x7a) return c - 0x61 + 26;
  if (c >= 0x30 && c <= 0x39) return c - 0x30 + 52;
  if (c == 0x2b) return 62;
  if (c == 0x2f) return 63;
  return -1;
}
