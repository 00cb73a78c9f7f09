// Text from wire bytes for events and alerts. The host refuses JSON that is
// not valid UTF-8, and a peer controls these bytes, so only printable ASCII
// passes through; every other byte becomes \xHH (a backslash too, so the
// form stays unambiguous).

const HEX = "0123456789abcdef";

@inline function plain(c: u32): bool { return c >= 0x20 && c <= 0x7e && c != 0x5c; }

/**
 * Sized first and written in place: appending to a string copies all of it
 * each time, so a 16 KB name of unprintable bytes cost about 70 ms (quadratic).
 */
export function wireText(ptr: usize, len: i32): string {
  let escaped = 0;
  for (let i = 0; i < len; i++) if (!plain(load<u8>(ptr + <usize>i))) escaped++;
  if (escaped == 0) return String.UTF8.decodeUnsafe(ptr, <usize>len);
  const out = changetype<string>(__new(<usize>(len + 3 * escaped) << 1, idof<string>()));
  let o = changetype<usize>(out);
  const hex = changetype<usize>(HEX);
  for (let i = 0; i < len; i++) {
    const c = <u32>load<u8>(ptr + <usize>i);
    if (plain(c)) { store<u16>(o, <u16>c); o += 2; continue; }
    store<u16>(o, 0x5c);
    store<u16>(o, 0x78, 2);
    store<u16>(o, load<u16>(hex + (<usize>(c >> 4) << 1)), 4);
    store<u16>(o, load<u16>(hex + (<usize>(c & 15) << 1)), 6);
    o += 8;
  }
  return out;
}
