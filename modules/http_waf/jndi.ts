// Log4Shell-style lookups. Log4j resolves nested lookups before it acts, so
// "${${lower:j}${::-n}di:ldap://x}" is "${jndi:ldap://x}". This file resolves
// the lookups the same way for the forms that only rebuild text (lower:,
// upper:, defaults "${anything:-x}", date:'x') and then looks for a jndi:
// lookup in the result. Depth and size are bounded; a lookup that reaches a
// bound while it still spells jndi is reported anyway (failing safe).

import { hex4 } from "../sdk/lib";

const OUT_CAP = 4096;
const MAX_DEPTH = 16;
const out = new Uint8Array(OUT_CAP);
let o = 0;
/** The last value reached MAX_DEPTH or OUT_CAP, so its resolution may be incomplete. */
let limitHit = false;

@inline function lower(c: u8): u8 { return <u8>(c - 65) < 26 ? c | 0x20 : c; }

export function isJndi(p: usize, n: i32): bool {
  // a literal "${jndi:" anywhere, however deep it is nested
  if (literalJndi(p, n)) return true;
  limitHit = false;
  let i = 0;
  while (i + 1 < n) {
    if (load<u8>(p + <usize>i) != 0x24 || load<u8>(p + <usize>(i + 1)) != 0x7b) { i++; continue; }
    o = 0;
    // continue after the whole lookup: restarting inside it would make "${${${..." quadratic
    const next = resolve(p, n, i, 0);
    if (containsJndi()) return true;
    i = next > i ? next : i + 1;
  }
  return limitHit && spellsJndi(p, n);
}

// Resolves the lookup starting at "${" at pos into `out`; returns the position after its "}".
function resolve(p: usize, n: i32, pos: i32, depth: i32): i32 {
  const startO = o;
  put(0x24); put(0x7b);
  const innerO = o;
  let i = pos + 2;
  let closed = false;
  // Once ":-" is seen, only the default is kept: the variable's name is never
  // used (the lookup fails, or the default would not matter), and a 4 KiB name
  // must not push the default out of the buffer.
  let inDefault = false;
  let afterColon = false;
  while (i < n) {
    const c = load<u8>(p + <usize>i);
    if (c == 0x24 && i + 1 < n && load<u8>(p + <usize>(i + 1)) == 0x7b) {
      if (depth < MAX_DEPTH) {
        const from = o;
        i = resolve(p, n, i, depth + 1);
        if (!inDefault) inDefault = keepDefaultOnly(innerO, from, afterColon);
        afterColon = o > innerO && out[o - 1] == 0x3a;
        continue;
      }
      limitHit = true;
    }
    if (c == 0x7d) { i++; closed = true; break; }
    i++;
    if (!inDefault && afterColon && c == 0x2d) { inDefault = true; o = innerO; continue; }
    afterColon = c == 0x3a;
    put(c);
  }
  if (!closed) return i;
  // the lookup's text is out[innerO, o)
  const inner = out.dataStart + <usize>innerO;
  const len = o - innerO;
  if (inDefault) {
    replace(startO, innerO, o);
  } else if (startsWithNoCase(inner, len, "lower:") || startsWithNoCase(inner, len, "upper:")) {
    const lowerIt = lower(load<u8>(inner)) == 0x6c;
    replace(startO, innerO + 6, o);
    o = startO + changeCase(startO, o, lowerIt);
  } else if (startsWithNoCase(inner, len, "date:")) {
    // ${date:'j'} prints the quoted text literally
    replace(startO, innerO + 5, o);
    let w = startO;
    for (let k = startO; k < o; k++) if (out[k] != 0x27) out[w++] = out[k];
    o = w;
  } else {
    put(0x7d);
  }
  return i;
}

@inline function put(c: u8): void {
  if (o < OUT_CAP) out[o++] = c;
  else limitHit = true;
}

// A nested lookup resolved into out[from, o) may have completed the ":-" of
// this one (innerO is where its text starts); if so, only what follows stays.
function keepDefaultOnly(innerO: i32, from: i32, colonBefore: bool): bool {
  if (colonBefore && from < o && out[from] == 0x2d) { replace(innerO, from + 1, o); return true; }
  for (let k = max(innerO, from); k + 1 < o; k++) {
    if (out[k] == 0x3a && out[k + 1] == 0x2d) { replace(innerO, k + 2, o); return true; }
  }
  return false;
}

// Java's toUpperCase/toLowerCase, as ${upper:}/${lower:} apply them, for ASCII
// and the few characters whose case mapping is ASCII: "ı" (U+0131) and "ſ"
// (U+017F) upper-case to I and S, the Kelvin sign (U+212A) lower-cases to k.
// They arrive as UTF-8, or as JSON "\u0131", or as "u0131" where the JSON
// reader left an escape above 0x7f undecoded. Rewrites out[from, to) in place;
// returns the new length.
function changeCase(from: i32, to: i32, toLower: bool): i32 {
  let w = from;
  let k = from;
  while (k < to) {
    const c = out[k];
    let cp = -1;
    let len = 1;
    if (c == 0xc4 && k + 1 < to && out[k + 1] == 0xb1) { cp = 0x131; len = 2; }
    else if (c == 0xc5 && k + 1 < to && out[k + 1] == 0xbf) { cp = 0x17f; len = 2; }
    else if (c == 0xe2 && k + 2 < to && out[k + 1] == 0x84 && out[k + 2] == 0xaa) { cp = 0x212a; len = 3; }
    else if (c == 0x5c && k + 5 < to && lower(out[k + 1]) == 0x75) { cp = hex4(out.dataStart + <usize>(k + 2)); len = 6; }
    else if (lower(c) == 0x75 && k + 4 < to) { cp = hex4(out.dataStart + <usize>(k + 1)); len = 5; }
    let mapped: i32 = -1;
    if (!toLower && cp == 0x131) mapped = 0x49;
    else if (!toLower && cp == 0x17f) mapped = 0x53;
    else if (toLower && cp == 0x212a) mapped = 0x6b;
    if (mapped >= 0) { out[w++] = <u8>mapped; k += len; continue; }
    out[w++] = toLower ? lower(c) : c;
    k++;
  }
  return w - from;
}

// After a bound was reached: whether the value, with the lookup syntax taken
// out ("${", "}", ":", "-", and prefixes such as "lower:" or "env:" right after
// a "${"), still spells "jndi". ${${::-${::-j}}}ndi: (nested past MAX_DEPTH) does.
function spellsJndi(p: usize, n: i32): bool {
  let matched = 0;
  let i = 0;
  while (i < n) {
    const c = load<u8>(p + <usize>i);
    i++;
    if (c == 0x24 || c == 0x7d || c == 0x3a || c == 0x2d) continue;
    if (c == 0x7b) { i = skipLookupPrefix(p, n, i); continue; }
    const want = matched == 0 ? 0x6a : matched == 1 ? 0x6e : matched == 2 ? 0x64 : 0x69;
    if (lower(c) == want) { if (++matched == 4) return true; }
    else matched = lower(c) == 0x6a ? 1 : 0;
  }
  return false;
}

// The end of "name:" at i (a lookup's prefix), or i when no such prefix is there.
function skipLookupPrefix(p: usize, n: i32, i: i32): i32 {
  let j = i;
  while (j < n && j - i < 32) {
    const c = load<u8>(p + <usize>j);
    if (c == 0x3a) return j > i ? j + 1 : i;
    if (!(<u8>((c | 0x20) - 0x61) < 26 || <u8>(c - 0x30) < 10 || c == 0x5f)) return i;
    j++;
  }
  return i;
}

// Moves out[from, to) to out[at...] and ends the output there.
function replace(at: i32, from: i32, to: i32): void {
  const n = to - from;
  if (n > 0) memory.copy(out.dataStart + <usize>at, out.dataStart + <usize>from, <usize>n);
  o = at + (n > 0 ? n : 0);
}

function startsWithNoCase(p: usize, n: i32, w: string): bool {
  if (n < w.length) return false;
  for (let i = 0; i < w.length; i++) if (lower(load<u8>(p + <usize>i)) != <u8>w.charCodeAt(i)) return false;
  return true;
}

function containsJndi(): bool {
  return literalJndi(out.dataStart, o);
}

function literalJndi(p: usize, o: i32): bool {
  for (let i = 0; i + 7 <= o; i++) {
    if (load<u8>(p + <usize>i) != 0x24 || load<u8>(p + <usize>(i + 1)) != 0x7b) continue;
    let j = i + 2;
    while (j < o && (load<u8>(p + <usize>j) == 0x20 || load<u8>(p + <usize>j) == 0x09)) j++;
    if (j + 5 <= o && lower(load<u8>(p + <usize>j)) == 0x6a && lower(load<u8>(p + <usize>(j + 1))) == 0x6e
      && lower(load<u8>(p + <usize>(j + 2))) == 0x64 && lower(load<u8>(p + <usize>(j + 3))) == 0x69 && load<u8>(p + <usize>(j + 4)) == 0x3a) return true;
  }
  return false;
}
