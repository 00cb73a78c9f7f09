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

/** sysfs's answer for this namespace's interface of that name; null when sysfs shows another one (or none). */
function fromSysfs<T>(iface: string, read: (base: string) => T): T | null {
  const base = `/sys/class/net/${iface}`;
  try {
    return Number(readFileSync(`${base}/ifindex`, 'utf8').trim()) === ifIndex(iface) ? read(base) : null;
  } catch {
    return null;
  }
}

/** RX queues an AF_XDP socket can bind to, in this network namespace; null when nothing could tell. */
export function linkRxQueues(iface: string): number | null {
  return driverRxQueues(iface) ?? fromSysfs(iface, (base) => {
    const rx = readdirSync(`${base}/queues`).filter((q) => q.startsWith('rx-')).length;
    return rx > 0 ? rx : null;
  });
}

/** The interface's MTU in this network namespace; null when nothing could tell. */
export function linkMtu(iface: string): number | null {
  return netlinkMtu(iface) ?? fromSysfs(iface, (base) => positiveInt(Number(readFileSync(`${base}/mtu`, 'utf8').trim())));
}
