// Hashes and open-addressing maps of modules/sdk/lib, run compiled, against
// plain TypeScript references on random keys.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadLibHarness, rng } from './harness.js';

let h: Awaited<ReturnType<typeof loadLibHarness>>;
beforeAll(async () => { h = await loadLibHarness(); }, 60_000);

const enc = new TextEncoder();

function fnv32(b: Uint8Array): number {
  let x = 0x811c9dc5;
  for (const c of b) x = Math.imul(x ^ c, 0x01000193) >>> 0;
  return x >>> 0;
}
function fnv64(b: Uint8Array): bigint {
  let x = 0xcbf29ce484222325n;
  for (const c of b) x = BigInt.asUintN(64, (x ^ BigInt(c)) * 0x100000001b3n);
  return x;
}

function randomBytes(r: () => number, max: number): Uint8Array {
  const n = Math.floor(r() * max);
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
}

describe('fnv1a', () => {
  it('matches the published test vectors and a TS reference on random inputs', () => {
    // Vectors from the FNV reference: "" and "a" and "foobar".
    const at = (s: string) => h.put(enc.encode(s));
    const fnv = (p: number, n: number) => h.h_fnv32(p, n) >>> 0;
    expect(fnv(at(''), 0)).toBe(0x811c9dc5);
    expect(fnv(at('a'), 1)).toBe(0xe40c292c);
    expect(fnv(at('foobar'), 6)).toBe(0xbf9cf968);
    expect(BigInt.asUintN(64, h.h_fnv64(at('a'), 1))).toBe(0xaf63dc4c8601ec8cn);
    expect(BigInt.asUintN(64, h.h_fnv64(at('foobar'), 6))).toBe(0x85944171f73967e8n);
    const r = rng(1);
    for (let i = 0; i < 2000; i++) {
      const b = randomBytes(r, 80);
      const p = h.put(b);
      expect(fnv(p, b.length)).toBe(fnv32(b));
      expect(BigInt.asUintN(64, h.h_fnv64(p, b.length))).toBe(fnv64(b));
      h.free(p);
    }
  });

  it('no-case hash equals the hash of the lower-cased bytes', () => {
    const up = enc.encode('WWW.Example.COM');
    const lo = enc.encode('www.example.com');
    expect(h.h_fnv64nc(h.put(up), up.length)).toBe(h.h_fnv64(h.put(lo), lo.length));
  });

  it('mix64 is a bijection on a sample (no collisions among 50k sequential keys)', () => {
    const seen = new Set<bigint>();
    for (let i = 0n; i < 50_000n; i++) seen.add(h.h_mix64(i));
    expect(seen.size).toBe(50_000);
  });
});

describe('U64Map', () => {
  it('behaves as a Map under random inserts, updates and deletes (grows past its start size)', () => {
    const r = rng(7);
    const m = h.um_new(4);
    const ref = new Map<bigint, number>();
    for (let i = 0; i < 60_000; i++) {
      // Few distinct keys, so deletes open holes inside probe runs that later lookups and inserts cross.
      const k = BigInt(Math.floor(r() * 5000)) * 0x1_0000_0001n;
      const op = r();
      if (op < 0.5) { const v = Math.floor(r() * 1e6); h.um_set(m, k, v); ref.set(k, v); }
      else if (op < 0.8) { expect(h.um_del(m, k)).toBe(ref.delete(k) ? 1 : 0); }
      else expect(h.um_get(m, k)).toBe(ref.get(k) ?? -1);
    }
    expect(h.um_size(m)).toBe(ref.size);
    for (const [k, v] of ref) expect(h.um_get(m, k)).toBe(v);
  });

  it('keeps keys that differ only in the high 32 bits apart', () => {
    const m = h.um_new(8);
    h.um_set(m, 1n, 10);
    h.um_set(m, (1n << 32n) | 1n, 20);
    h.um_set(m, 0xffff_ffff_ffff_ffffn, 30);
    expect(h.um_get(m, 1n)).toBe(10);
    expect(h.um_get(m, (1n << 32n) | 1n)).toBe(20);
    expect(h.um_get(m, -1n)).toBe(30);
    expect(h.um_get(m, 2n)).toBe(-1);
  });
});

describe('FlowMap', () => {
  it('behaves as a Map under flow churn: inserts, updates, deletes and ends, through growth and garbage collections', () => {
    const r = rng(13);
    const m = h.fm_new(4);
    const ref = new Map<bigint, number>();
    for (let i = 0; i < 60_000; i++) {
      // Few distinct ids, so inserts land on deleted slots and probe runs cross them;
      // 0, the table's empty marker, and all ones are among the ids.
      const pick = Math.floor(r() * 3002);
      const k = pick === 3000 ? 0n : pick === 3001 ? 0xffff_ffff_ffff_ffffn : BigInt(pick + 1) * 0x1_0000_0001n;
      const op = r();
      if (op < 0.45) { const v = Math.floor(r() * 1e6); h.fm_set(m, k, v); ref.set(k, v); }
      else if (op < 0.6) { h.fm_del(m, k); ref.delete(k); }
      else if (op < 0.7) { h.fm_forget(k); ref.delete(k); }
      else if (op < 0.9) expect(h.fm_get(m, k)).toBe(ref.get(k) ?? -1);
      else expect(h.fm_has(m, k)).toBe(ref.has(k) ? 1 : 0);
      if (i % 10_000 === 0) h.collect();
    }
    h.collect();
    expect(h.fm_size(m)).toBe(ref.size);
    for (const [k, v] of ref) expect(h.fm_get(m, k)).toBe(v);
  });

  it('finds every one of 100,000 sequential flow ids after growing from its start size', () => {
    const m = h.fm_new(1);
    for (let i = 1; i <= 100_000; i++) h.fm_set(m, BigInt(i), i);
    h.collect();
    expect(h.fm_size(m)).toBe(100_000);
    for (let i = 1; i <= 100_000; i += 7) expect(h.fm_get(m, BigInt(i))).toBe(i);
    expect(h.fm_get(m, 100_001n)).toBe(-1);
  });
});

describe('BytesMap', () => {
  it('behaves as a Map of byte strings under random operations', () => {
    const r = rng(11);
    const m = h.bm_new(2, 0);
    const ref = new Map<string, number>();
    const pool: Uint8Array[] = [];
    for (let i = 0; i < 800; i++) pool.push(randomBytes(r, 24));
    pool.push(new Uint8Array(0));
    for (let i = 0; i < 20_000; i++) {
      const key = pool[Math.floor(r() * pool.length)]!;
      const id = Buffer.from(key).toString('hex');
      const p = h.put(key);
      const op = r();
      if (op < 0.5) { const v = Math.floor(r() * 1e6); h.bm_set(m, p, key.length, v); ref.set(id, v); }
      else if (op < 0.7) expect(h.bm_del(m, p, key.length)).toBe(ref.delete(id) ? 1 : 0);
      else expect(h.bm_get(m, p, key.length)).toBe(ref.get(id) ?? -1);
      h.free(p);
    }
    expect(h.bm_size(m)).toBe(ref.size);
  });

  it('noCase maps keys that differ only in ASCII case to one entry, and leaves non-letters alone', () => {
    const m = h.bm_new(4, 1);
    const put = (s: string) => { const b = enc.encode(s); return [h.put(b), b.length] as const; };
    h.bm_set(m, ...put('Example.COM'), 1);
    expect(h.bm_get(m, ...put('example.com'))).toBe(1);
    expect(h.bm_get(m, ...put('EXAMPLE.COM'))).toBe(1);
    expect(h.bm_get(m, ...put('example.co'))).toBe(-1);
    // '@' (0x40) and '`' (0x60) differ by the case bit but are not letters
    h.bm_set(m, ...put('@'), 2);
    expect(h.bm_get(m, ...put('`'))).toBe(-1);
    expect(h.bm_size(m)).toBe(2);
  });
});
