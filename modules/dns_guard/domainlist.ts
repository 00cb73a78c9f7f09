// Reads blocklist entries (config arrays or the text of a list file) into a
// DomainSet. Accepted line forms, so common published lists load unchanged:
//   evil.example          the name and every name below it
//   =evil.example         that name only
//   *.evil.example        names below it, not the name itself
//   0.0.0.0 evil.example  hosts-file lines (the address is ignored)
//   # comment             blank lines and text after '#' are ignored
import { DomainSet, DomainFlag } from "./domainset";

/** Why the last parseDomainEntry/loadDomainText call failed. */
export let domainListError: string = "";

const scratch = new Uint8Array(256);

@inline function isNameByte(c: u32): bool {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c == 0x2d || c == 0x5f || c == 0x2e;
}

/** Adds one entry (already trimmed, without comments); false with domainListError set when it is not a domain. */
export function addDomainEntry(set: DomainSet, text: string): bool {
  let start = 0;
  let end = text.length;
  let flags: u8 = DomainFlag.SELF | DomainFlag.BELOW;
  if (end > 0 && text.charCodeAt(0) == 0x3d) { flags = DomainFlag.SELF; start = 1; }
  else if (end > 1 && text.charCodeAt(0) == 0x2a && text.charCodeAt(1) == 0x2e) { flags = DomainFlag.BELOW; start = 2; }
  else if (end > 0 && text.charCodeAt(0) == 0x2e) { flags = DomainFlag.BELOW; start = 1; }
  if (end > start && text.charCodeAt(end - 1) == 0x2e) end--;
  const n = end - start;
  if (n <= 0) { domainListError = "empty domain"; return false; }
  if (n > 253) { domainListError = "longer than 253 characters"; return false; }
  let labelLen = 0;
  for (let i = 0; i < n; i++) {
    let c = <u32>text.charCodeAt(start + i);
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (!isNameByte(c)) {
      domainListError = c > 0x7e ? "non-ASCII character (write IDNs in punycode, xn--...)" : "character '" + String.fromCharCode(c) + "' is not allowed in a domain";
      return false;
    }
    if (c == 0x2e) {
      if (labelLen == 0) { domainListError = "empty label"; return false; }
      labelLen = 0;
    } else if (++labelLen > 63) { domainListError = "label longer than 63 characters"; return false; }
    unchecked(scratch[i] = <u8>c);
  }
  if (labelLen == 0) { domainListError = "empty label"; return false; }
  set.add(scratch.dataStart, n, flags);
  return true;
}

@inline function isSpace(c: i32): bool { return c == 0x20 || c == 0x09 || c == 0x0d; }

/** Adds every entry of a list file's text; false with domainListError naming the line. */
export function loadDomainText(set: DomainSet, text: string, what: string): bool {
  const len = text.length;
  let lineNo = 0;
  let pos = 0;
  while (pos < len) {
    lineNo++;
    let eol = text.indexOf("\n", pos);
    if (eol < 0) eol = len;
    let end = eol;
    const hash = text.indexOf("#", pos);
    if (hash >= 0 && hash < end) end = hash;
    // Fields of the line: a hosts-file line is "address name [aliases...]".
    let a = pos;
    let fields = 0;
    let firstStart = -1, firstEnd = -1, secondStart = -1, secondEnd = -1;
    while (a < end) {
      while (a < end && isSpace(text.charCodeAt(a))) a++;
      if (a >= end) break;
      let b = a;
      while (b < end && !isSpace(text.charCodeAt(b))) b++;
      if (fields == 0) { firstStart = a; firstEnd = b; } else if (fields == 1) { secondStart = a; secondEnd = b; }
      fields++;
      a = b;
    }
    if (fields > 0) {
      let entry: string;
      if (fields == 1) entry = text.substring(firstStart, firstEnd);
      else if (looksLikeAddress(text, firstStart, firstEnd)) entry = text.substring(secondStart, secondEnd);
      else { domainListError = what + " line " + lineNo.toString() + ": expected one domain or \"address domain\""; return false; }
      if (!addDomainEntry(set, entry)) {
        domainListError = what + " line " + lineNo.toString() + " (\"" + entry + "\"): " + domainListError;
        return false;
      }
    }
    pos = eol + 1;
  }
  return true;
}

// An IPv4 address is digits and dots; an IPv6 one has a colon. Hex-only
// words without a colon ("bad", "cafe.be") are names, not addresses.
function looksLikeAddress(text: string, a: i32, b: i32): bool {
  let colon = false, digitsAndDots = true;
  for (let i = a; i < b; i++) {
    const c = text.charCodeAt(i);
    const hex = (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
    if (c == 0x3a) colon = true;
    else if (!hex && c != 0x2e) return false;
    if (!(c >= 0x30 && c <= 0x39) && c != 0x2e) digitsAndDots = false;
  }
  return b > a && (colon || digitsAndDots);
}
