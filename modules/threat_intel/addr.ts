// IPv4/IPv6 text to bytes, read straight from memory (list files are parsed
// without making a string per line).

/** Parses an IPv4 or IPv6 address in [ptr, ptr+len) into out (4 or 16 bytes); returns 4, 6, or 0 when it is not one. */
export function parseAddr(ptr: usize, len: i32, out: usize): i32 {
  let colon = false;
  for (let i = 0; i < len; i++) if (load<u8>(ptr + <usize>i) == 0x3a) { colon = true; break; }
  if (colon) return parseV6(ptr, len, out) ? 6 : 0;
  return parseV4(ptr, len, out) ? 4 : 0;
}

export function parseV4(ptr: usize, len: i32, out: usize): bool {
  let part = 0;
  let val = 0;
  let digits = 0;
  for (let i = 0; i <= len; i++) {
    const c = i < len ? <i32>load<u8>(ptr + <usize>i) : 0x2e;
    if (c >= 0x30 && c <= 0x39) {
      if (digits > 0 && val == 0) return false; // no leading zeros: "010" is octal to some tools
      val = val * 10 + (c - 0x30);
      if (++digits > 3 || val > 255) return false;
    } else if (c == 0x2e) {
      if (digits == 0 || part > 3) return false;
      store<u8>(out + <usize>part, <u8>val);
      part++;
      val = 0;
      digits = 0;
    } else return false;
  }
  return part == 4;
}

function hexDigit(c: i32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x57;
  return -1;
}

const v6Groups = new StaticArray<i32>(8);

export function parseV6(ptr: usize, len: i32, out: usize): bool {
  // groups before and after "::" are collected apart, then placed
  const groups = v6Groups;
  let n = 0;
  let gap = -1;
  let i = 0;
  if (len >= 2 && load<u8>(ptr) == 0x3a) {
    if (load<u8>(ptr + 1) != 0x3a) return false;
    gap = 0;
    i = 2;
    if (len == 2) { memory.fill(out, 0, 16); return true; }
  }
  while (i < len) {
    // an embedded IPv4 tail ("::ffff:198.18.0.1") takes two groups
    let dot = false;
    let j = i;
    while (j < len && load<u8>(ptr + <usize>j) != 0x3a) { if (load<u8>(ptr + <usize>j) == 0x2e) dot = true; j++; }
    if (dot) {
      if (j != len || n > 6) return false;
      const v4 = memory.data(4);
      if (!parseV4(ptr + <usize>i, j - i, v4)) return false;
      unchecked(groups[n++] = (<i32>load<u8>(v4) << 8) | <i32>load<u8>(v4 + 1));
      unchecked(groups[n++] = (<i32>load<u8>(v4 + 2) << 8) | <i32>load<u8>(v4 + 3));
      i = j;
      break;
    }
    if (j - i < 1 || j - i > 4 || n >= 8) return false;
    let v = 0;
    for (let k = i; k < j; k++) {
      const d = hexDigit(<i32>load<u8>(ptr + <usize>k));
      if (d < 0) return false;
      v = (v << 4) | d;
    }
    unchecked(groups[n++] = v);
    i = j;
    if (i == len) break;
    i++; // the ':'
    if (i < len && load<u8>(ptr + <usize>i) == 0x3a) {
      if (gap >= 0) return false;
      gap = n;
      i++;
    } else if (i == len) return false; // trailing single ':'
  }
  if (gap < 0 && n != 8) return false;
  if (gap >= 0 && n > 7) return false;
  memory.fill(out, 0, 16);
  const tail = gap < 0 ? 0 : n - gap;
  const head = gap < 0 ? n : gap;
  for (let g = 0; g < head; g++) {
    store<u8>(out + <usize>(2 * g), <u8>(unchecked(groups[g]) >> 8));
    store<u8>(out + <usize>(2 * g + 1), <u8>unchecked(groups[g]));
  }
  for (let g = 0; g < tail; g++) {
    const at = 8 - tail + g;
    const v = unchecked(groups[head + g]);
    store<u8>(out + <usize>(2 * at), <u8>(v >> 8));
    store<u8>(out + <usize>(2 * at + 1), <u8>v);
  }
  return true;
}

/** Dotted or colon text of 4/16 address bytes, for alert metadata. */
export function addrText(ptr: usize, version: i32): string {
  if (version == 4) {
    return load<u8>(ptr).toString() + "." + load<u8>(ptr + 1).toString() + "." + load<u8>(ptr + 2).toString() + "." + load<u8>(ptr + 3).toString();
  }
  let s = "";
  for (let g = 0; g < 8; g++) {
    const v = (<u32>load<u8>(ptr + <usize>(2 * g)) << 8) | <u32>load<u8>(ptr + <usize>(2 * g + 1));
    s += (g > 0 ? ":" : "") + v.toString(16);
  }
  return s;
}
