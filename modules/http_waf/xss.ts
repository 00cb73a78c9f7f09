// Cross-site scripting by looking at what a browser would parse: HTML
// character references are decoded first (attribute payloads hide behind
// &#x6a;avascript:), then every "<name" is read as a tag with its attributes.
// A value is XSS when it opens a scripting tag, puts an event handler (on...=)
// on any tag, gives a URL attribute a script scheme, or breaks out of a JS
// string into a call such as alert(...). Plain markup (<b>, <a href=https:...>)
// and comparisons (a < b) are not.
import { BytesMap } from "../sdk/lib";

const dangerousTags = new BytesMap(64, true);
const urlAttrs = new BytesMap(32, true);
let ready = false;

const TAGS = ["script", "iframe", "frame", "frameset", "object", "embed", "applet", "base", "meta", "svg", "math",
  "isindex", "xss", "vmlframe", "import", "xml", "animate", "set", "handler", "listener", "template", "portal"];
const URL_ATTRS = ["href", "src", "action", "formaction", "data", "background", "lowsrc", "dynsrc", "poster", "srcdoc",
  "xlink:href", "code", "codebase", "to", "from", "values", "style", "content"];

function init(): void {
  ready = true;
  for (let i = 0; i < TAGS.length; i++) dangerousTags.setString(TAGS[i], 1);
  for (let i = 0; i < URL_ATTRS.length; i++) urlAttrs.setString(URL_ATTRS[i], 1);
}

/** What the last detection saw (for the alert): 1 tag, 2 event handler, 3 script URL, 4 JS break-out. */
export let xssKind: i32 = 0;

const scratch = new Uint8Array(16384);

@inline function lower(c: u8): u8 { return <u8>(c - 65) < 26 ? c | 0x20 : c; }
@inline function isAlpha(c: u8): bool { return <u8>((c | 0x20) - 0x61) < 26; }
@inline function isNameChar(c: u8): bool { return isAlpha(c) || <u8>(c - 0x30) < 10 || c == 0x2d || c == 0x5f || c == 0x3a; }
@inline function isWs(c: u8): bool { return c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0c || c == 0x0d || c == 0x2f; }

export function isXss(p: usize, n: i32): bool {
  if (!ready) init();
  if (n <= 0) return false;
  // quick reject: no '<', no ':' and no '(' or '`' means none of the shapes can occur
  let lt = false, colon = false, paren = false;
  for (let i = 0; i < n; i++) {
    const c = load<u8>(p + <usize>i);
    if (c == 0x3c) lt = true;
    else if (c == 0x3a || c == 0x26) colon = true;
    else if (c == 0x28 || c == 0x60) paren = true;
  }
  if (!lt && !colon && !paren) return false;
  const m = decodeEntities(p, n);
  const s = scratch.dataStart;
  if (lt && scanTags(s, m)) return true;
  if (colon && startsWithScriptUrl(s, 0, m)) { xssKind = 3; return true; }
  if (paren && jsBreakout(s, m)) { xssKind = 4; return true; }
  return false;
}

// &#106; &#x6A; &lt; &quot; &colon; &Tab; &NewLine; and friends, into scratch.
function decodeEntities(p: usize, n: i32): i32 {
  const cap = scratch.length;
  if (n > cap) n = cap;
  const d = scratch.dataStart;
  let o = 0;
  let i = 0;
  while (i < n) {
    const c = load<u8>(p + <usize>i);
    if (c == 0x26 && i + 2 < n) {
      let j = i + 1;
      let cp = -1;
      if (load<u8>(p + <usize>j) == 0x23) {
        j++;
        let hex = false;
        if (j < n && (load<u8>(p + <usize>j) | 0x20) == 0x78) { hex = true; j++; }
        let v = 0, digits = 0;
        while (j < n && digits < 8) {
          const b = load<u8>(p + <usize>j);
          let dv = -1;
          if (<u8>(b - 0x30) < 10) dv = b - 0x30;
          else if (hex && <u8>((b | 0x20) - 0x61) < 6) dv = (b | 0x20) - 0x57;
          if (dv < 0) break;
          v = v * (hex ? 16 : 10) + dv;
          digits++;
          j++;
        }
        // leading zeros (&#0000106) are a classic way around naive filters
        while (j < n && <u8>(load<u8>(p + <usize>j) - 0x30) < 10) j++;
        if (digits > 0) cp = v;
      } else {
        let k = j;
        while (k < n && k - j < 10 && isAlpha(load<u8>(p + <usize>k))) k++;
        cp = namedEntity(p + <usize>j, k - j);
        if (cp >= 0) j = k;
      }
      if (cp >= 0) {
        if (j < n && load<u8>(p + <usize>j) == 0x3b) j++;
        store<u8>(d + <usize>(o++), cp < 0x80 ? <u8>cp : 0x3f);
        i = j;
        continue;
      }
    }
    store<u8>(d + <usize>(o++), c);
    i++;
  }
  return o;
}

function namedEntity(p: usize, n: i32): i32 {
  if (n < 2 || n > 8) return -1;
  const a = lower(load<u8>(p)), b = lower(load<u8>(p + 1));
  if (n == 2 && a == 0x6c && b == 0x74) return 0x3c; // lt
  if (n == 2 && a == 0x67 && b == 0x74) return 0x3e; // gt
  if (n == 4 && a == 0x71 && b == 0x75) return 0x22; // quot
  if (n == 4 && a == 0x61 && b == 0x70) return 0x27; // apos
  if (n == 3 && a == 0x61 && b == 0x6d) return 0x26; // amp
  if (n == 5 && a == 0x63 && b == 0x6f) return 0x3a; // colon
  if (n == 3 && a == 0x74 && b == 0x61) return 0x09; // Tab
  if (n == 7 && a == 0x6e && b == 0x65) return 0x0a; // NewLine
  if (n == 4 && a == 0x6c && b == 0x70) return 0x28; // lpar
  if (n == 4 && a == 0x72 && b == 0x70) return 0x29; // rpar
  if (n == 6 && a == 0x6c && b == 0x70) return 0x28; // lparen? not standard; harmless
  return -1;
}

function scanTags(s: usize, n: i32): bool {
  for (let i = 0; i < n - 1; i++) {
    if (load<u8>(s + <usize>i) != 0x3c) continue;
    let j = i + 1;
    if (load<u8>(s + <usize>j) == 0x2f) j++; // closing tags can carry attributes too in broken markup
    if (j >= n || !isAlpha(load<u8>(s + <usize>j))) continue;
    const nameStart = j;
    while (j < n && isNameChar(load<u8>(s + <usize>j))) j++;
    if (dangerousTags.has(s + <usize>nameStart, j - nameStart)) { xssKind = 1; return true; }
    if (attributes(s, j, n)) return true;
  }
  return false;
}

// Reads attributes after a tag name up to '>' (or the end: a truncated tag still renders in many contexts).
function attributes(s: usize, i: i32, n: i32): bool {
  while (i < n) {
    while (i < n && (isWs(load<u8>(s + <usize>i)) || load<u8>(s + <usize>i) == 0x22 || load<u8>(s + <usize>i) == 0x27)) i++;
    if (i >= n) return false;
    const c = load<u8>(s + <usize>i);
    if (c == 0x3e || c == 0x3c) return false;
    const nameStart = i;
    while (i < n) {
      const b = load<u8>(s + <usize>i);
      if (isWs(b) || b == 0x3d || b == 0x3e || b == 0x3c) break;
      i++;
    }
    const nameLen = i - nameStart;
    if (nameLen == 0) { i++; continue; }
    let k = i;
    while (k < n && isWs(load<u8>(s + <usize>k)) && load<u8>(s + <usize>k) != 0x2f) k++;
    const hasValue = k < n && load<u8>(s + <usize>k) == 0x3d;
    if (nameLen > 2 && lower(load<u8>(s + <usize>nameStart)) == 0x6f && lower(load<u8>(s + <usize>(nameStart + 1))) == 0x6e
      && isAlpha(load<u8>(s + <usize>(nameStart + 2))) && hasValue) {
      xssKind = 2;
      return true;
    }
    if (!hasValue) continue;
    i = k + 1;
    while (i < n && isWs(load<u8>(s + <usize>i)) && load<u8>(s + <usize>i) != 0x2f) i++;
    let q: u8 = 0;
    if (i < n && (load<u8>(s + <usize>i) == 0x22 || load<u8>(s + <usize>i) == 0x27 || load<u8>(s + <usize>i) == 0x60)) q = load<u8>(s + <usize>(i++));
    const vStart = i;
    // a '<' ends the scan even inside quotes: scanTags reads that tag next, and
    // no byte is scanned twice (else "<a x='<a x='..." would be quadratic)
    while (i < n) {
      const b = load<u8>(s + <usize>i);
      if (b == 0x3c || (q != 0 ? b == q : (b == 0x20 || b == 0x3e))) break;
      i++;
    }
    if (urlAttrs.has(s + <usize>nameStart, nameLen) && (startsWithScriptUrl(s, vStart, i) || hasExpression(s, vStart, i))) {
      xssKind = 3;
      return true;
    }
    if (i < n && q != 0 && load<u8>(s + <usize>i) == q) i++;
  }
  return false;
}

// javascript: / vbscript: / livescript: / data:text/html, ignoring the
// whitespace and control bytes browsers skip inside a scheme.
function startsWithScriptUrl(s: usize, from: i32, to: i32): bool {
  let i = from;
  while (i < to && load<u8>(s + <usize>i) <= 0x20) i++;
  return schemeIs(s, i, to, "javascript:") || schemeIs(s, i, to, "vbscript:") || schemeIs(s, i, to, "livescript:")
    || schemeIs(s, i, to, "data:text/html");
}

function schemeIs(s: usize, i: i32, to: i32, scheme: string): bool {
  let k = 0;
  const n = scheme.length;
  while (i < to && k < n) {
    const c = load<u8>(s + <usize>i);
    if (c < 0x20 || (c == 0x20 && k > 0 && k < n - 1)) { i++; continue; }
    if (lower(c) != <u8>scheme.charCodeAt(k)) return false;
    i++;
    k++;
  }
  return k == n;
}

// CSS that runs script: expression(...) (old IE) and url(javascript:...).
function hasExpression(s: usize, from: i32, to: i32): bool {
  return containsWord(s, from, to, "expression(") || containsWord(s, from, to, "javascript:");
}

function containsWord(s: usize, from: i32, to: i32, w: string): bool {
  const m = w.length;
  for (let i = from; i + m <= to; i++) {
    let k = 0;
    while (k < m && lower(load<u8>(s + <usize>(i + k))) == <u8>w.charCodeAt(k)) k++;
    if (k == m) return true;
  }
  return false;
}

const SINKS: string[] = ["alert", "prompt", "confirm", "eval", "fetch", "atob", "settimeout", "setinterval", "import",
  "document.write", "string.fromcharcode", "window.open", "print"];

// '"-alert(1)-"', "';alert(document.cookie)//", "\"};confirm`1`;": a quote
// (or closing brace) then operators or ';' then a sink call. A sink alone,
// without a break-out in front, is ordinary text ("confirm (yes/no)").
function jsBreakout(s: usize, n: i32): bool {
  for (let i = 0; i < n; i++) {
    const c = load<u8>(s + <usize>i);
    if (c != 0x27 && c != 0x22 && c != 0x60 && c != 0x7d) continue;
    let j = i + 1;
    let glue = 0;
    // bounded: '}' both starts a break-out and glues one, so "}}}}..." must not rescan
    const glueEnd = min(n, i + 33);
    while (j < glueEnd) {
      const b = load<u8>(s + <usize>j);
      if (b == 0x3b || b == 0x2b || b == 0x2d || b == 0x2a || b == 0x7c || b == 0x26 || b == 0x29 || b == 0x7d || b == 0x2c || b == 0x5e) { glue++; j++; continue; }
      if (b == 0x20 || b == 0x09 || b == 0x0a || b == 0x0d) { j++; continue; }
      break;
    }
    if (glue == 0 || j >= n) continue;
    for (let k = 0; k < SINKS.length; k++) {
      const w = SINKS[k];
      const wl = w.length;
      if (j + wl >= n) continue;
      let m = 0;
      while (m < wl && lower(load<u8>(s + <usize>(j + m))) == <u8>w.charCodeAt(m)) m++;
      if (m != wl) continue;
      let e = j + wl;
      while (e < n && (load<u8>(s + <usize>e) == 0x20 || load<u8>(s + <usize>e) == 0x09)) e++;
      if (e < n && (load<u8>(s + <usize>e) == 0x28 || load<u8>(s + <usize>e) == 0x60)) return true;
    }
  }
  return false;
}
