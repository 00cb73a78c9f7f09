// AF_XDP intake: one socket per RX queue, each with its own UMEM and its
// fill, completion, RX and TX rings (created through libxdp in
// host/native/sf_xsk.c). The XDP program redirects `inspect` packets into the
// pinned XSKMAP `sf_xsks` at the packet's RX queue; openXsk puts the socket
// into that slot and close() takes it out again, so the kernel's punt
// fallback (fail-open/closed) applies whenever no socket is bound.
//
// The data path is batch-oriented and copy-once:
//   receive(into, descs, max)  one native call takes up to `max` frames off
//                              the RX ring, copies each straight into `into`
//                              (a view of a WASM memory or a shared buffer),
//                              writes [offset, length] pairs into `descs`,
//                              gives the frames back to the fill ring and
//                              wakes the kernel only when need_wakeup asks.
//   transmit(from, descs, n)   the reverse, for inline mode: n frames described
//                              by [offset, length] pairs in `from` are copied
//                              into free TX frames and sent in one kick.
// Nothing on these paths allocates per packet in JavaScript.
//
// Waiting is event-driven: the addon watches the socket's fd with a uv_poll
// on the calling thread's own libuv loop (so it works in a worker_thread),
// and an idle socket costs no CPU.
import { existsSync } from 'node:fs';
import { SecuxflowError } from '../errors.js';
import { nativeAddon } from './native.js';

export type XskBindMode = 'copy' | 'zerocopy' | 'auto';
export type XskBoundMode = 'copy' | 'zerocopy';

export interface XskOptions {
  /** Interface the XDP program is attached to (its RX queue `queue` is bound). */
  ifname: string;
  /** RX queue index; also the slot in `sf_xsks` (0..SF_MAX_QUEUES-1). */
  queue: number;
  /**
   * `copy` works on every driver; `zerocopy` needs driver support (veth has
   * none: E_XSK); `auto` tries zero-copy and falls back to copy, reporting it
   * in `fallbackReason`. Default `auto`.
   */
  bindMode?: XskBindMode;
  /** Bytes per UMEM frame: 2048 or 4096 (page-aligned chunks). Default 2048. */
  frameSize?: number;
  /**
   * Frames in the UMEM, a power of two; half feed RX, half are for TX.
   * Default 8192 (16 MiB with 2048-byte frames).
   */
  frameCount?: number;
  /**
   * Descriptors per ring (fill, completion, RX, TX), a power of two <=
   * frameCount/2. Default 4096: 20 ms of buffering at 200 kpps, enough to
   * ride out a receiver that is briefly off the CPU on a busy machine.
   */
  ringSize?: number;
  /** Path of the pinned XSKMAP (`<pinDir>/sf_xsks`); the socket goes into slot `queue`. */
  xsksMapPin: string;
  /**
   * Preferred busy polling (SO_PREFER_BUSY_POLL, SO_BUSY_POLL 20 µs, budget
   * 64, as Suricata defaults). Off by default: it trades CPU for latency and
   * needs napi_defer_hard_irqs to pay off. Refused quietly by kernels
   * without it (reported in `busyPoll`).
   */
  busyPoll?: boolean;
  /**
   * Network namespace to create the socket in (a path like /run/netns/NAME).
   * The addon enters it for the calls that create and bind the socket and
   * returns to the caller's namespace; the socket stays in the namespace it
   * was created in. Default: the caller's namespace.
   */
  netns?: string;
}

/** Counters of one socket: ours (rx/tx) plus the kernel's XDP_STATISTICS. */
export interface XskStats {
  /** Frames handed to receive()'s caller. */
  rxPackets: number;
  rxBytes: number;
  /** Frames put on the TX ring by transmit(). */
  txPackets: number;
  /** TX frames the kernel reported sent (completion ring). */
  txCompleted: number;
  /** Frames receive() could not copy because `into` was full (they stay on the RX ring for the next call). */
  rxDeferred: number;
  /** Kernel: frames dropped for reasons other than a full ring or empty fill ring. */
  rxDropped: number;
  /** Kernel: frames dropped because the RX ring was full (the receiver is too slow). */
  rxRingFull: number;
  /** Kernel: times the fill ring was empty when a frame arrived. */
  fillRingEmpty: number;
  rxInvalidDescs: number;
  txInvalidDescs: number;
  txRingEmpty: number;
  /** sendto/recvfrom kicks issued because need_wakeup was set. */
  wakeups: number;
}

export interface XskSocket {
  /** The AF_XDP socket's fd (for status; the addon already watches it). */
  readonly fd: number;
  readonly ifname: string;
  readonly queue: number;
  /** Mode the kernel bound the socket in. */
  readonly bindMode: XskBoundMode;
  /** Why zero-copy was not used when `auto` fell back to copy; null otherwise. */
  readonly fallbackReason: string | null;
  /** True when preferred busy polling was switched on. */
  readonly busyPoll: boolean;
  readonly frameSize: number;
  readonly ringSize: number;

  /**
   * Takes up to `max` frames off the RX ring in ONE native call. Frame i is
   * copied to into[descs[2i] .. descs[2i]+descs[2i+1]); offsets start at 0 and
   * each is 8-aligned. Stops early (frames stay queued) when the next frame
   * would not fit in `into` or `descs` is full. Returns the number of frames.
   */
  receive(into: Uint8Array, descs: Uint32Array, max: number): number;
  /**
   * Sends `count` frames: frame i is from[descs[2i] .. +descs[2i+1]). Frames
   * longer than frameSize are refused (E_USAGE, nothing sent). Returns how
   * many were queued; fewer than `count` when the TX ring or the free TX
   * frames ran out (the caller may retry the rest after completions).
   */
  transmit(from: Uint8Array, descs: Uint32Array, count: number): number;
  /**
   * Calls `cb` on this thread's event loop whenever the RX ring has frames.
   * The callback should drain with receive() until it returns 0. One watcher
   * per socket: a second call replaces the callback.
   */
  onReadable(cb: () => void): void;
  /** Stops the watcher started by onReadable (the loop may then exit). */
  offReadable(): void;
  /**
   * Resolves true when frames are waiting, false after timeoutMs without any.
   * Built on the same watcher, so do not mix it with onReadable.
   */
  wait(timeoutMs: number): Promise<boolean>;
  stats(): XskStats;
  /** Clears the XSKMAP slot first (the punt fallback applies again), then frees the socket and UMEM. Idempotent. */
  close(): void;
}

/** The addon surface for AF_XDP and delivery (host/native/sf_xsk.c, sf_tap.c). */
export interface RawXskAddon {
  xskOpen(opts: {
    ifname: string;
    queue: number;
    bindMode: XskBindMode;
    frameSize: number;
    frameCount: number;
    ringSize: number;
    xsksMapPin: string;
    busyPoll: boolean;
    netns: string | null;
  }): { handle: object; fd: number; bindMode: XskBoundMode; fallbackReason: string | null; busyPoll: boolean };
  xskReceive(handle: object, into: Uint8Array, descs: Uint32Array, max: number): number;
  xskTransmit(handle: object, from: Uint8Array, descs: Uint32Array, count: number): number;
  xskWatch(handle: object, cb: (() => void) | null): void;
  xskStats(handle: object): XskStats;
  xskClose(handle: object): void;
  tapOpen(opts: { ifname: string; tapName: string; netns: string | null }): { handle: object; fd: number; tapName: string; ifindex: number };
  tapWrite(handle: object, from: Uint8Array, descs: Uint32Array, count: number): number;
  tapStats(handle: object): { delivered: number; failed: number; bytes: number };
  tapClose(handle: object): void;
}

const DEFAULTS = { bindMode: 'auto' as XskBindMode, frameSize: 2048, frameCount: 8192, ringSize: 4096 };
const MAX_QUEUES = 64; // SF_MAX_QUEUES in xdp/secuxflow.h

const isPow2 = (n: number): boolean => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;

function validate(opts: XskOptions): Required<Omit<XskOptions, 'netns'>> & { netns: string | null } {
  const bindMode = opts.bindMode ?? DEFAULTS.bindMode;
  const frameSize = opts.frameSize ?? DEFAULTS.frameSize;
  const frameCount = opts.frameCount ?? DEFAULTS.frameCount;
  const ringSize = opts.ringSize ?? Math.min(DEFAULTS.ringSize, frameCount / 2);
  const bad = (what: string, fix: string): never => {
    throw new SecuxflowError('E_USAGE', `AF_XDP socket on ${opts.ifname} queue ${opts.queue}: ${what}`, fix);
  };
  if (typeof opts.ifname !== 'string' || opts.ifname.length === 0 || opts.ifname.length > 15) bad(`bad interface name ${JSON.stringify(opts.ifname)}`, 'give the name `ip link` shows (at most 15 bytes)');
  if (!Number.isInteger(opts.queue) || opts.queue < 0 || opts.queue >= MAX_QUEUES) bad(`queue ${opts.queue} is outside 0..${MAX_QUEUES - 1}`, 'use an RX queue index the XSKMAP has a slot for');
  if (!['copy', 'zerocopy', 'auto'].includes(bindMode)) bad(`unknown bind mode ${JSON.stringify(bindMode)}`, 'use copy, zerocopy or auto');
  if (frameSize !== 2048 && frameSize !== 4096) bad(`frame size ${frameSize} is not 2048 or 4096`, 'use 2048 (default) or 4096');
  if (!isPow2(frameCount) || frameCount < 64 || frameCount > 1 << 20) bad(`frame count ${frameCount} is not a power of two in 64..1048576`, 'use e.g. 4096');
  if (!isPow2(ringSize) || ringSize > frameCount / 2) bad(`ring size ${ringSize} is not a power of two <= frameCount/2 (${frameCount / 2})`, 'use e.g. 2048 with 4096 frames');
  if (typeof opts.xsksMapPin !== 'string' || !existsSync(opts.xsksMapPin)) {
    throw new SecuxflowError('E_NOT_ATTACHED', `the XSKMAP pin ${String(opts.xsksMapPin)} does not exist`, `attach secuxflow first: secuxflow attach --iface ${opts.ifname}`);
  }
  return { ifname: opts.ifname, queue: opts.queue, bindMode, frameSize, frameCount, ringSize, xsksMapPin: opts.xsksMapPin, busyPoll: opts.busyPoll === true, netns: opts.netns ?? null };
}

function addon(): RawXskAddon {
  const a = nativeAddon() as unknown as Partial<RawXskAddon>;
  if (typeof a.xskOpen !== 'function') {
    throw new SecuxflowError('E_NATIVE_MISSING', 'the native addon was built without AF_XDP support', 'rebuild it: npm run build:native');
  }
  return a as RawXskAddon;
}

/** Addon errors carry .code; anything unknown becomes E_KERNEL (see native.ts). */
function convert(e: unknown): SecuxflowError {
  if (e instanceof SecuxflowError) return e;
  const err = e as Error & { code?: string; hint?: string };
  const known = ['E_NO_ROOT', 'E_NO_IFACE', 'E_KERNEL', 'E_XSK', 'E_USAGE', 'E_NOT_ATTACHED'];
  const code = typeof err.code === 'string' && known.includes(err.code) ? err.code : 'E_KERNEL';
  return new SecuxflowError(code as SecuxflowError['code'], err.message ?? String(e), err.hint);
}

/** Creates the socket, binds it and fills its XSKMAP slot. */
export function openXsk(opts: XskOptions): XskSocket {
  const o = validate(opts);
  const a = addon();
  let r: ReturnType<RawXskAddon['xskOpen']>;
  try {
    r = a.xskOpen(o);
  } catch (e) {
    throw convert(e);
  }
  const handle = r.handle;
  let closed = false;
  let waiter: { resolve: (v: boolean) => void; timer: NodeJS.Timeout } | null = null;
  const guard = (): void => {
    if (closed) throw new SecuxflowError('E_USAGE', `the AF_XDP socket on ${o.ifname} queue ${o.queue} is closed`, 'open a new one with openXsk');
  };
  const sock: XskSocket = {
    fd: r.fd,
    ifname: o.ifname,
    queue: o.queue,
    bindMode: r.bindMode,
    fallbackReason: r.fallbackReason,
    busyPoll: r.busyPoll,
    frameSize: o.frameSize,
    ringSize: o.ringSize,
    receive(into, descs, max) {
      guard();
      try {
        return a.xskReceive(handle, into, descs, max);
      } catch (e) {
        throw convert(e);
      }
    },
    transmit(from, descs, count) {
      guard();
      try {
        return a.xskTransmit(handle, from, descs, count);
      } catch (e) {
        throw convert(e);
      }
    },
    onReadable(cb) {
      guard();
      try {
        a.xskWatch(handle, cb);
      } catch (e) {
        throw convert(e);
      }
    },
    offReadable() {
      if (!closed) a.xskWatch(handle, null);
    },
    wait(timeoutMs) {
      guard();
      if (waiter) throw new SecuxflowError('E_USAGE', 'wait() is already pending on this socket', 'await the previous wait() first');
      return new Promise<boolean>((resolve) => {
        const finish = (v: boolean): void => {
          if (!waiter) return;
          clearTimeout(waiter.timer);
          waiter = null;
          if (!closed) a.xskWatch(handle, null);
          resolve(v);
        };
        waiter = { resolve: finish, timer: setTimeout(() => finish(false), Math.max(0, timeoutMs)) };
        a.xskWatch(handle, () => finish(true));
      });
    },
    stats() {
      guard();
      return a.xskStats(handle);
    },
    close() {
      if (closed) return;
      const pending = waiter;
      closed = true;
      try {
        a.xskClose(handle);
      } finally {
        if (pending) {
          clearTimeout(pending.timer);
          waiter = null;
          pending.resolve(false);
        }
      }
    },
  };
  return sock;
}
