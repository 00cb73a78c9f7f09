// Byte search over raw memory ranges (packet payloads, stream bytes).

/** ASCII lower-case copy of bytes, for the *NoCase searches. */
export function lowerAscii(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = toLower(bytes[i]);
  return out;
}

/** UTF-8 bytes of a string. */
export function utf8(s: string): Uint8Array {
  return Uint8Array.wrap(String.UTF8.encode(s));
}

@inline export function toLower(c: u8): u8 {
  return c - 65 < 26 ? c | 0x20 : c;
}

/** First index >= from of needle in [hay, hay+hayLen), -1 when absent. An empty needle matches at from. */
export function indexOf(hay: usize, hayLen: i32, needle: Uint8Array, from: i32 = 0): i32 {
  return indexOfRaw(hay, hayLen, needle.dataStart, needle.length, from);
}

export function indexOfRaw(hay: usize, hayLen: i32, needle: usize, needleLen: i32, from: i32 = 0): i32 {
  if (from < 0) from = 0;
  if (needleLen == 0) return from <= hayLen ? from : -1;
  const last = hayLen - needleLen;
  if (hay == 0 || last < from) return -1;
  const first = load<u8>(needle);
  for (let i = from; i <= last; i++) {
    if (load<u8>(hay + <usize>i) != first) continue;
    if (memory.compare(hay + <usize>i, needle, <usize>needleLen) == 0) return i;
  }
  return -1;
}

/** Like indexOf but ASCII case-insensitive; needle must be lower case. */
export function indexOfNoCase(hay: usize, hayLen: i32, needleLower: Uint8Array, from: i32 = 0): i32 {
  if (from < 0) from = 0;
  const n = needleLower.length;
  if (n == 0) return from <= hayLen ? from : -1;
  const last = hayLen - n;
  if (hay == 0 || last < from) return -1;
  const needle = needleLower.dataStart;
  const first = load<u8>(needle);
  for (let i = from; i <= last; i++) {
    if (toLower(load<u8>(hay + <usize>i)) != first) continue;
    let j = 1;
    while (j < n && toLower(load<u8>(hay + <usize>(i + j))) == load<u8>(needle + <usize>j)) j++;
    if (j == n) return i;
  }
  return -1;
}
