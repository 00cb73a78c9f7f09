// Path traversal and local file inclusion, judged on values that were already
// percent-decoded (repeatedly, with %u and overlong UTF-8 folded), so
// %2e%2e%2f, ..%c0%af and %252e%252e%252f all arrive here as "../".
// Backslashes count as slashes (IIS, Windows back ends) and "..;" counts as
// ".." (Tomcat path parameters).

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

const TARGETS: string[] = [
  "etc/passwd", "etc/shadow", "etc/hosts", "etc/group", "etc/issue", "proc/self/", "proc/version", "win.ini", "boot.ini",
  "system32", "windows/system.ini", ".ssh/", "id_rsa", ".htpasswd", ".htaccess", "web.config", "wp-config.php", ".env",
  ".git/config", "var/log/", "/bin/sh", "file://", "php://filter", "php://input", "expect://", "zip://", "phar://",
  "data://text/plain", "/dev/tcp/", "web-inf/web.xml", "boot.ini",
];

/** A sensitive file or stream wrapper is named (the "what" of an LFI). */
export function namesSensitiveTarget(p: usize, n: i32): bool {
  for (let t = 0; t < TARGETS.length; t++) {
    const w = TARGETS[t];
    const wl = w.length;
    for (let i = 0; i + wl <= n; i++) {
      let k = 0;
      while (k < wl) {
        let c = load<u8>(p + <usize>(i + k));
        if (<u8>(c - 65) < 26) c |= 0x20;
        if (c == 0x5c) c = 0x2f;
        if (c != <u8>w.charCodeAt(k)) break;
        k++;
      }
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
  if (dots == 1 && (startsWithDotDot(p, n) || namesSensitiveTarget(p, n))) return true;
  // "....//" and "..././" survive filters that strip "../" once, and still name the file
  if (containsDotDot(p, n) && namesSensitiveTarget(p, n)) return true;
  // an absolute path or wrapper straight to a sensitive file (?file=/etc/passwd, php://filter/...)
  return n > 0 && (load<u8>(p) == 0x2f || load<u8>(p) == 0x5c || hasScheme(p, n)) && namesSensitiveTarget(p, n);
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

function hasScheme(p: usize, n: i32): bool {
  for (let i = 0; i < n && i < 12; i++) {
    const c = load<u8>(p + <usize>i);
    if (c == 0x3a) return i > 1 && i + 2 < n && load<u8>(p + <usize>(i + 1)) == 0x2f && load<u8>(p + <usize>(i + 2)) == 0x2f;
    if (!(<u8>((c | 0x20) - 0x61) < 26)) return false;
  }
  return false;
}
