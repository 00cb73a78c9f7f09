// Log4Shell-style lookups. Log4j resolves nested lookups before it acts, so
// "${${lower:j}${::-n}di:ldap://x}" is "${jndi:ldap://x}". This file resolves
// the lookups the same way for the forms that only rebuild text (lower:,
// upper:, defaults "${anything:-x}", date:'x') and then looks for a jndi:
// lookup in the result. Depth and size are bounded.

const OUT_CAP = 4096;
const MAX_DEPTH = 16;
const out = new Uint8Array(OUT_CAP);
let o = 0;

@inline function lower(c: u8): u8 { return <u8>(c - 65) < 26 ? c | 0x20 : c; }

export function isJndi(p: usize, n: i32): bool {
  // a literal "${jndi:" anywhere, however deep it is nested
  if (literalJndi(p, n)) return true;
  let i = 0;
  while (i + 1 < n) {
    if (load<u8>(p + <usize>i) != 0x24 || load<u8>(p + <usize>(i + 1)) != 0x7b) { i++; continue; }
    o = 0;
    // continue after the whole lookup: restarting inside it would make "${${${..." quadratic
    const next = resolve(p, n, i, 0);
    if (containsJndi()) return true;
    i = next > i ? next : i + 1;
  }
  return false;
}

// Resolves the lookup starting at "${" at pos into `out`; returns the position after its "}".
function resolve(p: usize, n: i32, pos: i32, depth: i32): i32 {
  const startO = o;
  put(0x24); put(0x7b);
  const innerO = o;
  let i = pos + 2;
  let closed = false;
  while (i < n) {
    const c = load<u8>(p + <usize>i);
    if (c == 0x24 && i + 1 < n && load<u8>(p + <usize>(i + 1)) == 0x7b && depth < MAX_DEPTH) {
      i = resolve(p, n, i, depth + 1);
      continue;
    }
    if (c == 0x7d) { i++; closed = true; break; }
    put(c);
    i++;
  }
  if (!closed) return i;
  // the lookup's text is out[innerO, o)
  const inner = out.dataStart + <usize>innerO;
  const len = o - innerO;
  const dflt = indexOfDefault(inner, len);
  if (dflt >= 0) {
    replace(startO, innerO + dflt + 2, o);
  } else if (startsWithNoCase(inner, len, "lower:") || startsWithNoCase(inner, len, "upper:")) {
    const lowerIt = lower(load<u8>(inner)) == 0x6c;
    replace(startO, innerO + 6, o);
    if (lowerIt) for (let k = startO; k < o; k++) out[k] = lower(out[k]);
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

@inline function put(c: u8): void { if (o < OUT_CAP) out[o++] = c; }

// Moves out[from, to) to out[at...] and ends the output there.
function replace(at: i32, from: i32, to: i32): void {
  const n = to - from;
  if (n > 0) memory.copy(out.dataStart + <usize>at, out.dataStart + <usize>from, <usize>n);
  o = at + (n > 0 ? n : 0);
}

function indexOfDefault(p: usize, n: i32): i32 {
  for (let i = 0; i + 1 < n; i++) if (load<u8>(p + <usize>i) == 0x3a && load<u8>(p + <usize>(i + 1)) == 0x2d) return i;
  return -1;
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
