// Loading and attaching XDP needs CAP_NET_ADMIN plus CAP_BPF (or the older
// CAP_SYS_ADMIN). Checking the effective capability set up front gives a
// clear E_NO_ROOT instead of an EPERM from deep inside libbpf.
import { readFileSync } from 'node:fs';
import { SecuxflowError } from '../errors.js';

const CAP_NET_ADMIN = 12n;
const CAP_SYS_ADMIN = 21n;
const CAP_BPF = 39n;

function effectiveCaps(): bigint | null {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? BigInt(`0x${m[1]}`) : null;
  } catch {
    return null;
  }
}

function has(caps: bigint, cap: bigint): boolean {
  return ((caps >> cap) & 1n) === 1n;
}

/** True when this process may load, attach and pin XDP programs. */
export function canManageXdp(): boolean {
  const caps = effectiveCaps();
  if (caps === null) return process.getuid?.() === 0;
  return has(caps, CAP_NET_ADMIN) && (has(caps, CAP_BPF) || has(caps, CAP_SYS_ADMIN));
}

export function assertCanManageXdp(what: string): void {
  if (canManageXdp()) return;
  throw new SecuxflowError(
    'E_NO_ROOT',
    `${what} needs root (CAP_BPF and CAP_NET_ADMIN); this process runs as uid ${process.getuid?.() ?? '?'} without them`,
    're-run it with sudo',
  );
}
