// An interface's RX queue count and MTU, read in this process's network
// namespace. /sys/class/net shows the namespace sysfs was mounted in, not
// ours: under `nsenter --net` (which keeps the host's /sys) it describes the
// host's interface of that name, or none. The driver (ethtool channels) and
// netlink (through `ip`) answer for our namespace; sysfs is used only when it
// shows our interface (same ifindex), so a wrong answer is never taken for a
// right one.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { ifIndex, ifRxChannels } from './native.js';

export interface LinkFacts {
  /** RX queues an AF_XDP socket can bind to; null when nothing could tell. */
  rxQueues: number | null;
  mtu: number | null;
}

const positiveInt = (v: unknown): number | null => (typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : null);

/** The MTU from netlink. Its num_rx_queues is what the device allocated (veth: one per CPU), not what runs, so it is not used. */
function netlinkMtu(iface: string): number | null {
  try {
    const out = execFileSync('ip', ['-j', 'link', 'show', 'dev', iface], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] });
    const links = JSON.parse(out) as Array<{ ifname?: unknown; mtu?: unknown }>;
    return positiveInt(links.find((l) => l.ifname === iface)?.mtu);
  } catch {
    return null;
  }
}

function driverRxQueues(iface: string): number | null {
  try {
    return ifRxChannels(iface);
  } catch {
    return null;
  }
}

/** sysfs, when it shows this namespace's interface of that name. */
function sysfs(iface: string): LinkFacts | null {
  const base = `/sys/class/net/${iface}`;
  try {
    if (Number(readFileSync(`${base}/ifindex`, 'utf8').trim()) !== ifIndex(iface)) return null;
    const rx = readdirSync(`${base}/queues`).filter((q) => q.startsWith('rx-')).length;
    return { rxQueues: rx > 0 ? rx : null, mtu: positiveInt(Number(readFileSync(`${base}/mtu`, 'utf8').trim())) };
  } catch {
    return null;
  }
}

/** The interface's RX queues and MTU in this network namespace; nulls where it cannot be told. */
export function linkFacts(iface: string): LinkFacts {
  const rx = driverRxQueues(iface);
  const mtu = netlinkMtu(iface);
  if (rx !== null && mtu !== null) return { rxQueues: rx, mtu };
  const fs = sysfs(iface);
  return { rxQueues: rx ?? fs?.rxQueues ?? null, mtu: mtu ?? fs?.mtu ?? null };
}
