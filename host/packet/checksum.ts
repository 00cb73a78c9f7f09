// Internet checksum (RFC 1071) helpers shared by the packet builder and tests.

/** One's-complement sum of data[start, end) added to `initial`, not folded. */
export function sumWords(data: Uint8Array, start: number, end: number, initial = 0): number {
  let sum = initial;
  let i = start;
  for (; i + 1 < end; i += 2) sum += (data[i]! << 8) | data[i + 1]!;
  if (i < end) sum += data[i]! << 8;
  return sum;
}

/** Folds a running sum to 16 bits (end-around carry), not complemented. */
export function foldSum(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return s;
}

/** Folds a running sum to 16 bits and complements it. */
export function finishChecksum(sum: number): number {
  return ~foldSum(sum) & 0xffff;
}

/** Pseudo-header sum for TCP/UDP/ICMPv6 over IPv4 or IPv6 (src/dst decide). */
export function pseudoHeaderSum(src: Uint8Array, dst: Uint8Array, proto: number, l4Length: number): number {
  return pseudoHeaderSumAt(src, 0, dst, 0, src.length, proto, l4Length);
}

/**
 * The same, with the addresses read where they lie (`addrLen` bytes at each
 * offset): a frame's own header, with no view made per packet.
 */
export function pseudoHeaderSumAt(
  srcBytes: Uint8Array, srcAt: number, dstBytes: Uint8Array, dstAt: number, addrLen: number, proto: number, l4Length: number,
): number {
  let sum = sumWords(srcBytes, srcAt, srcAt + addrLen) + sumWords(dstBytes, dstAt, dstAt + addrLen);
  if (addrLen === 4) return sum + proto + l4Length;
  sum += Math.floor(l4Length / 0x10000) + (l4Length & 0xffff);
  return sum + proto;
}
