// Typed access to the Node-API addon (host/native/, built into
// build/Release/secuxflow_native.node). The addon is a thin libbpf/libxdp
// wrapper; this file finds it, turns its errors into SecuxflowErrors and keeps
// the byte-level helpers (per-CPU sizes, object paths) in one place.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SecuxflowError, type ErrorCode } from '../errors.js';

export type XdpMode = 'native' | 'skb' | 'auto';
export type AttachedMode = 'native' | 'skb' | 'hw';

export interface BpfObjectHandle {
  /** The XDP program's fd (SF_PROG_NAME). */
  readonly progFd: number;
  /** Map name (SF_MAP_*) -> fd, owned by the object: closed by close(). */
  readonly maps: Readonly<Record<string, number>>;
  /** Maps that were reused from pins in pinDir rather than created. */
  readonly reusedPins: readonly string[];
}

export interface OpenObjectOptions {
  /** Defaults to build/xdp/secuxflow.bpf.o under the package root. */
  objectPath?: string;
  /**
   * When set, every map gets pin path `${pinDir}/${name}`: existing pins are
   * reused (state survives restarts), missing ones are created and pinned at
   * load. The directory must be on bpffs (E_NO_BPFFS otherwise).
   */
  pinDir?: string;
}

export interface XdpQueryResult {
  /** 0 when nothing is attached. */
  progId: number;
  /** Name of the attached program ('' when none or unknown). */
  progName: string;
  mode: AttachedMode | null;
}

export interface MapInfo {
  id: number;
  name: string;
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
}

export interface TestRunResult {
  /** XDP action returned by the program (XDP_* numbers). */
  retval: number;
  /** Mean duration per repetition, as the kernel reports it (whole ns). */
  durationNs: number;
  /** CPU time of the calling thread over the whole call, every repetition (ns, fractional). */
  cpuNs: number;
  /** The packet after the program ran (it may rewrite it). */
  dataOut: Uint8Array;
}

export interface MapDump {
  count: number;
  /** count * keySize bytes. */
  keys: Uint8Array;
  /** count * value bytes (per-CPU maps: possibleCpus() * round8(valueSize) per entry). */
  values: Uint8Array;
  /** Read with BPF_MAP_LOOKUP_BATCH (false: key by key, for map types without it, such as LPM tries). */
  batched: boolean;
}

/** BPF_ANY / BPF_NOEXIST / BPF_EXIST. */
export const MapUpdateFlag = { ANY: 0, NOEXIST: 1, EXIST: 2 } as const;
export type MapUpdateFlag = (typeof MapUpdateFlag)[keyof typeof MapUpdateFlag];

export const XdpAction = { ABORTED: 0, DROP: 1, PASS: 2, TX: 3, REDIRECT: 4 } as const;

/** The raw addon surface (host/native/addon.c). Prefer the wrappers below. */
interface RawAddon {
  openObject(path: string, pinDir: string | null): { handle: object; progFd: number; maps: Record<string, number>; reusedPins: string[] };
  closeObject(handle: object): void;
  pinMaps(handle: object, dir: string): void;
  unpinMaps(handle: object, dir: string): void;
  objPin(fd: number, path: string): void;
  objGet(path: string, readOnly?: boolean): number;
  closeFd(fd: number): void;
  isBpffs(path: string): boolean;
  ifNameToIndex(name: string): number;
  ifRxChannels(name: string): number;
  xdpAttach(ifindex: number, progFd: number, mode: XdpMode, replace: boolean): AttachedMode;
  xdpDetach(ifindex: number, mode: AttachedMode, expectedProgId: number): void;
  xdpQuery(ifindex: number): XdpQueryResult;
  progInfo(fd: number): { id: number; name: string };
  mapInfo(fd: number): MapInfo;
  mapLookup(fd: number, key: Uint8Array, out: Uint8Array): boolean;
  mapUpdate(fd: number, key: Uint8Array, value: Uint8Array, flags: number): void;
  mapDelete(fd: number, key: Uint8Array): boolean;
  mapDeleteBatch(fd: number, keys: Uint8Array, count: number): number;
  mapNextKey(fd: number, key: Uint8Array | null, out: Uint8Array): boolean;
  mapUpdateBatch(fd: number, keys: Uint8Array, values: Uint8Array, count: number, flags: number): number;
  mapDump(fd: number, walk?: boolean): MapDump;
  possibleCpus(): number;
  progTestRun(progFd: number, data: Uint8Array, repeat: number, out: Uint8Array): { retval: number; durationNs: number; cpuNs: number; sizeOut: number };
  setThreadScheduling(realtime: boolean, value: number): number;
}

const ERROR_CODES: ReadonlySet<string> = new Set(['E_USAGE', 'E_NO_ROOT', 'E_NO_BPFFS', 'E_NO_IFACE', 'E_XDP_BUSY', 'E_MAP_FULL', 'E_KERNEL', 'E_NOT_ATTACHED']);

/** Walks up from this file to the directory holding package.json (works from sources and from dist/). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

export function addonPath(): string {
  return join(packageRoot(), 'build', 'Release', 'secuxflow_native.node');
}

export function defaultObjectPath(): string {
  return join(packageRoot(), 'build', 'xdp', 'secuxflow.bpf.o');
}

const BUILD_HINT = 'sudo bash scripts/install-system-deps.sh && npm run build:native';

let cached: RawAddon | null = null;

function raw(): RawAddon {
  if (cached) return cached;
  const path = addonPath();
  if (!existsSync(path)) {
    throw new SecuxflowError('E_NATIVE_MISSING', `the native addon is not built (${path} is missing), so kernel features are unavailable`, BUILD_HINT);
  }
  try {
    cached = createRequire(import.meta.url)(path) as RawAddon;
  } catch (e) {
    throw new SecuxflowError('E_NATIVE_MISSING', `the native addon at ${path} cannot be loaded: ${(e as Error).message}`, BUILD_HINT);
  }
  return cached;
}

/** The loaded addon object, for modules that add their own typed surface (host/kernel/xsk.ts). */
export function nativeAddon(): object {
  return raw();
}

/** True when the addon is built and loads. */
export function nativeAvailable(): boolean {
  try {
    raw();
    return true;
  } catch {
    return false;
  }
}

function convert(e: unknown): SecuxflowError {
  if (e instanceof SecuxflowError) return e;
  const err = e as Error & { code?: string; hint?: string };
  const code = typeof err.code === 'string' && ERROR_CODES.has(err.code) ? (err.code as ErrorCode) : 'E_KERNEL';
  return new SecuxflowError(code, err.message ?? String(e), err.hint);
}

function call<T>(fn: (a: RawAddon) => T): T {
  const addon = raw();
  try {
    return fn(addon);
  } catch (e) {
    throw convert(e);
  }
}

// ---- objects, pins, fds ----

export function openObject(opts: OpenObjectOptions = {}): BpfObjectHandle & { close(): void; pinMaps(dir: string): void; unpinMaps(dir: string): void } {
  const path = opts.objectPath ?? defaultObjectPath();
  if (!existsSync(path)) {
    throw new SecuxflowError('E_NATIVE_MISSING', `the XDP object ${path} is not built`, BUILD_HINT);
  }
  const r = call((a) => a.openObject(path, opts.pinDir ?? null));
  let closed = false;
  return {
    progFd: r.progFd,
    maps: r.maps,
    reusedPins: r.reusedPins,
    close(): void {
      if (closed) return;
      closed = true;
      call((a) => a.closeObject(r.handle));
    },
    pinMaps(dir: string): void {
      call((a) => a.pinMaps(r.handle, dir));
    },
    unpinMaps(dir: string): void {
      call((a) => a.unpinMaps(r.handle, dir));
    },
  };
}

/** Pins any bpf fd (program, map, link) at path on bpffs. */
export function objPin(fd: number, path: string): void {
  call((a) => a.objPin(fd, path));
}

/** Opens a pinned object; the caller closes the fd with closeFd. */
export function objGet(path: string): number {
  return call((a) => a.objGet(path));
}

/**
 * Opens a pinned object for reading only: enough for lookups and dumps, and
 * it works on a bpffs mounted read-only, where objGet fails with EROFS.
 */
export function objGetReadOnly(path: string): number {
  return call((a) => a.objGet(path, true));
}

export function closeFd(fd: number): void {
  call((a) => a.closeFd(fd));
}

/** True when path lies on a mounted bpffs. */
export function isBpffs(path: string): boolean {
  return call((a) => a.isBpffs(path));
}

// ---- XDP attachment ----

/** Throws E_NO_IFACE naming the interface when it does not exist. */
export function ifIndex(name: string): number {
  return call((a) => a.ifNameToIndex(name));
}

/** The RX queues the driver runs (what an AF_XDP bind may use), in this network namespace; null when it does not report channels. */
export function ifRxChannels(name: string): number | null {
  const n = call((a) => a.ifRxChannels(name));
  return n > 0 ? n : null;
}

/**
 * Attaches progFd to ifindex. 'auto' tries native and falls back to skb; the
 * mode actually used is returned. Without replace, an attached program
 * (ours or foreign) gives E_XDP_BUSY.
 */
export function xdpAttach(ifindex: number, progFd: number, mode: XdpMode, opts: { replace?: boolean } = {}): AttachedMode {
  return call((a) => a.xdpAttach(ifindex, progFd, mode, opts.replace === true));
}

/**
 * Detaches the program in `mode`. With expectedProgId != 0 the kernel only
 * detaches when that program is the one attached (E_XDP_BUSY otherwise).
 */
export function xdpDetach(ifindex: number, mode: AttachedMode, expectedProgId = 0): void {
  call((a) => a.xdpDetach(ifindex, mode, expectedProgId));
}

export function xdpQuery(ifindex: number): XdpQueryResult {
  return call((a) => a.xdpQuery(ifindex));
}

export function progInfo(fd: number): { id: number; name: string } {
  return call((a) => a.progInfo(fd));
}

// ---- maps ----

export function mapInfo(fd: number): MapInfo {
  return call((a) => a.mapInfo(fd));
}

/** Fills `out` (value size, or the per-CPU size) and returns true when the key exists. */
export function mapLookupInto(fd: number, key: Uint8Array, out: Uint8Array): boolean {
  return call((a) => a.mapLookup(fd, key, out));
}

export function mapLookup(fd: number, key: Uint8Array, valueBytes: number): Uint8Array | null {
  const out = new Uint8Array(valueBytes);
  return mapLookupInto(fd, key, out) ? out : null;
}

export function mapUpdate(fd: number, key: Uint8Array, value: Uint8Array, flags: MapUpdateFlag = MapUpdateFlag.ANY): void {
  call((a) => a.mapUpdate(fd, key, value, flags));
}

/** Returns false when the key was not there. */
export function mapDelete(fd: number, key: Uint8Array): boolean {
  return call((a) => a.mapDelete(fd, key));
}

/** Deletes `count` keys laid end to end in `keys`, in batches where supported; keys already gone are skipped. Returns how many were deleted. */
export function mapDeleteBatch(fd: number, keys: Uint8Array, count: number): number {
  return call((a) => a.mapDeleteBatch(fd, keys, count));
}

/** The key after `key` (or the first key for null); null at the end. */
export function mapNextKey(fd: number, key: Uint8Array | null, keySize: number): Uint8Array | null {
  const out = new Uint8Array(keySize);
  return call((a) => a.mapNextKey(fd, key, out)) ? out : null;
}

/**
 * Updates `count` entries (keys and values concatenated) in one syscall where
 * the kernel supports it, one by one otherwise. Returns how many were written.
 */
export function mapUpdateBatch(fd: number, keys: Uint8Array, values: Uint8Array, count: number, flags: MapUpdateFlag = MapUpdateFlag.ANY): number {
  return call((a) => a.mapUpdateBatch(fd, keys, values, count, flags));
}

/** Every entry of a hash/LPM/array map, read a few thousand per syscall where the map type supports batch lookup. */
export function mapDump(fd: number, opts: { keyByKey?: boolean } = {}): MapDump {
  return call((a) => a.mapDump(fd, opts.keyByKey === true));
}

/** Number of possible CPUs: the stride count of per-CPU values. */
export function possibleCpus(): number {
  return call((a) => a.possibleCpus());
}

/** Bytes of one per-CPU value as the syscalls read and write it. */
export function perCpuValueBytes(valueSize: number): number {
  return Math.ceil(valueSize / 8) * 8 * possibleCpus();
}

// ---- BPF_PROG_TEST_RUN ----

/** Runs the program on `data` `repeat` times (>= 1) without attaching it. */
export function progTestRun(progFd: number, data: Uint8Array, repeat = 1, outCapacity = data.length + 256): TestRunResult {
  const out = new Uint8Array(outCapacity);
  const r = call((a) => a.progTestRun(progFd, data, repeat, out));
  return { retval: r.retval, durationNs: r.durationNs, cpuNs: r.cpuNs, dataOut: out.subarray(0, r.sizeOut) };
}

// ---- threads ----

/**
 * Sets the calling thread's scheduling, and only that thread's: SCHED_FIFO
 * at `priority`, or the normal policy at `nice`. Returns the thread id.
 */
export function setThreadScheduling(s: { policy: 'realtime'; priority: number } | { policy: 'normal'; nice: number }): number {
  return call((a) => (s.policy === 'realtime' ? a.setThreadScheduling(true, s.priority) : a.setThreadScheduling(false, s.nice)));
}
