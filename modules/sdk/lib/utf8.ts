// Bytes from the wire made safe to put in a string that leaves the module
// (alert metadata, events): invalid UTF-8 becomes U+FFFD. AssemblyScript's
// own decoder lets malformed sequences through as lone surrogates, which
// re-encode to bytes the host's strict UTF-8 check refuses, and the alert or
// event is then lost.

let scratch = new Uint8Array(1024);

/** A string of at most maxBytes input bytes from [ptr, ptr+len), with invalid sequences replaced. */
export function utf8Text(ptr: usize, len: i32, maxBytes: i32 = 4096): string {
  const n = len < maxBytes ? len : maxBytes;
  if (n <= 0) return "";
  if (scratch.length < n * 3) scratch = new Uint8Array(n * 3);
  const out = scratch.dataStart;
  let o = 0;
  let i = 0;
  while (i < n) {
    const c = <u32>load<u8>(ptr + <usize>i);
    const k = c < 0x80 ? 1 : sequenceLength(ptr, i, n);
    if (k == 0) {
      store<u8>(out + <usize>o, 0xef);
      store<u8>(out + <usize>(o + 1), 0xbf);
      store<u8>(out + <usize>(o + 2), 0xbd);
      o += 3;
      i++;
      continue;
    }
    memory.copy(out + <usize>o, ptr + <usize>i, <usize>k);
    o += k;
    i += k;
  }
  return String.UTF8.decodeUnsafe(out, <usize>o, false);
}

@inline function cont(ptr: usize, i: i32, n: i32, lo: u32, hi: u32): bool {
  if (i >= n) return false;
  const b = <u32>load<u8>(ptr + <usize>i);
  return b >= lo && b <= hi;
}

// Length of the well-formed sequence at i (RFC 3629 table), 0 when malformed or cut off.
function sequenceLength(ptr: usize, i: i32, n: i32): i32 {
  const c = <u32>load<u8>(ptr + <usize>i);
  if (c >= 0xc2 && c <= 0xdf) return cont(ptr, i + 1, n, 0x80, 0xbf) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    const lo: u32 = c == 0xe0 ? 0xa0 : 0x80;
    const hi: u32 = c == 0xed ? 0x9f : 0xbf;
    return cont(ptr, i + 1, n, lo, hi) && cont(ptr, i + 2, n, 0x80, 0xbf) ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    const lo: u32 = c == 0xf0 ? 0x90 : 0x80;
    const hi: u32 = c == 0xf4 ? 0x8f : 0xbf;
    return cont(ptr, i + 1, n, lo, hi) && cont(ptr, i + 2, n, 0x80, 0xbf) && cont(ptr, i + 3, n, 0x80, 0xbf) ? 4 : 0;
  }
  return 0;
}
