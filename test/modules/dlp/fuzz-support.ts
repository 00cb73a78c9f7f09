// Bounded fuzzing of a module: a fixed set of template items whose bytes and
// header fields are mutated in place between batches, so a million inputs
// cost a few seconds. Asserts that every input went through, without a trap,
// and that memory grew by at most 2 MiB past a warm-up.
import { randomFillSync } from 'node:crypto';
import { expect } from 'vitest';
import type { InspectItem } from '../../../host/wasm/types.js';
import type { InspectorInstance } from '../../../host/wasm/instance.js';
import { output } from '../../host/wasm/helpers.js';

export interface FuzzStats { inputs: number; ms: number; memoryAfterWarmup: number; memoryEnd: number; alerts: number; verdicts: number[] }

/** A cheap seeded generator (tests must be reproducible). */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s; };
}

export function fuzz(inst: InspectorInstance, templates: InspectItem[], mutate: (it: InspectItem, rnd: () => number, noise: Uint8Array) => void, total = 1_000_000, seed = 1): FuzzStats {
  const rnd = prng(seed);
  const batch = templates.length;
  const out = output(batch);
  const noise = new Uint8Array(1 << 20);
  const verdicts = new Array<number>(8).fill(0);
  let alerts = 0;
  let inputs = 0;
  let round = 0;
  let memoryAfterWarmup = 0;
  const t0 = performance.now();
  let flowBase = 1;
  while (inputs < total) {
    if ((round & 63) === 0) randomFillSync(noise);
    for (const it of templates) mutate(it, rnd, noise);
    out.alerts.length = 0;
    out.events.length = 0;
    inst.inspect(templates, batch, out);
    for (let i = 0; i < batch; i++) verdicts[out.verdicts[i]!]!++;
    alerts += out.alerts.length;
    inputs += batch;
    round++;
    // flows end as a host would end them, so per-flow state must come back
    if ((round & 15) === 0) {
      for (let f = flowBase; f < flowBase + 4096; f++) inst.flowEnded(f);
      flowBase += 4096;
      for (const it of templates) it.flowId = flowBase + (it.flowId % 4096);
    }
    // bounded tables settle (hash tables reach their final size) within the first half
    if (inputs >= total / 2 && memoryAfterWarmup === 0) memoryAfterWarmup = inst.memoryBytes;
  }
  const stats = { inputs, ms: performance.now() - t0, memoryAfterWarmup, memoryEnd: inst.memoryBytes, alerts, verdicts };
  console.log(`${inst.name} fuzz: ${inputs} inputs in ${stats.ms.toFixed(0)} ms, ${alerts} alerts, verdicts ${JSON.stringify(verdicts)}, memory ${memoryAfterWarmup} -> ${stats.memoryEnd} bytes`);
  expect(inputs).toBeGreaterThanOrEqual(total);
  expect(stats.memoryEnd).toBeLessThanOrEqual(memoryAfterWarmup + 2 * 1048576);
  expect(inst.stats.traps).toBe(0);
  return stats;
}

/** Overwrites len bytes of dst at `at` with noise. */
export function scribble(dst: Uint8Array, at: number, len: number, rnd: () => number, noise: Uint8Array): void {
  const n = Math.max(0, Math.min(len, dst.length - at));
  const from = rnd() % (noise.length - n);
  dst.set(noise.subarray(from, from + n), at);
}

/**
 * Frames a capture can hold that no module may trip on: every prefix of some
 * real frames (cut headers, cut payloads), pure garbage, and non-IP frames.
 */
export function malformedFrames(real: Uint8Array[], seed = 3): Uint8Array[] {
  const rnd = prng(seed);
  const out: Uint8Array[] = [];
  for (const f of real) for (let n = 1; n < f.length; n += 1 + (n >> 3)) out.push(f.slice(0, n));
  for (let i = 0; i < 200; i++) {
    const g = new Uint8Array(1 + (rnd() % 1500));
    for (let k = 0; k < g.length; k++) g[k] = rnd() & 0xff;
    // half of them claim to be IPv4 or IPv6 so the decoder goes deeper
    if (i % 2 === 0 && g.length > 14) { g[12] = 0x08; g[13] = i % 4 === 0 ? 0x00 : 0xdd; if (i % 4 === 2) g[12] = 0x86; g[14] = i % 4 === 0 ? 0x45 : 0x60; }
    out.push(g);
  }
  return out;
}
