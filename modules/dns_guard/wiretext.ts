// Text from wire bytes for events and alerts. The host refuses JSON that is
// not valid UTF-8, and a peer controls these bytes, so only printable ASCII
// passes through; every other byte becomes \xHH (a backslash too, so the
// form stays unambiguous).

const HEX = "0123456789abcdef";

export function wireText(ptr: usize, len: i32): string {
  let clean = true;
  for (let i = 0; i < len; i++) {
    const c = load<u8>(ptr + <usize>i);
    if (c < 0x20 || c > 0x7e || c == 0x5c) { clean = false; break; }
  }
  if (clean) return String.UTF8.decodeUnsafe(ptr, <usize>len);
  let s = "";
  for (let i = 0; i < len; i++) {
    const c = <i32>load<u8>(ptr + <usize>i);
    if (c >= 0x20 && c <= 0x7e && c != 0x5c) s += String.fromCharCode(c);
    else s += "\\x" + HEX.charAt(c >> 4) + HEX.charAt(c & 15);
  }
  return s;
}
