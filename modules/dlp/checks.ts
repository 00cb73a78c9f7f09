// Validity checks that keep DLP quiet on ordinary numbers: Luhn and card
// issuer ranges, the SSA's never-issued SSN ranges, and the JWT header test.
import { base64Decode, Base64Flag } from "../sdk/lib";

/** Luhn check over `n` digits stored as values 0..9 at ptr. */
export function luhnOk(digits: usize, n: i32): bool {
  let sum = 0;
  let dbl = false;
  for (let i = n - 1; i >= 0; i--) {
    let d = <i32>load<u8>(digits + <usize>i);
    if (dbl) { d *= 2; if (d > 9) d -= 9; }
    sum += d;
    dbl = !dbl;
  }
  return sum % 10 == 0;
}

function prefixValue(digits: usize, k: i32): i32 {
  let v = 0;
  for (let i = 0; i < k; i++) v = v * 10 + <i32>load<u8>(digits + <usize>i);
  return v;
}

/** Card brand whose issuer ranges and lengths fit the digits, or "" when none does. */
export function cardBrand(digits: usize, n: i32): string {
  const p1 = prefixValue(digits, 1);
  const p2 = prefixValue(digits, 2);
  const p3 = prefixValue(digits, 3);
  const p4 = prefixValue(digits, 4);
  if (p1 == 4 && (n == 13 || n == 16 || n == 19)) return "visa";
  if (((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) && n == 16) return "mastercard";
  if ((p2 == 34 || p2 == 37) && n == 15) return "amex";
  if ((p4 == 6011 || p2 == 65 || (p3 >= 644 && p3 <= 649)) && n >= 16 && n <= 19) return "discover";
  if (p4 >= 3528 && p4 <= 3589 && n >= 16 && n <= 19) return "jcb";
  if (((p3 >= 300 && p3 <= 305) || p2 == 36 || p2 == 38) && n >= 14 && n <= 19) return "diners";
  if (p2 == 62 && n >= 16 && n <= 19) return "unionpay";
  return "";
}

/** US SSN area/group/serial rules: never 000, 666 or 9xx areas, 00 groups, 0000 serials. */
export function ssnOk(area: i32, group: i32, serial: i32): bool {
  if (area == 0 || area == 666 || area >= 900) return false;
  return group != 0 && serial != 0;
}

const headerBuf = new Uint8Array(768);

/** True when len base64url bytes at ptr decode to a JSON object with an "alg" member. */
export function jwtHeaderOk(ptr: usize, len: i32): bool {
  if (len < 4 || len > 1024) return false;
  const n = base64Decode(ptr, len, headerBuf.dataStart, Base64Flag.URL_SAFE);
  if (n < 2) return false;
  const b = headerBuf.dataStart;
  let i = 0;
  while (i < n && load<u8>(b + <usize>i) <= 0x20) i++;
  if (i >= n || load<u8>(b + <usize>i) != 0x7b) return false;
  let e = n - 1;
  while (e > i && load<u8>(b + <usize>e) <= 0x20) e--;
  if (load<u8>(b + <usize>e) != 0x7d) return false;
  lastHeaderLen = n;
  return jwtAlg(n) >= 0;
}
let lastHeaderLen: i32 = 0;

/** Where the "alg" value starts in the last decoded header and its length in lastAlgLen, or -1. */
export let lastAlgLen: i32 = 0;
function jwtAlg(n: i32): i32 {
  const b = headerBuf.dataStart;
  for (let i = 0; i + 5 <= n; i++) {
    if (load<u8>(b + <usize>i) != 0x22 || load<u8>(b + <usize>(i + 1)) != 0x61 || load<u8>(b + <usize>(i + 2)) != 0x6c
      || load<u8>(b + <usize>(i + 3)) != 0x67 || load<u8>(b + <usize>(i + 4)) != 0x22) continue;
    let j = i + 5;
    while (j < n && (load<u8>(b + <usize>j) == 0x20 || load<u8>(b + <usize>j) == 0x3a)) j++;
    if (j >= n || load<u8>(b + <usize>j) != 0x22) return -1;
    let k = j + 1;
    while (k < n && k - j <= 16 && isAlgChar(load<u8>(b + <usize>k))) k++;
    if (k >= n || load<u8>(b + <usize>k) != 0x22) return -1;
    lastAlgLen = k - j - 1;
    return j + 1;
  }
  return -1;
}

@inline function isAlgChar(c: u8): bool { return (<u8>(c - 0x41) < 26) || (<u8>(c - 0x61) < 26) || (<u8>(c - 0x30) < 10) || c == 0x2d || c == 0x5f; }

/** The "alg" value of the last header jwtHeaderOk accepted (short, public: "HS256", "none"). */
export function lastAlg(): string {
  const at = jwtAlg(lastHeaderLen);
  return at < 0 ? "" : String.UTF8.decodeUnsafe(headerBuf.dataStart + <usize>at, <usize>lastAlgLen);
}
