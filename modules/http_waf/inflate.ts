// A small DEFLATE decoder (RFC 1951) with the zlib (RFC 1950) and gzip (RFC
// 1952) wrappers, for request bodies sent with Content-Encoding: the back end
// inflates them (Express does by default), so the detections must see what it
// sees. Modelled on zlib's puff.c: canonical Huffman codes decoded one bit at
// a time, which is slow next to zlib but needs only a few small tables, and a
// request body is at most body_depth bytes.
//
// Untrusted input, so everything is bounded: the output stops at the caller's
// cap (a bomb inflates to the cap, no further), every loop consumes input or
// produces output, and a malformed stream only sets the status; nothing traps.
// Checksums (CRC-32, Adler-32) are not verified: a body whose checksum is
// wrong is refused by the back end, so inspecting it anyway costs nothing.

/** How a decoding ended. */
export enum Inflate {
  /** The stream ended properly (last block, and for gzip every member). */
  DONE = 0,
  /** The input ended inside the stream. */
  TRUNCATED = 1,
  /** The output reached the cap with more of the stream left. */
  FULL = 2,
  /** Not a valid stream (bad header, block type, code or distance). */
  CORRUPT = 3,
}

/** The framing around the DEFLATE data. */
export enum Wrapper { RAW = 0, ZLIB = 1, GZIP = 2 }

const RUNNING = -1;
const MAX_BITS = 15;
const MAX_LIT_CODES = 286;
const MAX_DIST_CODES = 30;
const FIXED_LIT_CODES = 288;

/** Bytes written by the last inflate(). */
export let inflatedLen: i32 = 0;
/** Where the compressed data ended in the input (trailers and trailing bytes start here). */
export let consumedLen: i32 = 0;

// The input, the output and the bit reader of the current call.
let src: usize = 0;
let srcLen: i32 = 0;
let srcPos: i32 = 0;
let bitBuf: u32 = 0;
let bitCnt: i32 = 0;
let dst: usize = 0;
let dstCap: i32 = 0;
let dstLen: i32 = 0;
let status: i32 = RUNNING;

/** A canonical Huffman code: how many codes of each length, and the symbols in code order. */
class Huffman {
  count: StaticArray<u16> = new StaticArray<u16>(MAX_BITS + 1);
  symbol: StaticArray<u16> = new StaticArray<u16>(FIXED_LIT_CODES);
}

const lenCode = new Huffman();
const distCode = new Huffman();
const fixedLen = new Huffman();
const fixedDist = new Huffman();
let fixedBuilt = false;
/** Code lengths being read (literal/length codes, then distance codes). */
const lengths = new StaticArray<u8>(MAX_LIT_CODES + MAX_DIST_CODES);
const offsets = new StaticArray<u16>(MAX_BITS + 1);

const LEN_BASE: StaticArray<u16> = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LEN_EXTRA: StaticArray<u8> = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DIST_BASE: StaticArray<u16> = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
const DIST_EXTRA: StaticArray<u8> = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
/** The order in which a dynamic block sends the code length code lengths. */
const CL_ORDER: StaticArray<u8> = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

/**
 * Inflates [p, p+n) into [out, out+cap) and returns how it ended; the bytes
 * written are in inflatedLen even when it did not end well, so a corrupt
 * stream is still inspected as far as it decoded.
 */
export function inflate(p: usize, n: i32, out: usize, cap: i32, wrapper: Wrapper): Inflate {
  src = p; srcLen = n; srcPos = 0;
  bitBuf = 0; bitCnt = 0;
  dst = out; dstCap = cap; dstLen = 0;
  status = RUNNING;
  if (wrapper == Wrapper.GZIP) gunzipMembers();
  else {
    if (wrapper == Wrapper.ZLIB) zlibHeader();
    if (status == RUNNING) blocks();
  }
  inflatedLen = dstLen;
  consumedLen = srcPos;
  return status == RUNNING ? Inflate.DONE : <Inflate>status;
}

/** Whether [p, p+n) starts with a zlib header for DEFLATE data ("deflate" is zlib, though some clients send it raw). */
export function hasZlibHeader(p: usize, n: i32): bool {
  if (n < 2) return false;
  const cmf = <u32>load<u8>(p);
  const flg = <u32>load<u8>(p + 1);
  return (cmf & 0x0f) == 8 && (cmf >> 4) <= 7 && ((cmf << 8) | flg) % 31 == 0;
}

function fail(why: Inflate): void {
  if (status == RUNNING) status = why;
}

/** The next `need` bits (0..16), least significant first; 0 and TRUNCATED when the input ends. */
function bits(need: i32): i32 {
  let val = bitBuf;
  while (bitCnt < need) {
    if (srcPos >= srcLen) { fail(Inflate.TRUNCATED); return 0; }
    val |= <u32>load<u8>(src + <usize>srcPos) << bitCnt;
    srcPos++;
    bitCnt += 8;
  }
  bitBuf = val >>> need;
  bitCnt -= need;
  return <i32>(val & ((1 << need) - 1));
}

// Every block costs at least three bits of input, so the loop ends with the input.
function blocks(): void {
  let last = 0;
  do {
    last = bits(1);
    const type = bits(2);
    if (status != RUNNING) return;
    if (type == 0) stored();
    else if (type == 1) { buildFixed(); codes(fixedLen, fixedDist); }
    else if (type == 2) dynamic();
    else fail(Inflate.CORRUPT);
    if (status != RUNNING) return;
  } while (last == 0);
}

function stored(): void {
  bitBuf = 0; // a stored block starts on a byte boundary
  bitCnt = 0;
  if (srcPos + 4 > srcLen) { fail(Inflate.TRUNCATED); return; }
  const s = src + <usize>srcPos;
  const len = <i32>load<u8>(s) | (<i32>load<u8>(s + 1) << 8);
  const nlen = <i32>load<u8>(s + 2) | (<i32>load<u8>(s + 3) << 8);
  srcPos += 4;
  if (len != (~nlen & 0xffff)) { fail(Inflate.CORRUPT); return; }
  const take = min(len, min(srcLen - srcPos, dstCap - dstLen));
  memory.copy(dst + <usize>dstLen, src + <usize>srcPos, <usize>take);
  srcPos += take;
  dstLen += take;
  if (take < len) fail(dstLen >= dstCap ? Inflate.FULL : Inflate.TRUNCATED);
}

/**
 * Builds the code `h` from code lengths lengths[from, from+n). Returns 0 for a
 * complete code, more for an incomplete one, less for an over-subscribed one.
 */
function construct(h: Huffman, from: i32, n: i32): i32 {
  for (let len = 0; len <= MAX_BITS; len++) unchecked(h.count[len] = 0);
  for (let sym = 0; sym < n; sym++) {
    const l = unchecked(lengths[from + sym]);
    unchecked(h.count[l] = unchecked(h.count[l]) + 1);
  }
  if (<i32>unchecked(h.count[0]) == n) return 0; // no codes: complete, and decoding anything with it fails
  let left = 1;
  for (let len = 1; len <= MAX_BITS; len++) {
    left = (left << 1) - <i32>unchecked(h.count[len]);
    if (left < 0) return left;
  }
  unchecked(offsets[1] = 0);
  for (let len = 1; len < MAX_BITS; len++) unchecked(offsets[len + 1] = unchecked(offsets[len]) + unchecked(h.count[len]));
  for (let sym = 0; sym < n; sym++) {
    const l = unchecked(lengths[from + sym]);
    if (l == 0) continue;
    const at = unchecked(offsets[l]);
    unchecked(h.symbol[at] = <u16>sym);
    unchecked(offsets[l] = at + 1);
  }
  return left;
}

/** The next symbol of code `h`, or -1 (status set) when the input ends or no code matches. */
function decode(h: Huffman): i32 {
  let code = 0;
  let first = 0;
  let index = 0;
  for (let len = 1; len <= MAX_BITS; len++) {
    code |= bits(1);
    if (status != RUNNING) return -1;
    const count = <i32>unchecked(h.count[len]);
    if (code - count < first) return <i32>unchecked(h.symbol[index + (code - first)]);
    index += count;
    first = (first + count) << 1;
    code <<= 1;
  }
  fail(Inflate.CORRUPT);
  return -1;
}

// Each symbol consumes at least one bit and each literal or match writes at
// least one byte, so this ends with the input or at the output cap.
function codes(lit: Huffman, dist: Huffman): void {
  while (true) {
    let sym = decode(lit);
    if (sym < 0 || sym == 256) return;
    if (sym < 256) {
      if (dstLen >= dstCap) { fail(Inflate.FULL); return; }
      store<u8>(dst + <usize>dstLen, <u8>sym);
      dstLen++;
      continue;
    }
    sym -= 257;
    if (sym >= 29) { fail(Inflate.CORRUPT); return; }
    const len = <i32>unchecked(LEN_BASE[sym]) + bits(<i32>unchecked(LEN_EXTRA[sym]));
    const dsym = decode(dist);
    if (dsym < 0) return;
    if (dsym >= 30) { fail(Inflate.CORRUPT); return; }
    const back = <i32>unchecked(DIST_BASE[dsym]) + bits(<i32>unchecked(DIST_EXTRA[dsym]));
    if (status != RUNNING) return;
    if (back > dstLen) { fail(Inflate.CORRUPT); return; }
    copyMatch(len, back);
    if (status != RUNNING) return;
  }
}

/** Copies `len` bytes from `back` bytes behind the output end (they may overlap what is being written). */
function copyMatch(len: i32, back: i32): void {
  const room = dstCap - dstLen;
  const take = len < room ? len : room;
  const from = dst + <usize>(dstLen - back);
  const to = dst + <usize>dstLen;
  for (let i = 0; i < take; i++) store<u8>(to + <usize>i, load<u8>(from + <usize>i));
  dstLen += take;
  if (take < len) fail(Inflate.FULL);
}

function buildFixed(): void {
  if (fixedBuilt) return;
  let sym = 0;
  for (; sym < 144; sym++) unchecked(lengths[sym] = 8);
  for (; sym < 256; sym++) unchecked(lengths[sym] = 9);
  for (; sym < 280; sym++) unchecked(lengths[sym] = 7);
  for (; sym < FIXED_LIT_CODES; sym++) unchecked(lengths[sym] = 8);
  construct(fixedLen, 0, FIXED_LIT_CODES);
  for (sym = 0; sym < MAX_DIST_CODES; sym++) unchecked(lengths[sym] = 5);
  construct(fixedDist, 0, MAX_DIST_CODES);
  fixedBuilt = true;
}

function dynamic(): void {
  const nlen = bits(5) + 257;
  const ndist = bits(5) + 1;
  const ncode = bits(4) + 4;
  if (status != RUNNING) return;
  if (nlen > MAX_LIT_CODES || ndist > MAX_DIST_CODES) { fail(Inflate.CORRUPT); return; }
  for (let i = 0; i < 19; i++) unchecked(lengths[CL_ORDER[i]] = i < ncode ? <u8>bits(3) : 0);
  if (status != RUNNING) return;
  // the code length code must be complete
  if (construct(lenCode, 0, 19) != 0) { fail(Inflate.CORRUPT); return; }
  if (!readCodeLengths(nlen + ndist)) return;
  if (unchecked(lengths[256]) == 0) { fail(Inflate.CORRUPT); return; } // no end-of-block code
  if (!usable(construct(lenCode, 0, nlen), lenCode, nlen)) return;
  if (!usable(construct(distCode, nlen, ndist), distCode, ndist)) return;
  codes(lenCode, distCode);
}

/** Reads `total` code lengths with the run-length codes 16 (repeat previous), 17 and 18 (zeros). */
function readCodeLengths(total: i32): bool {
  let index = 0;
  while (index < total) {
    const sym = decode(lenCode);
    if (sym < 0) return false;
    if (sym < 16) { unchecked(lengths[index++] = <u8>sym); continue; }
    let len: u8 = 0;
    let rep = 0;
    if (sym == 16) {
      if (index == 0) { fail(Inflate.CORRUPT); return false; }
      len = unchecked(lengths[index - 1]);
      rep = 3 + bits(2);
    } else if (sym == 17) rep = 3 + bits(3);
    else rep = 11 + bits(7);
    if (status != RUNNING) return false;
    if (index + rep > total) { fail(Inflate.CORRUPT); return false; }
    while (rep-- > 0) unchecked(lengths[index++] = len);
  }
  return true;
}

/** An incomplete code is allowed only when it is a single code of one bit (RFC 1951 allows one distance code). */
function usable(left: i32, h: Huffman, n: i32): bool {
  if (left < 0 || (left > 0 && n - <i32>unchecked(h.count[0]) != 1)) { fail(Inflate.CORRUPT); return false; }
  return true;
}

function zlibHeader(): void {
  if (srcLen < 2) { fail(Inflate.TRUNCATED); return; }
  if (!hasZlibHeader(src, srcLen)) { fail(Inflate.CORRUPT); return; }
  // a preset dictionary is not in the stream: the data cannot be inflated without it
  if ((load<u8>(src + 1) & 0x20) != 0) { fail(Inflate.CORRUPT); return; }
  srcPos = 2;
}

const GZIP_FHCRC: u8 = 2;
const GZIP_FEXTRA: u8 = 4;
const GZIP_FNAME: u8 = 8;
const GZIP_FCOMMENT: u8 = 16;

// Concatenated members are one stream to gunzip (Node's zlib inflates them
// all), so a harmless first member must not hide the second. Each member
// takes at least 18 bytes of input.
function gunzipMembers(): void {
  let first = true;
  while (true) {
    if (!first && (srcPos + 2 > srcLen || load<u8>(src + <usize>srcPos) != 0x1f || load<u8>(src + <usize>(srcPos + 1)) != 0x8b)) return;
    first = false;
    gzipHeader();
    if (status != RUNNING) return;
    bitBuf = 0;
    bitCnt = 0;
    blocks();
    if (status != RUNNING) return;
    // the last block ends mid-byte: its unused bits are dropped, then CRC-32 and size follow
    bitBuf = 0;
    bitCnt = 0;
    if (srcPos + 8 > srcLen) { fail(Inflate.TRUNCATED); return; }
    srcPos += 8;
  }
}

function gzipHeader(): void {
  const at = srcPos;
  if (at + 10 > srcLen) { fail(Inflate.TRUNCATED); return; }
  if (load<u8>(src + <usize>at) != 0x1f || load<u8>(src + <usize>(at + 1)) != 0x8b || load<u8>(src + <usize>(at + 2)) != 8) {
    fail(Inflate.CORRUPT);
    return;
  }
  const flags = load<u8>(src + <usize>(at + 3));
  if ((flags & 0xe0) != 0) { fail(Inflate.CORRUPT); return; } // reserved bits: gunzip refuses them
  let pos = at + 10;
  if ((flags & GZIP_FEXTRA) != 0) {
    if (pos + 2 > srcLen) { fail(Inflate.TRUNCATED); return; }
    pos += 2 + (<i32>load<u8>(src + <usize>pos) | (<i32>load<u8>(src + <usize>(pos + 1)) << 8));
  }
  if ((flags & GZIP_FNAME) != 0) pos = pastZero(pos);
  if ((flags & GZIP_FCOMMENT) != 0) pos = pastZero(pos);
  if ((flags & GZIP_FHCRC) != 0) pos += 2;
  if (pos > srcLen) { fail(Inflate.TRUNCATED); return; }
  srcPos = pos;
}

/** Offset just past the zero byte ending the string at pos, or past the input when there is none. */
function pastZero(pos: i32): i32 {
  while (pos < srcLen && load<u8>(src + <usize>pos) != 0) pos++;
  return pos + 1;
}
