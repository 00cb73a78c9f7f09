// Percent-decoding as web servers do it, plus the evasions WAFs must undo:
// '+' as space (forms), IIS-style %uXXXX (with full-width ASCII folded to
// ASCII), overlong UTF-8 forms of ASCII (..%c0%af), and repeated decoding for
// double encoding (%252e). Output is never longer than input, so every
// function may decode in place (dst == src). Malformed escapes stay literal.

export namespace PercentFlag {
  /** '+' decodes to a space (application/x-www-form-urlencoded). */
  export const PLUS_SPACE: i32 = 1;
  /** %uXXXX decodes to UTF-8; U+FF01..U+FF5E (full-width ASCII) to ASCII. */
  export const U_ESCAPES: i32 = 2;
  /** Overlong UTF-8 encodings of ASCII (C0 AF, E0 80 AE...) collapse to the ASCII byte. */
  export const OVERLONG: i32 = 4;
}

@inline function hexVal(c: u32): i32 {
  if (c - 0x30 < 10) return <i32>(c - 0x30);
  const l = c | 0x20;
  if (l - 0x61 < 6) return <i32>(l - 0x57);
  return -1;
}

/** Decodes len bytes at src into dst (may be src); returns the decoded length. */
export function percentDecode(src: usize, len: i32, dst: usize, flags: i32 = 0): i32 {
  let o = 0;
  let changed = false;
  let i = 0;
  while (i < len) {
    const c = <u32>load<u8>(src + <usize>i);
    if (c == 0x25) {
      if (i + 2 < len) {
        const h = hexVal(load<u8>(src + <usize>(i + 1)));
        const l = hexVal(load<u8>(src + <usize>(i + 2)));
        if (h >= 0 && l >= 0) {
          store<u8>(dst + <usize>(o++), <u8>((h << 4) | l));
          i += 3;
          changed = true;
          continue;
        }
      }
      if ((flags & PercentFlag.U_ESCAPES) != 0 && i + 5 < len && (load<u8>(src + <usize>(i + 1)) | 0x20) == 0x75) {
        const cp = hex4(src + <usize>(i + 2));
        if (cp >= 0) {
          o = putCodePoint(dst, o, cp);
          i += 6;
          changed = true;
          continue;
        }
      }
      store<u8>(dst + <usize>(o++), <u8>c);
      i++;
      continue;
    }
    if (c == 0x2b && (flags & PercentFlag.PLUS_SPACE) != 0) {
      store<u8>(dst + <usize>(o++), 0x20);
      changed = true;
    } else {
      store<u8>(dst + <usize>(o++), <u8>c);
    }
    i++;
  }
  if ((flags & PercentFlag.OVERLONG) != 0) {
    const n = collapseOverlong(dst, o);
    if (n != o) changed = true;
    o = n;
  }
  lastChanged = changed;
  return o;
}

/**
 * Decodes in place until a pass changes nothing or maxRounds passes ran
 * (catches %252e and deeper); returns the final length. `rounds()` tells how
 * many passes changed something: more than one is itself a signal (double
 * encoding). '+' becomes a space only in the first pass, as a server would.
 */
export function percentDecodeRepeat(ptr: usize, len: i32, flags: i32 = 0, maxRounds: i32 = 3): i32 {
  lastRounds = 0;
  for (let r = 0; r < maxRounds; r++) {
    const f = r == 0 ? flags : flags & ~PercentFlag.PLUS_SPACE;
    if (!mayNeedDecoding(ptr, len, f)) break;
    const n = percentDecode(ptr, len, ptr, f);
    if (!lastChanged) break;
    lastRounds++;
    len = n;
  }
  return len;
}

let lastRounds: i32 = 0;
let lastChanged: bool = false;
/** Passes of the last percentDecodeRepeat that changed the bytes. */
export function rounds(): i32 { return lastRounds; }

function mayNeedDecoding(ptr: usize, len: i32, flags: i32): bool {
  for (let i = 0; i < len; i++) {
    const c = load<u8>(ptr + <usize>i);
    if (c == 0x25) return true;
    if (c == 0x2b && (flags & PercentFlag.PLUS_SPACE) != 0) return true;
    if (c >= 0xc0 && (flags & PercentFlag.OVERLONG) != 0) return true;
  }
  return false;
}

/** The value of the four hex digits at p (a \uXXXX or %uXXXX escape's), -1 when one is not a hex digit. */
export function hex4(p: usize): i32 {
  let v = 0;
  for (let k = 0; k < 4; k++) {
    const d = hexVal(load<u8>(p + <usize>k));
    if (d < 0) return -1;
    v = (v << 4) | d;
  }
  return v;
}

// A %uXXXX escape is 6 bytes and its UTF-8 at most 3, so in-place stays safe.
function putCodePoint(dst: usize, o: i32, cp: i32): i32 {
  if (cp >= 0xff01 && cp <= 0xff5e) cp -= 0xfee0;
  if (cp < 0x80) { store<u8>(dst + <usize>o, <u8>cp); return o + 1; }
  if (cp < 0x800) {
    store<u8>(dst + <usize>o, <u8>(0xc0 | (cp >> 6)));
    store<u8>(dst + <usize>(o + 1), <u8>(0x80 | (cp & 0x3f)));
    return o + 2;
  }
  store<u8>(dst + <usize>o, <u8>(0xe0 | (cp >> 12)));
  store<u8>(dst + <usize>(o + 1), <u8>(0x80 | ((cp >> 6) & 0x3f)));
  store<u8>(dst + <usize>(o + 2), <u8>(0x80 | (cp & 0x3f)));
  return o + 3;
}

/**
 * Collapses overlong UTF-8 encodings of ASCII (2-byte C0/C1 xx, 3-byte E0 80..81 xx)
 * to the ASCII byte, as lenient decoders did (the IIS "..%c0%af" hole). In place; returns the new length.
 */
export function collapseOverlong(ptr: usize, len: i32): i32 {
  let o = 0;
  let i = 0;
  while (i < len) {
    const c = <u32>load<u8>(ptr + <usize>i);
    if ((c == 0xc0 || c == 0xc1) && i + 1 < len) {
      const c1 = <u32>load<u8>(ptr + <usize>(i + 1));
      if ((c1 & 0xc0) == 0x80) {
        store<u8>(ptr + <usize>(o++), <u8>(((c & 1) << 6) | (c1 & 0x3f)));
        i += 2;
        continue;
      }
    }
    if (c == 0xe0 && i + 2 < len) {
      const c1 = <u32>load<u8>(ptr + <usize>(i + 1));
      const c2 = <u32>load<u8>(ptr + <usize>(i + 2));
      if ((c1 == 0x80 || c1 == 0x81) && (c2 & 0xc0) == 0x80) {
        store<u8>(ptr + <usize>(o++), <u8>(((c1 & 1) << 6) | (c2 & 0x3f)));
        i += 3;
        continue;
      }
    }
    store<u8>(ptr + <usize>(o++), <u8>c);
    i++;
  }
  return o;
}
