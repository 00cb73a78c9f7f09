// What MD5 (JA3) and SHA-256 (JA4) share: both end their input with the same
// padding before its last one or two 64-byte blocks, and fingerprints want
// their digests as lower-case hex.

const tail = new StaticArray<u8>(128);

/** Where padTail writes the padded end of an input. */
export const TAIL: usize = changetype<usize>(tail);

/**
 * Writes at TAIL the bytes of (ptr, len) after its last whole 64-byte block,
 * then 0x80, zeros, and len in bits as the last 8 bytes: little-endian for
 * MD5, big-endian for SHA-256. Returns the bytes written, 64 or 128.
 */
export function padTail(ptr: usize, len: i32, bigEndianLength: bool): i32 {
  const off = len & ~63;
  const rest = len - off;
  memory.fill(TAIL, 0, 128);
  memory.copy(TAIL, ptr + <usize>off, <usize>rest);
  store<u8>(TAIL + <usize>rest, 0x80);
  const total = rest + 9 <= 64 ? 64 : 128;
  const bits = <u64>len << 3;
  store<u64>(TAIL + <usize>(total - 8), bigEndianLength ? bswap<u64>(bits) : bits);
  return total;
}

const HEX = "0123456789abcdef";

/**
 * Bytes in memory order as hex, written into one string of the final size:
 * built a character at a time it took two single-character strings and a
 * concatenation per byte, and those allocations (and the collector after
 * them) were most of tls_inspect's time on a ClientHello.
 */
export function hexLE(p: usize, n: i32): string {
  const out = changetype<string>(__new(<usize>n << 2, idof<string>()));
  const o = changetype<usize>(out);
  const hex = changetype<usize>(HEX);
  for (let i = 0; i < n; i++) {
    const b = <usize>load<u8>(p + <usize>i);
    store<u16>(o + (<usize>i << 2), load<u16>(hex + ((b >> 4) << 1)));
    store<u16>(o + (<usize>i << 2), load<u16>(hex + ((b & 15) << 1)), 2);
  }
  return out;
}
