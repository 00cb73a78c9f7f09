// Path traversal and local file inclusion, judged on values that were already
// percent-decoded (repeatedly, with %u and overlong UTF-8 folded), so
// %2e%2e%2f, ..%c0%af and %252e%252e%252f all arrive here as "../".
// Backslashes count as slashes (IIS, Windows back ends) and "..;" counts as
// ".." (Tomcat path parameters).
import { VALUE_CAP } from "./normalize";

@inline function isSep(c: u8): bool { return c == 0x2f || c == 0x5c; }

/** Number of ".." path segments (a ".." that is a whole segment) in the value. */
export function dotDotSegments(p: usize, n: i32): i32 {
  let count = 0;
  for (let i = 0; i + 1 < n; i++) {
    if (load<u8>(p + <usize>i) != 0x2e || load<u8>(p + <usize>(i + 1)) != 0x2e) continue;
    const before = i == 0 || isSep(load<u8>(p + <usize>(i - 1))) || load<u8>(p + <usize>(i - 1)) == 0x3d;
    let j = i + 2;
    if (j < n && load<u8>(p + <usize>j) == 0x3b) { // ..;/
      while (j < n && !isSep(load<u8>(p + <usize>j))) j++;
    }
    const after = j >= n || isSep(load<u8>(p + <usize>j));
    if (before && after) count++;
    i = j - 1;
  }
  return count;
}

// Written as they read after normalisePath: lower case, "/" for "\\", runs of "/"
// collapsed, so "file://" is "file:/" and also covers Java's "file:/etc/passwd".
const TARGETS: string[] = [
  "etc/passwd", "etc/shadow", "etc/hosts", "etc/group", "etc/issue", "proc/self/", "proc/version", "win.ini", "boot.ini",
  "system32", "windows/system.ini", ".ssh/", "id_rsa", ".htpasswd", ".htaccess", "web.config", "wp-config.php", ".env",
  ".git/config", "var/log/", "/bin/sh", "file:/", "php:/filter", "php:/input", "php:/fd", "expect:/", "zip:/", "phar:/",
  "data:/text/plain", "compress.zlib:/", "compress.bzip2:/", "glob:/", "/dev/tcp/", "web-inf/web.xml",
];

// The value as the file system will read it, in `norm`: "/etc/./passwd" and
// "/etc//passwd" open /etc/passwd, so target names must be matched after the
// same folding. ".." segments are kept: they are judged on the raw value.
const norm = new Uint8Array(VALUE_CAP);
let normLen: i32 = 0;

function normalisePath(p: usize, n: i32): void {
  let o = 0;
  for (let i = 0; i < n && o < VALUE_CAP; i++) {
    let c = load<u8>(p + <usize>i);
    if (<u8>(c - 65) < 26) c |= 0x20;
    if (c == 0x5c) c = 0x2f;
    if (c == 0x2f && o > 0 && norm[o - 1] == 0x2f) continue; // "//" is "/"
    // "/./" is "/": drop the "." when a separator (or the end) follows it
    if (c == 0x2e && o > 0 && norm[o - 1] == 0x2f && (i + 1 >= n || isSep(load<u8>(p + <usize>(i + 1))))) { i++; continue; }
    norm[o++] = c;
  }
  normLen = o;
}

/** A sensitive file or stream wrapper is named (the "what" of an LFI), in the normalised value. */
function namesSensitiveTarget(): bool {
  const p = norm.dataStart;
  const n = normLen;
  for (let t = 0; t < TARGETS.length; t++) {
    const w = TARGETS[t];
    const wl = w.length;
    for (let i = 0; i + wl <= n; i++) {
      let k = 0;
      while (k < wl && load<u8>(p + <usize>(i + k)) == <u8>w.charCodeAt(k)) k++;
      if (k == wl) return true;
    }
  }
  return false;
}

/**
 * In the request path, any ".." segment is an attack: clients normalise
 * paths before sending. In a parameter value, "../" is also how people write
 * relative paths, so it takes two segments in a row, a leading one, or one
 * that leads to a sensitive file.
 */
export function isTraversal(p: usize, n: i32, inPath: bool): bool {
  const dots = dotDotSegments(p, n);
  if (inPath) return dots > 0;
  if (dots >= 2) return true;
  if (dots == 1 && startsWithDotDot(p, n)) return true;
  const dotDot = containsDotDot(p, n);
  const absolute = n > 0 && (isSep(load<u8>(p)) || hasScheme(p, n));
  if (!dotDot && !absolute) return false;
  normalisePath(p, n);
  // a ".." with a sensitive target; "....//" and "..././" survive filters that strip "../" once, and still name the file.
  // Or an absolute path or wrapper straight to one (?file=/etc/passwd, php://filter/..., compress.zlib:///etc/passwd).
  return namesSensitiveTarget();
}

function containsDotDot(p: usize, n: i32): bool {
  for (let i = 0; i + 1 < n; i++) if (load<u8>(p + <usize>i) == 0x2e && load<u8>(p + <usize>(i + 1)) == 0x2e) return true;
  return false;
}

function startsWithDotDot(p: usize, n: i32): bool {
  let i = 0;
  while (i < n && isSep(load<u8>(p + <usize>i))) i++;
  return i + 2 <= n && load<u8>(p + <usize>i) == 0x2e && load<u8>(p + <usize>(i + 1)) == 0x2e;
}

// "scheme:/" with one slash or more: Java's URL opens "file:/etc/passwd", and PHP
// wrapper names have dots ("compress.zlib://").
function hasScheme(p: usize, n: i32): bool {
  for (let i = 0; i < n && i < 16; i++) {
    const c = load<u8>(p + <usize>i);
    if (c == 0x3a) return i > 1 && i + 1 < n && isSep(load<u8>(p + <usize>(i + 1)));
    if (!(<u8>((c | 0x20) - 0x61) < 26) && !(i > 0 && (c == 0x2e || <u8>(c - 0x30) < 10))) return false;
  }
  return false;
}
