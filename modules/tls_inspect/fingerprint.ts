// The JA3/JA3S (Salesforce) and JA4 (FoxIO) fingerprints of a parsed hello.
// JA3 keeps wire order and decimal numbers; JA4 sorts (so shuffled
// extension orders give one fingerprint), uses hex and SHA-256 truncations.
import { Hello, U16List, isGrease } from "./hello";
import { md5String } from "./md5";
import { sha256String } from "./sha256";

const HEX = "0123456789abcdef";

/**
 * ASCII text built in one reused buffer. A peer sends up to 512 ciphers and
 * 128 of each list: appending them to a string one by one copied it each
 * time, near a millisecond a hello.
 */
class Text {
  buf: StaticArray<u16> = new StaticArray<u16>(8192);
  len: i32 = 0;
  @inline reset(): Text { this.len = 0; return this; }
  @inline char(c: i32): void { unchecked(this.buf[this.len++] = <u16>c); }
  decimal(v: u32): void {
    let digits = 1;
    for (let t = v; t >= 10; t /= 10) digits++;
    this.len += digits;
    for (let i = this.len - 1; digits > 0; digits--, i--) { unchecked(this.buf[i] = <u16>(0x30 + v % 10)); v /= 10; }
  }
  hex4(v: u32): void {
    for (let k = 12; k >= 0; k -= 4) this.char(HEX.charCodeAt((v >> k) & 15));
  }
  toString(): string { return String.UTF16.decodeUnsafe(changetype<usize>(this.buf), <usize>this.len << 1); }
}

// Room for the longest: 512 ciphers of 6 characters (5 digits and a separator), far below the buffer.
const text = new Text();

function dashJoin(t: Text, list: U16List): void {
  let first = true;
  for (let i = 0; i < list.count; i++) {
    const v = list.at(i);
    if (isGrease(v)) continue;
    if (!first) t.char(0x2d);
    first = false;
    t.decimal(v);
  }
}

/** JA3 string: version,ciphers,extensions,groups,point formats (decimal, GREASE removed). */
export function ja3String(h: Hello): string {
  const t = text.reset();
  t.decimal(h.version);
  t.char(0x2c); dashJoin(t, h.ciphers);
  t.char(0x2c); dashJoin(t, h.extensions);
  t.char(0x2c); dashJoin(t, h.groups);
  t.char(0x2c); dashJoin(t, h.pointFormats);
  return t.toString();
}

/** JA3S string: version,cipher,extensions. */
export function ja3sString(h: Hello): string {
  const t = text.reset();
  t.decimal(h.version);
  t.char(0x2c); t.decimal(h.cipher);
  t.char(0x2c); dashJoin(t, h.extensions);
  return t.toString();
}

export function ja3Hash(s: string): string { return md5String(s); }

const sortBuf = new StaticArray<u16>(1024);

/** Non-GREASE values of list, sorted, as comma-joined 4-digit hex; skips 0x0000 and 0x0010 when dropSniAlpn. */
function sortedHex(list: U16List, dropSniAlpn: bool): string {
  let n = 0;
  for (let i = 0; i < list.count && n < sortBuf.length; i++) {
    const v = list.at(i);
    if (isGrease(v) || (dropSniAlpn && (v == 0x0000 || v == 0x0010))) continue;
    unchecked(sortBuf[n++] = v);
  }
  // A peer chooses the order and sends up to 512: an insertion sort was
  // quadratic on a descending list; the typed array's sort is n log n.
  const sorted = new Uint16Array(n);
  memory.copy(sorted.dataStart, changetype<usize>(sortBuf), <usize>n << 1);
  sorted.sort();
  const t = text.reset();
  for (let i = 0; i < n; i++) { if (i > 0) t.char(0x2c); t.hex4(unchecked(sorted[i])); }
  return t.toString();
}

function wireHex(list: U16List): string {
  const t = text.reset();
  for (let i = 0; i < list.count; i++) {
    const v = list.at(i);
    if (isGrease(v)) continue;
    if (t.len > 0) t.char(0x2c);
    t.hex4(v);
  }
  return t.toString();
}

function countNonGrease(list: U16List): i32 {
  let n = 0;
  for (let i = 0; i < list.count; i++) if (!isGrease(list.at(i))) n++;
  return n + list.dropped;
}

function twoDigits(n: i32): string {
  if (n > 99) n = 99;
  return n < 10 ? "0" + n.toString() : n.toString();
}

function versionCode(v: u16): string {
  switch (v) {
    case 0x0304: return "13";
    case 0x0303: return "12";
    case 0x0302: return "11";
    case 0x0301: return "10";
    case 0x0300: return "s3";
    case 0x0002: return "s2";
    case 0xfeff: return "d1";
    case 0xfefd: return "d2";
    case 0xfefc: return "d3";
  }
  return "00";
}

@inline function isAlnum(c: u8): bool {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function alpnCode(h: Hello): string {
  if (h.alpnCount == 0 || h.alpnLens[0] == 0) return "00";
  const p = h.base + <usize>h.alpnOffs[0];
  const first = load<u8>(p);
  const last = load<u8>(p + <usize>(h.alpnLens[0] - 1));
  if (isAlnum(first) && isAlnum(last)) return String.fromCharCode(first) + String.fromCharCode(last);
  // Non-alphanumeric: first and last characters of the value's hex form.
  return HEX.charAt(first >> 4) + HEX.charAt(last & 15);
}

function truncatedSha(s: string): string {
  return s.length == 0 ? "000000000000" : sha256String(s).substring(0, 12);
}

/** The JA4 parts: a (readable header), and the raw strings hashed into b and c. */
export class Ja4 {
  a: string = "";
  ciphers: string = "";
  extensions: string = "";
  toString(): string {
    return this.a + "_" + truncatedSha(this.ciphers) + "_" + truncatedSha(this.extensions);
  }
  /** JA4_r: the same with the raw lists in place of the hashes. */
  raw(): string { return this.a + "_" + this.ciphers + "_" + this.extensions; }
}

export function ja4(h: Hello): Ja4 {
  const out = new Ja4();
  out.a = (h.dtls ? "d" : "t") + versionCode(h.bestVersion) + (h.sniPresent ? "d" : "i") +
    twoDigits(countNonGrease(h.ciphers)) + twoDigits(countNonGrease(h.extensions)) + alpnCode(h);
  out.ciphers = sortedHex(h.ciphers, false);
  let ext = sortedHex(h.extensions, true);
  const sig = wireHex(h.sigAlgs);
  if (sig.length > 0 && ext.length > 0) ext += "_" + sig;
  out.extensions = ext;
  return out;
}

export function versionText(v: u16): string {
  switch (v) {
    case 0x0304: return "TLS 1.3";
    case 0x0303: return "TLS 1.2";
    case 0x0302: return "TLS 1.1";
    case 0x0301: return "TLS 1.0";
    case 0x0300: return "SSLv3";
    case 0x0002: return "SSLv2";
    case 0xfeff: return "DTLS 1.0";
    case 0xfefd: return "DTLS 1.2";
    case 0xfefc: return "DTLS 1.3";
  }
  return "UNDETERMINED";
}
