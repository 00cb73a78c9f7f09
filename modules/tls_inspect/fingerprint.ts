// The JA3/JA3S (Salesforce) and JA4 (FoxIO) fingerprints of a parsed hello.
// JA3 keeps wire order and decimal numbers; JA4 sorts (so shuffled
// extension orders give one fingerprint), uses hex and SHA-256 truncations.
import { Hello, U16List, isGrease } from "./hello";
import { md5String } from "./md5";
import { sha256String } from "./sha256";

function dashJoin(list: U16List): string {
  let s = "";
  for (let i = 0; i < list.count; i++) {
    const v = list.at(i);
    if (isGrease(v)) continue;
    if (s.length > 0) s += "-";
    s += v.toString();
  }
  return s;
}

/** JA3 string: version,ciphers,extensions,groups,point formats (decimal, GREASE removed). */
export function ja3String(h: Hello): string {
  return h.version.toString() + "," + dashJoin(h.ciphers) + "," + dashJoin(h.extensions) + "," + dashJoin(h.groups) + "," + dashJoin(h.pointFormats);
}

/** JA3S string: version,cipher,extensions. */
export function ja3sString(h: Hello): string {
  return h.version.toString() + "," + h.cipher.toString() + "," + dashJoin(h.extensions);
}

export function ja3Hash(s: string): string { return md5String(s); }

const HEX = "0123456789abcdef";

function hex4(v: u16): string {
  return HEX.charAt((v >> 12) & 15) + HEX.charAt((v >> 8) & 15) + HEX.charAt((v >> 4) & 15) + HEX.charAt(v & 15);
}

const sortBuf = new StaticArray<u16>(1024);

/** Non-GREASE values of list, sorted, as comma-joined 4-digit hex; skips 0x0000 and 0x0010 when dropSniAlpn. */
function sortedHex(list: U16List, dropSniAlpn: bool): string {
  let n = 0;
  for (let i = 0; i < list.count && n < sortBuf.length; i++) {
    const v = list.at(i);
    if (isGrease(v) || (dropSniAlpn && (v == 0x0000 || v == 0x0010))) continue;
    unchecked(sortBuf[n++] = v);
  }
  // insertion sort: lists are short (tens of entries)
  for (let i = 1; i < n; i++) {
    const v = unchecked(sortBuf[i]);
    let j = i - 1;
    while (j >= 0 && unchecked(sortBuf[j]) > v) { unchecked(sortBuf[j + 1] = unchecked(sortBuf[j])); j--; }
    unchecked(sortBuf[j + 1] = v);
  }
  let s = "";
  for (let i = 0; i < n; i++) { if (i > 0) s += ","; s += hex4(unchecked(sortBuf[i])); }
  return s;
}

function wireHex(list: U16List): string {
  let s = "";
  for (let i = 0; i < list.count; i++) {
    const v = list.at(i);
    if (isGrease(v)) continue;
    if (s.length > 0) s += ",";
    s += hex4(v);
  }
  return s;
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
