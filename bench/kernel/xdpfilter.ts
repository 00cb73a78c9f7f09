// xdp-tools' xdp-filter objects as a baseline. Their maps (per-CPU u64 whose
// low bits are match flags and whose upper bits count hits) are filled
// directly, the same way `xdp-filter ip|port` would, so both programs see the
// same rules and the same packets under BPF_PROG_TEST_RUN.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { mapUpdate, openObject, possibleCpus } from '../../host/kernel/native.js';

// Flag bits of xdp-filter's map values (its common_kern_user.h).
const FLAG_SRC = 1 << 0;
const FLAG_DST = 1 << 1;
const FLAG_TCP = 1 << 2;
const FLAG_UDP = 1 << 3;

const DIRS = ['/usr/lib/x86_64-linux-gnu/bpf', '/usr/lib/aarch64-linux-gnu/bpf', '/usr/lib/bpf', '/usr/local/lib/bpf'];

export function findXdpFilterObject(name: string): string | null {
  for (const d of DIRS) {
    if (existsSync(d) && readdirSync(d).includes(`${name}.o`)) return join(d, `${name}.o`);
  }
  return null;
}

function perCpuU64(value: number): Uint8Array {
  const cpus = possibleCpus();
  const b = new Uint8Array(8 * cpus);
  const v = new DataView(b.buffer);
  for (let c = 0; c < cpus; c++) v.setBigUint64(c * 8, BigInt(value), true);
  return b;
}

export interface XdpFilterBench {
  progFd: number;
  close(): void;
}

/** xdpfilt_alw_ip (default allow, listed addresses dropped), as `xdp-filter ip ADDR -m src|dst`. */
export function loadIpFilter(path: string, addrs: Uint8Array[], mode: 'src' | 'dst'): XdpFilterBench {
  const obj = openObject({ objectPath: path });
  const fd = obj.maps.filter_ipv4!;
  const value = perCpuU64(mode === 'src' ? FLAG_SRC : FLAG_DST);
  for (const a of addrs) mapUpdate(fd, a, value);
  return { progFd: obj.progFd, close: () => obj.close() };
}

/** xdpfilt_alw_tcp or _udp with these destination ports dropped (`xdp-filter port P -p tcp|udp -m dst`). */
export function loadPortFilter(path: string, ports: number[], proto: 'tcp' | 'udp'): XdpFilterBench {
  const obj = openObject({ objectPath: path });
  const fd = obj.maps.filter_ports!;
  const value = perCpuU64(FLAG_DST | (proto === 'tcp' ? FLAG_TCP : FLAG_UDP));
  const key = new Uint8Array(4);
  const kv = new DataView(key.buffer);
  for (const p of ports) {
    // Its key is the port's two wire bytes loaded as a little-endian u16.
    kv.setUint32(0, 0, true);
    kv.setUint16(0, p, false);
    mapUpdate(fd, key, value);
  }
  return { progFd: obj.progFd, close: () => obj.close() };
}

export { FLAG_DST, FLAG_SRC, FLAG_TCP, FLAG_UDP };
