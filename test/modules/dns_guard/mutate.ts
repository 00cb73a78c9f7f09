// Seeded mutations of valid messages for the parser fuzz tests: bit flips,
// interesting byte values (length-ish and pointer-ish), truncation, byte
// runs copied elsewhere (repeated structures), and plain random bytes; and
// the loop that runs a million of them through a module.
import { expect } from 'vitest';
import type { InspectorInstance } from '../../../host/wasm/instance.js';
import type { InspectItem } from '../../../host/wasm/types.js';
import { output } from '../../host/wasm/helpers.js';

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

/**
 * Runs `inputs` items through inst, `batch` at a time: fill(items, b) lays
 * out batch b, and afterBatch(b) ends the flows the test wants ended, as the
 * engine would on timeouts. Then asserts what every parser fuzz run must
 * hold: no trap, no error, alerts raised (the mutations reach the checks),
 * and no memory growth past the first 100,000 inputs (tables have settled).
 */
export function fuzzBatches(inst: InspectorInstance, inputs: number, batch: number,
  fill: (items: InspectItem[], b: number) => void, afterBatch: (b: number) => void): void {
  const items: InspectItem[] = new Array(batch);
  const out = output(batch);
  let memAfterWarmup = 0;
  const t0 = Date.now();
  for (let done = 0, b = 0; done < inputs; done += batch, b++) {
    fill(items, b);
    out.alerts.length = 0;
    out.events.length = 0;
    inst.inspect(items, batch, out);
    afterBatch(b);
    if (done === 100_000 - (100_000 % batch)) memAfterWarmup = inst.memoryBytes;
    if (Date.now() - t0 > 240_000) throw new Error(`fuzz too slow: ${done} inputs in 240 s`);
  }
  const st = inst.stats;
  expect(st.traps).toBe(0);
  expect(st.batchErrors).toBe(0);
  expect(st.hostcallErrors).toBe(0);
  expect(st.packets).toBeGreaterThanOrEqual(inputs);
  expect(st.alerts).toBeGreaterThan(1000);
  expect(inst.memoryBytes - memAfterWarmup).toBeLessThanOrEqual(4 << 20);
}
