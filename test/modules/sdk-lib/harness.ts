// Compiles a small AssemblyScript harness over modules/sdk/lib with the real
// asc and instantiates it, so the library tests exercise the same code the
// inspectors link. The harness source lives here as text because test/ is
// type-checked as TypeScript; it is written under build/ (gitignored).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../../../', import.meta.url).pathname;

const HARNESS_SOURCE = `
import {
  fnv1a32, fnv1a64, fnv1a64NoCase, mix64, U64Map, BytesMap, BloomFilter, SlidingWindowCounter,
  TokenBucketTable, percentDecode, percentDecodeRepeat, rounds, collapseOverlong, base64Decode,
  MultiSearch, MatchList, utf8Text,
} from "../../../modules/sdk/lib/index";
import { FlowMap, forgetFlow } from "../../../modules/sdk/runtime/flowmap";

export function alloc(n: i32): usize { return heap.alloc(<usize>n); }
export function free(p: usize): void { heap.free(p); }

export function h_fnv32(p: usize, l: i32): u32 { return fnv1a32(p, l); }
export function h_fnv64(p: usize, l: i32): u64 { return fnv1a64(p, l); }
export function h_fnv64nc(p: usize, l: i32): u64 { return fnv1a64NoCase(p, l); }
export function h_mix64(x: u64): u64 { return mix64(x); }

const u64maps = new Array<U64Map>();
export function um_new(cap: i32): i32 { u64maps.push(new U64Map(cap)); return u64maps.length - 1; }
export function um_set(h: i32, k: u64, v: i32): void { u64maps[h].set(k, v); }
export function um_get(h: i32, k: u64): i32 { return u64maps[h].get(k, -1); }
export function um_del(h: i32, k: u64): i32 { return u64maps[h].delete(k) ? 1 : 0; }
export function um_size(h: i32): i32 { return u64maps[h].size; }

class Box { v: i32; constructor(v: i32) { this.v = v; } }
const fmaps = new Array<FlowMap<Box>>();
export function fm_new(cap: i32): i32 { fmaps.push(new FlowMap<Box>(cap)); return fmaps.length - 1; }
export function fm_set(h: i32, k: u64, v: i32): void { fmaps[h].set(k, new Box(v)); }
export function fm_get(h: i32, k: u64): i32 { const b = fmaps[h].get(k); return b === null ? -1 : b.v; }
export function fm_has(h: i32, k: u64): i32 { return fmaps[h].has(k) ? 1 : 0; }
export function fm_del(h: i32, k: u64): void { fmaps[h].delete(k); }
export function fm_size(h: i32): i32 { return fmaps[h].size; }
export function fm_forget(k: u64): void { forgetFlow(k); }
export function collect(): void { __collect(); }

const bmaps = new Array<BytesMap>();
export function bm_new(cap: i32, noCase: i32): i32 { bmaps.push(new BytesMap(cap, noCase != 0)); return bmaps.length - 1; }
export function bm_set(h: i32, p: usize, l: i32, v: i32): void { bmaps[h].set(p, l, v); }
export function bm_get(h: i32, p: usize, l: i32): i32 { return bmaps[h].get(p, l, -1); }
export function bm_del(h: i32, p: usize, l: i32): i32 { return bmaps[h].delete(p, l) ? 1 : 0; }
export function bm_size(h: i32): i32 { return bmaps[h].size; }

const blooms = new Array<BloomFilter>();
export function bf_new(n: i32, fp: f64): i32 { blooms.push(new BloomFilter(n, fp)); return blooms.length - 1; }
export function bf_add(h: i32, p: usize, l: i32): void { blooms[h].add(p, l); }
export function bf_has(h: i32, p: usize, l: i32): i32 { return blooms[h].mayContain(p, l) ? 1 : 0; }
export function bf_add64(h: i32, k: u64): void { blooms[h].addU64(k); }
export function bf_has64(h: i32, k: u64): i32 { return blooms[h].mayContainU64(k) ? 1 : 0; }
export function bf_bits(h: i32): u32 { return blooms[h].bits; }
export function bf_hashes(h: i32): i32 { return blooms[h].hashes; }

const windows = new Array<SlidingWindowCounter>();
export function sw_new(windowNs: i64, buckets: i32, cap: i32): i32 { windows.push(new SlidingWindowCounter(windowNs, buckets, cap)); return windows.length - 1; }
export function sw_add(h: i32, k: u64, now: i64, n: i64): i64 { return windows[h].add(k, now, n); }
export function sw_count(h: i32, k: u64, now: i64): i64 { return windows[h].count(k, now); }
export function sw_evictions(h: i32): i64 { return windows[h].evictions; }
export function sw_keys(h: i32): i32 { return windows[h].keys; }

const buckets = new Array<TokenBucketTable>();
export function tb_new(rate: f64, burst: f64, cap: i32): i32 { buckets.push(new TokenBucketTable(rate, burst, cap)); return buckets.length - 1; }
export function tb_take(h: i32, k: u64, now: i64, cost: f64): i32 { return buckets[h].take(k, now, cost) ? 1 : 0; }
export function tb_avail(h: i32, k: u64, now: i64): f64 { return buckets[h].available(k, now); }
export function tb_keys(h: i32): i32 { return buckets[h].keys; }

export function pct(p: usize, l: i32, dst: usize, flags: i32): i32 { return percentDecode(p, l, dst, flags); }
export function pct_repeat(p: usize, l: i32, flags: i32, maxRounds: i32): i32 { return percentDecodeRepeat(p, l, flags, maxRounds); }
export function pct_rounds(): i32 { return rounds(); }
export function overlong(p: usize, l: i32): i32 { return collapseOverlong(p, l); }
export function b64(p: usize, l: i32, dst: usize, flags: i32): i32 { return base64Decode(p, l, dst, flags); }

const searches = new Array<MultiSearch>();
const matches = new MatchList(4096);
export function ms_new(noCase: i32): i32 { searches.push(new MultiSearch(noCase != 0)); return searches.length - 1; }
export function ms_add(h: i32, p: usize, l: i32, id: i32): void {
  const b = new Uint8Array(l);
  memory.copy(b.dataStart, p, <usize>l);
  searches[h].add(b, id);
}
export function ms_build(h: i32): void { searches[h].build(); }
export function ms_scan(h: i32, p: usize, l: i32): i32 { return searches[h].scan(p, l, matches); }
export function ms_first(h: i32, p: usize, l: i32): i32 { return searches[h].first(p, l); }
export function ms_overflow(): i32 { return matches.overflow ? 1 : 0; }
export function ms_id(i: i32): i32 { return matches.ids[i]; }
export function ms_start(i: i32): i32 { return matches.starts[i]; }
export function ms_states(h: i32): i32 { return searches[h].states; }
let firstAt = new StaticArray<i32>(0);
/** firstOfEach over ids 0..ids-1, all pending; ms_first_at(i) reads the result. */
export function ms_first_of_each(h: i32, p: usize, l: i32, minEnd: i32, ids: i32): i32 {
  firstAt = new StaticArray<i32>(ids);
  for (let i = 0; i < ids; i++) firstAt[i] = -1;
  return searches[h].firstOfEach(p, l, minEnd, firstAt, ids);
}
export function ms_first_at(i: i32): i32 { return firstAt[i]; }

let utf8Out = new ArrayBuffer(0);
export function utf8_text(p: usize, l: i32, max: i32): i32 { utf8Out = String.UTF8.encode(utf8Text(p, l, max)); return utf8Out.byteLength; }
export function utf8_out(): usize { return changetype<usize>(utf8Out); }
`;

export interface LibHarness {
  memory: WebAssembly.Memory;
  alloc(n: number): number;
  free(p: number): void;
  h_fnv32(p: number, l: number): number;
  h_fnv64(p: number, l: number): bigint;
  h_fnv64nc(p: number, l: number): bigint;
  h_mix64(x: bigint): bigint;
  um_new(cap: number): number;
  um_set(h: number, k: bigint, v: number): void;
  um_get(h: number, k: bigint): number;
  um_del(h: number, k: bigint): number;
  um_size(h: number): number;
  fm_new(cap: number): number;
  fm_set(h: number, k: bigint, v: number): void;
  fm_get(h: number, k: bigint): number;
  fm_has(h: number, k: bigint): number;
  fm_del(h: number, k: bigint): void;
  fm_size(h: number): number;
  fm_forget(k: bigint): void;
  collect(): void;
  bm_new(cap: number, noCase: number): number;
  bm_set(h: number, p: number, l: number, v: number): void;
  bm_get(h: number, p: number, l: number): number;
  bm_del(h: number, p: number, l: number): number;
  bm_size(h: number): number;
  bf_new(n: number, fp: number): number;
  bf_add(h: number, p: number, l: number): void;
  bf_has(h: number, p: number, l: number): number;
  bf_add64(h: number, k: bigint): void;
  bf_has64(h: number, k: bigint): number;
  bf_bits(h: number): number;
  bf_hashes(h: number): number;
  sw_new(windowNs: bigint, buckets: number, cap: number): number;
  sw_add(h: number, k: bigint, now: bigint, n: bigint): bigint;
  sw_count(h: number, k: bigint, now: bigint): bigint;
  sw_evictions(h: number): bigint;
  sw_keys(h: number): number;
  tb_new(rate: number, burst: number, cap: number): number;
  tb_take(h: number, k: bigint, now: bigint, cost: number): number;
  tb_avail(h: number, k: bigint, now: bigint): number;
  tb_keys(h: number): number;
  pct(p: number, l: number, dst: number, flags: number): number;
  pct_repeat(p: number, l: number, flags: number, maxRounds: number): number;
  pct_rounds(): number;
  overlong(p: number, l: number): number;
  b64(p: number, l: number, dst: number, flags: number): number;
  ms_new(noCase: number): number;
  ms_add(h: number, p: number, l: number, id: number): void;
  ms_build(h: number): void;
  ms_scan(h: number, p: number, l: number): number;
  ms_first(h: number, p: number, l: number): number;
  ms_overflow(): number;
  ms_id(i: number): number;
  ms_start(i: number): number;
  ms_states(h: number): number;
  ms_first_of_each(h: number, p: number, l: number, minEnd: number, ids: number): number;
  ms_first_at(i: number): number;
  utf8_text(p: number, l: number, max: number): number;
  utf8_out(): number;
}

/** Compiles (once per worker process) and instantiates a fresh harness. */
export async function loadLibHarness(): Promise<LibHarness & { put(bytes: Uint8Array): number; read(p: number, n: number): Uint8Array }> {
  const dir = join(root, 'build', 'test-harness', `sdk-lib-${process.pid}`);
  const src = join(dir, 'harness.ts');
  const out = join(dir, 'harness.wasm');
  mkdirSync(dir, { recursive: true });
  let wasm: Buffer;
  try {
    // Inside the repo, so the harness's relative imports of modules/sdk resolve; removed once compiled.
    writeFileSync(src, HARNESS_SOURCE);
    execFileSync(join(root, 'node_modules', '.bin', 'asc'), [
      src, '-o', out, '-O3', '--runtime', 'incremental', '--initialMemory', '4', '--maximumMemory', '512',
    ], { cwd: dir, stdio: 'pipe' });
    wasm = readFileSync(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const instance = await WebAssembly.instantiate(await WebAssembly.compile(wasm), {
    env: {
      abort: (_m: number, _f: number, line: number, col: number) => { throw new Error(`harness abort at ${line}:${col}`); },
    },
  });
  const ex = instance.exports as unknown as LibHarness;
  return Object.assign(Object.create(null) as object, ex, {
    put(bytes: Uint8Array): number {
      const p = ex.alloc(Math.max(bytes.length, 1));
      new Uint8Array(ex.memory.buffer).set(bytes, p);
      return p;
    },
    read(p: number, n: number): Uint8Array {
      return new Uint8Array(ex.memory.buffer).slice(p, p + n);
    },
  }) as LibHarness & { put(bytes: Uint8Array): number; read(p: number, n: number): Uint8Array };
}

/** The project's seeded generator, under the name these tests use. */
export { mulberry32 as rng } from '../../support/random.js';
