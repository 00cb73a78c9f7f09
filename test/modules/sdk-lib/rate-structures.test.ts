// Bloom filter, sliding-window counter and token bucket of modules/sdk/lib,
// against reference models.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadLibHarness, rng } from './harness.js';

let h: Awaited<ReturnType<typeof loadLibHarness>>;
beforeAll(async () => { h = await loadLibHarness(); }, 60_000);

const enc = new TextEncoder();

describe('BloomFilter', () => {
  it('never forgets an added key, and its false-positive rate stays near the target', () => {
    const f = h.bf_new(20_000, 0.01);
    expect(h.bf_hashes(f)).toBeGreaterThanOrEqual(6);
    for (let i = 0; i < 20_000; i++) {
      const b = enc.encode(`host-${i}.example.org`);
      const p = h.put(b);
      h.bf_add(f, p, b.length);
      h.free(p);
    }
    for (let i = 0; i < 20_000; i++) {
      const b = enc.encode(`host-${i}.example.org`);
      const p = h.put(b);
      expect(h.bf_has(f, p, b.length)).toBe(1);
      h.free(p);
    }
    let fp = 0;
    const trials = 50_000;
    for (let i = 0; i < trials; i++) {
      const b = enc.encode(`other-${i}.example.net`);
      const p = h.put(b);
      fp += h.bf_has(f, p, b.length);
      h.free(p);
    }
    const rate = fp / trials;
    expect(rate).toBeLessThan(0.02);
  });

  it('works on u64 keys', () => {
    const f = h.bf_new(1000, 0.001);
    for (let i = 0n; i < 1000n; i++) h.bf_add64(f, i * 7919n);
    for (let i = 0n; i < 1000n; i++) expect(h.bf_has64(f, i * 7919n)).toBe(1);
    let fp = 0;
    for (let i = 0n; i < 10_000n; i++) fp += h.bf_has64(f, 1_000_000_007n + i);
    expect(fp).toBeLessThan(50);
  });
});

describe('SlidingWindowCounter', () => {
  it('counts what a bucketed reference model counts on random event streams', () => {
    const r = rng(21);
    const bucketNs = 100_000_000n; // 10 buckets of 100 ms = a 1 s window
    const w = h.sw_new(1_000_000_000n, 10, 64);
    const ref = new Map<bigint, Map<bigint, bigint>>(); // key -> bucket epoch -> count
    let now = 1_700_000_000_000_000_000n;
    for (let i = 0; i < 20_000; i++) {
      now += BigInt(Math.floor(r() * 30_000_000)); // 0..30 ms steps, monotonic
      const key = BigInt(Math.floor(r() * 20));
      const n = BigInt(1 + Math.floor(r() * 3));
      const epoch = now / bucketNs;
      const m = ref.get(key) ?? new Map<bigint, bigint>();
      ref.set(key, m);
      m.set(epoch, (m.get(epoch) ?? 0n) + n);
      let want = 0n;
      for (const [e, c] of m) if (e > epoch - 10n) want += c; else m.delete(e);
      expect(h.sw_add(w, key, now, n)).toBe(want);
    }
  });

  it('forgets a key after a quiet window and bounds its keys by evicting', () => {
    const w = h.sw_new(1_000_000_000n, 4, 8);
    expect(h.sw_add(w, 1n, 0n, 5n)).toBe(5n);
    expect(h.sw_count(w, 1n, 500_000_000n)).toBe(5n);
    expect(h.sw_count(w, 1n, 2_000_000_000n)).toBe(0n);
    for (let k = 100n; k < 200n; k++) h.sw_add(w, k, 3_000_000_000n, 1n);
    expect(h.sw_keys(w)).toBe(8);
    expect(h.sw_evictions(w)).toBeGreaterThan(0n);
    // the newest key is present with its own count
    expect(h.sw_count(w, 199n, 3_000_000_000n)).toBe(1n);
  });
});

describe('KeySlots eviction (under SlidingWindowCounter)', () => {
  it('a key seen repeatedly survives churn of more one-shot keys than the table holds', () => {
    // an audit's evasion: 8,300 spoofed one-packet sources between every few
    // probes of a scanner reset its count when eviction was first-in first-out
    const cap = 8192;
    const w = h.sw_new(3_600_000_000_000n, 10, cap);
    const active = 0xabcdefn;
    let filler = 1_000_000n;
    let seen = 0n;
    for (let round = 0; round < 20; round++) {
      for (let k = 0; k < 3; k++) expect(h.sw_add(w, active, BigInt(round) * 1_000_000n, 1n)).toBe(++seen);
      for (let k = 0; k < 8300; k++) h.sw_add(w, filler++, BigInt(round) * 1_000_000n, 1n);
    }
    expect(h.sw_count(w, active, 20_000_000n)).toBe(seen);
    expect(h.sw_keys(w)).toBe(cap);
  });

  it('one-shot keys are still evicted, each table insert in bounded steps', () => {
    const w = h.sw_new(1_000_000_000n, 4, 16);
    // every slot's key seen many times, then new keys: each still finds a slot
    for (let k = 0n; k < 16n; k++) for (let i = 0; i < 10; i++) h.sw_add(w, k, 0n, 1n);
    for (let k = 100n; k < 200n; k++) expect(h.sw_add(w, k, 0n, 1n)).toBe(1n);
    expect(h.sw_keys(w)).toBe(16);
    expect(h.sw_count(w, 199n, 0n)).toBe(1n);
  });
});

describe('TokenBucketTable', () => {
  it('admits what a reference token bucket admits on random arrivals', () => {
    const r = rng(31);
    const rate = 5;
    const burst = 10;
    const t = h.tb_new(rate, burst, 16);
    const ref = new Map<bigint, { tokens: number; last: bigint }>();
    let now = 0n;
    for (let i = 0; i < 20_000; i++) {
      now += BigInt(Math.floor(r() * 200_000_000));
      const key = BigInt(Math.floor(r() * 8));
      const s = ref.get(key) ?? { tokens: burst, last: now };
      ref.set(key, s);
      s.tokens = Math.min(burst, s.tokens + Number(now - s.last) * rate / 1e9);
      s.last = now;
      const ok = s.tokens >= 1;
      if (ok) s.tokens -= 1;
      expect(h.tb_take(t, key, now, 1)).toBe(ok ? 1 : 0);
    }
  });

  it('lets a burst through, then refills at the rate', () => {
    const t = h.tb_new(2, 3, 4);
    let ok = 0;
    for (let i = 0; i < 10; i++) ok += h.tb_take(t, 42n, 1_000n, 1);
    expect(ok).toBe(3);
    expect(h.tb_take(t, 42n, 1_000n + 400_000_000n, 1)).toBe(0); // 0.8 tokens
    expect(h.tb_take(t, 42n, 1_000n + 500_000_000n, 1)).toBe(1); // 1.0 token
    expect(h.tb_avail(t, 42n, 1_000n + 10_000_000_000n)).toBe(3);
  });
});
