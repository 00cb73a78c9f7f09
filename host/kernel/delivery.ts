// Host-mode delivery: a punted packet that passes inspection must still reach
// the protected host's own stack. The packet left the normal receive path when
// XDP redirected it into AF_XDP, and sending it on the AF_XDP socket's TX ring
// would put it back on the wire (on a veth: into the peer), not into our stack.
//
// So the addon opens a TAP device (IFF_TAP | IFF_NO_PI) beside the protected
// interface and writes each passed frame into it: the kernel then receives the
// frame exactly as if it came off a wire on the TAP (netif_rx), with no XDP
// program there to punt it again. Three details make that work, all set up
// by tapOpen (host/native/sf_tap.c):
//   - the TAP takes the protected interface's MAC address, so frames addressed
//     to that MAC are PACKET_HOST on the TAP too (otherwise IP drops them as
//     "for another host");
//   - its rp_filter is set to 2 (loose): the route back to the sender goes
//     through the protected interface, which strict reverse-path filtering
//     (rp_filter=1, on conf/all or the device) would count as spoofing;
//     the kernel applies max(all, device), so loose on the device wins;
//   - Linux accepts a packet for any local address on any interface (the weak
//     host model), so the TAP needs no address; replies leave through the
//     protected interface by the normal routes, and the TAP gets no IPv6
//     link-local address (addr_gen_mode none) so it never speaks on its own.
// See docs/live.md, "Host-mode delivery", for the limits (IPv6 link-local
// destinations and neighbour discovery must not be punted).
import { SecuxflowError } from '../errors.js';
import { nativeAddon } from './native.js';
import type { RawXskAddon } from './xsk.js';

export interface DeliveryOptions {
  /** The protected interface (the one secuxflow is attached to). */
  ifname: string;
  /** Name of the TAP device; default `sfd<ifindex>` (fits IFNAMSIZ). */
  tapName?: string;
  /** Network namespace to create the TAP in (path like /run/netns/NAME); default the caller's. */
  netns?: string;
}

export interface DeliveryStats {
  /** Frames the kernel accepted from the TAP. */
  delivered: number;
  bytes: number;
  /** Frames the TAP refused (device down, frame too long). */
  failed: number;
}

export interface Delivery {
  readonly tapName: string;
  readonly fd: number;
  /**
   * Hands `count` frames to the local stack: frame i is
   * from[descs[2i] .. +descs[2i+1]), the layout XskSocket.receive writes.
   * One native call per batch; returns how many were delivered.
   */
  deliver(from: Uint8Array, descs: Uint32Array, count: number): number;
  stats(): DeliveryStats;
  /** Removes the TAP device. Idempotent. */
  close(): void;
}

export function openDelivery(opts: DeliveryOptions): Delivery {
  if (typeof opts.ifname !== 'string' || opts.ifname.length === 0 || opts.ifname.length > 15) {
    throw new SecuxflowError('E_USAGE', `bad interface name ${JSON.stringify(opts.ifname)} for host-mode delivery`, 'give the name `ip link` shows');
  }
  if (opts.tapName !== undefined && (opts.tapName.length === 0 || opts.tapName.length > 15 || !/^[A-Za-z0-9_.-]+$/.test(opts.tapName))) {
    throw new SecuxflowError('E_USAGE', `bad TAP name ${JSON.stringify(opts.tapName)}`, 'use at most 15 letters, digits, ".", "-" or "_"');
  }
  const a = nativeAddon() as unknown as Partial<RawXskAddon>;
  if (typeof a.tapOpen !== 'function') {
    throw new SecuxflowError('E_NATIVE_MISSING', 'the native addon was built without host-mode delivery', 'rebuild it: npm run build:native');
  }
  const addon = a as RawXskAddon;
  let r: ReturnType<RawXskAddon['tapOpen']>;
  try {
    r = addon.tapOpen({ ifname: opts.ifname, tapName: opts.tapName ?? '', netns: opts.netns ?? null });
  } catch (e) {
    const err = e as Error & { code?: string; hint?: string };
    const code = err.code === 'E_NO_ROOT' || err.code === 'E_NO_IFACE' || err.code === 'E_XSK' ? err.code : 'E_KERNEL';
    throw new SecuxflowError(code, err.message, err.hint);
  }
  let closed = false;
  return {
    tapName: r.tapName,
    fd: r.fd,
    deliver(from, descs, count) {
      if (closed) throw new SecuxflowError('E_USAGE', `host-mode delivery on ${opts.ifname} is closed`, 'open a new one with openDelivery');
      try {
        return addon.tapWrite(r.handle, from, descs, count);
      } catch (e) {
        const err = e as Error & { code?: string; hint?: string };
        throw new SecuxflowError(err.code === 'E_USAGE' ? 'E_USAGE' : 'E_KERNEL', err.message, err.hint);
      }
    },
    stats() {
      return addon.tapStats(r.handle);
    },
    close() {
      if (closed) return;
      closed = true;
      addon.tapClose(r.handle);
    },
  };
}
