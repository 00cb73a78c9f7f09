// Seeded mutations of valid messages for the parser fuzz tests: bit flips,
// interesting byte values (length-ish and pointer-ish), truncation, byte
// runs copied elsewhere (repeated structures), and plain random bytes.
export class Rng {
  private s: number;
  constructor(seed: number) { this.s = seed >>> 0 || 1; }
  next(): number {
    // xorshift32: fast, seeded, reproducible
    let x = this.s;
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    this.s = x;
    return x;
  }
  below(n: number): number { return this.next() % n; }
}

const INTERESTING = [0x00, 0x01, 0x02, 0x03, 0x0f, 0x10, 0x16, 0x3f, 0x40, 0x7f, 0x80, 0xc0, 0xc1, 0xfe, 0xff];

/** Writes a mutation of src into out and returns its length (<= out.length). */
export function mutate(rng: Rng, src: Uint8Array, out: Uint8Array): number {
  const mode = rng.below(10);
  if (mode === 0) {
    const n = rng.below(out.length) + 1;
    for (let i = 0; i < n; i++) out[i] = rng.below(256);
    return n;
  }
  let len = Math.min(src.length, out.length);
  out.set(src.subarray(0, len));
  const edits = 1 + rng.below(mode < 5 ? 2 : 8);
  for (let e = 0; e < edits && len > 0; e++) {
    const at = rng.below(len);
    switch (rng.below(5)) {
      case 0: out[at] ^= 1 << rng.below(8); break;
      case 1: out[at] = INTERESTING[rng.below(INTERESTING.length)]!; break;
      case 2: out[at] = rng.below(256); break;
      case 3: len = Math.max(1, rng.below(len + 1)); break;
      case 4: {
        // copy a run inside the message (duplicates labels, records, extensions)
        const from = rng.below(len);
        const n = Math.min(1 + rng.below(32), len - from, out.length - at);
        out.copyWithin(at, from, from + n);
        len = Math.max(len, at + n);
        break;
      }
    }
  }
  return len;
}
