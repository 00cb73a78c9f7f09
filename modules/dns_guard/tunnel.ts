// Tunnelling tells in a query name. Tunnels (iodine, dnscat2, DNSExfiltrator)
// pack encoded data into the labels left of a domain they control, which
// makes those labels long and their characters close to uniformly random.

const counts = new StaticArray<u16>(256);

/**
 * Length of the part of a lower-case name left of its last two labels (the
 * part a tunnel controls under its registered domain), excluding the dot
 * before them; 0 when the name has two labels or fewer.
 */
export function subdomainLength(ptr: usize, len: i32): i32 {
  let dots = 0;
  for (let i = len - 1; i >= 0; i--) {
    if (load<u8>(ptr + <usize>i) == 0x2e && ++dots == 2) return i;
  }
  return 0;
}

/** Shannon entropy in bits per character of the bytes at ptr, dots left out. */
export function labelEntropy(ptr: usize, len: i32): f64 {
  let n = 0;
  for (let i = 0; i < len; i++) {
    const c = load<u8>(ptr + <usize>i);
    if (c == 0x2e) continue;
    unchecked(counts[c] = unchecked(counts[c]) + 1);
    n++;
  }
  if (n == 0) return 0;
  let h: f64 = 0;
  const inv = 1.0 / <f64>n;
  // Walk the name again so only touched counters are read and reset.
  for (let i = 0; i < len; i++) {
    const c = load<u8>(ptr + <usize>i);
    const k = unchecked(counts[c]);
    if (k == 0) continue;
    const p = <f64>k * inv;
    h -= p * Math.log2(p);
    unchecked(counts[c] = 0);
  }
  return h;
}
