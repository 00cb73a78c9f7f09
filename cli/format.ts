// Small text helpers shared by command printers.
import { formatIp } from '../host/packet/addr.js';
import type { DecodedPacket } from '../host/packet/types.js';
import { protoName } from '../host/eve/format.js';

export function endpoint(addr: Uint8Array, port: number, hasPorts: boolean): string {
  const ip = addr.length ? formatIp(addr) : '?';
  if (!hasPorts) return ip;
  return addr.length === 16 ? `[${ip}]:${port}` : `${ip}:${port}`;
}

export function describePacket(p: DecodedPacket): string {
  const hasPorts = p.l4Offset >= 0 && (p.proto === 6 || p.proto === 17);
  const vlan = p.vlans.length ? ` vlan ${p.vlans.join('/')}` : '';
  const payload = p.payloadLength > 0 ? `, payload ${p.payloadLength}` : '';
  const bad = p.malformed ? ` MALFORMED: ${p.malformed}` : '';
  return `${protoName(p.proto).toLowerCase()} ${endpoint(p.src, p.srcPort, hasPorts)} -> ${endpoint(p.dst, p.dstPort, hasPorts)}${vlan} (${p.data.length} bytes${payload})${bad}`;
}

export function table(rows: string[][], indent = '  '): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => { widths[i] = Math.max(widths[i] ?? 0, c.length); });
  return rows.map((r) => indent + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}

export function thousands(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
