// Reads blocklist entries (config arrays or the text of a list file) into a
// DomainSet. Accepted line forms, so common published lists load unchanged:
//   evil.example          the name and every name below it
//   =evil.example         that name only
//   *.evil.example        names below it, not the name itself
//   0.0.0.0 evil.example  hosts-file lines (the address is ignored)
//   # comment             blank lines and text after '#' are ignored
import { DomainSet, DomainFlag } from "./domainset";
import { JsonValue, refuse, stringList } from "../sdk";

/**
 * A config's two ways of giving a list, loaded into set: `listKey` an array
 * of entries, `textKey` the text of a list file or an array of them. False
 * (after logging which entry or line) when either is invalid.
 */
export function loadDomainLists(set: DomainSet, config: JsonValue, listKey: string, textKey: string): bool {
  const list = stringList(config, listKey);
  if (list === null) return false;
  for (let i = 0; i < list.length; i++) {
    if (!addDomainEntry(set, list[i].trim())) return refuse(listKey + "[" + i.toString() + "] (\"" + list[i] + "\"): " + domainListError);
  }
  const text = config.get(textKey);
  if (text === null) return true;
  reserveForTexts(set, text);
  if (text.isString()) return loadDomainText(set, text.str, textKey) || refuse(domainListError);
  if (!text.isArray()) return refuse(textKey + " must be a string (the text of a list file) or an array of them");
  for (let i = 0; i < text.length; i++) {
    const t = text.at(i);
    const where = textKey + "[" + i.toString() + "]";
    if (!t.isString()) return refuse(where + " must be a string (the text of a list file)");
    if (!loadDomainText(set, t.str, where)) return refuse(domainListError);
  }
  return true;
}

/** Why the last parseDomainEntry/loadDomainText call failed. */
export let domainListError: string = "";

const scratch = new Uint8Array(256);

@inline function isNameByte(c: u32): bool {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c == 0x2d || c == 0x5f || c == 0x2e;
}

/** Adds one entry (already trimmed, without comments); false with domainListError set when it is not a domain. */
export function addDomainEntry(set: DomainSet, text: string): bool {
  return addDomainRange(set, text, 0, text.length);
}

/** Adds the entry text[from, to) without copying it out of the string first. */
function addDomainRange(set: DomainSet, text: string, from: i32, to: i32): bool {
  let start = from;
  let end = to;
  let flags: u8 = DomainFlag.SELF | DomainFlag.BELOW;
  if (end > start && text.charCodeAt(start) == 0x3d) { flags = DomainFlag.SELF; start++; }
  else if (end > start + 1 && text.charCodeAt(start) == 0x2a && text.charCodeAt(start + 1) == 0x2e) { flags = DomainFlag.BELOW; start += 2; }
  else if (end > start && text.charCodeAt(start) == 0x2e) { flags = DomainFlag.BELOW; start++; }
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

/**
 * Grows the set once for every list text of a config field (a string or an
 * array of strings): lines and characters bound the entries and bytes, and
 * growing up front avoids repeated doubling copies of a 100k-entry set.
 */
export function reserveForTexts(set: DomainSet, field: JsonValue): void {
  let lines = 0;
  let chars = 0;
  const n = field.isArray() ? field.length : 1;
  for (let k = 0; k < n; k++) {
    const t = field.isArray() ? field.at(k) : field;
    if (!t.isString()) continue;
    const text = t.str;
    lines++;
    for (let i = 0, len = text.length; i < len; i++) if (text.charCodeAt(i) == 0x0a) lines++;
    chars += text.length;
  }
  set.reserve(lines, chars);
}

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
    for (let i = pos; i < eol; i++) if (text.charCodeAt(i) == 0x23) { end = i; break; }
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
      let from = firstStart, to = firstEnd;
      if (fields > 1) {
        if (!looksLikeAddress(text, firstStart, firstEnd)) { domainListError = what + " line " + lineNo.toString() + ": expected one domain or \"address domain\""; return false; }
        from = secondStart; to = secondEnd;
      }
      if (!addDomainRange(set, text, from, to)) {
        domainListError = what + " line " + lineNo.toString() + " (\"" + text.substring(from, to) + "\"): " + domainListError;
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
