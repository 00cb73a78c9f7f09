// Base64 decoding (RFC 4648), standard or URL-safe alphabet. Padding is
// optional, as JWTs and URL tokens omit it; anything else off-alphabet makes
// the input invalid (-1), so a caller can tell "not base64" from "decoded".

export namespace Base64Flag {
  /** Use '-' and '_' instead of '+' and '/'. */
  export const URL_SAFE: i32 = 1;
  /** Accept both alphabets at once (for detection, where the variant is unknown). */
  export const ANY_ALPHABET: i32 = 2;
}

@inline function sextet(c: u32, flags: i32): i32 {
  if (c - 0x41 < 26) return <i32>(c - 0x41);
  if (c - 0x61 < 26) return <i32>(c - 0x61 + 26);
  if (c - 0x30 < 10) return <i32>(c - 0x30 + 52);
  const url = (flags & (Base64Flag.URL_SAFE | Base64Flag.ANY_ALPHABET)) != 0;
  const std = (flags & Base64Flag.URL_SAFE) == 0 || (flags & Base64Flag.ANY_ALPHABET) != 0;
  if (std && c == 0x2b) return 62;
  if (std && c == 0x2f) return 63;
  if (url && c == 0x2d) return 62;
  if (url && c == 0x5f) return 63;
  return -1;
}

/** Largest output for len input bytes. */
export function base64DecodedMax(len: i32): i32 { return (len / 4) * 3 + 3; }

/** Decodes len bytes at src into dst (may be src); returns the byte count, or -1 when not valid base64. */
export function base64Decode(src: usize, len: i32, dst: usize, flags: i32 = 0): i32 {
  // trailing '=' padding: at most two, and only where the length says it belongs
  let n = len;
  let pad = 0;
  while (n > 0 && load<u8>(src + <usize>(n - 1)) == 0x3d && pad < 2) { n--; pad++; }
  if (pad > 0 && (len & 3) != 0) return -1;
  if ((n & 3) == 1) return -1;
  let o = 0;
  let acc: u32 = 0;
  let bits = 0;
  for (let i = 0; i < n; i++) {
    const v = sextet(load<u8>(src + <usize>i), flags);
    if (v < 0) return -1;
    acc = (acc << 6) | <u32>v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      store<u8>(dst + <usize>(o++), <u8>(acc >> <u32>bits));
    }
  }
  return o;
}
