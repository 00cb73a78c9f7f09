// Reads the pinned XDP maps of the protected interface directly, so the demo
// shows what the kernel itself holds (flow verdicts, the penalty box, packet
// and punt counters), not just what the daemon says it wrote.
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { LAYOUT, MapName, SfFlowVerdict, SfStat, SfStage, decodeFlowKey, decodeFlowMetaPerCpu, decodePenaltyKey, decodePenaltyMeta, perCpuStride, type FlowKey } from '../../host/kernel/codec.js';
import { penaltyEntryName } from '../../host/kernel/penalty-entry.js';
import { closeFd, mapDump, objGet, possibleCpus } from '../../host/kernel/native.js';
import { readStats } from '../../host/kernel/verdictmaps.js';
import { formatIp } from '../../host/packet/addr.js';

export interface KernelFlow {
  /** "a:p ⇄ b:q/tcp", the same for both directions. */
  name: string;
  /** The client side's address (the higher port's side). */
  client: string;
  verdict: 'ALLOW' | 'BLOCK';
  /** Packets XDP handled from this entry (both directions summed). */
  packets: number;
  firstSeenMs: number;
}

export interface KernelCounters {
  rx: number;
  pass: number;
  drop: number;
  punt: number;
  puntFallback: number;
  byStage: Record<string, number>;
}

export interface KernelEvents {
  flow(f: KernelFlow): void;
  penalty(addr: string, ttlSec: number): void;
  /** A source left the box before the watch saw it expire (released by the operator, or swept). */
  released(addr: string): void;
}

const PROTO: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmpv6' };

function side(addr: Uint8Array, port: number, proto: number): string {
  const a = formatIp(addr);
  const host = addr.length === 16 ? `[${a}]` : a;
  return proto === 6 || proto === 17 ? `${host}:${port}` : host;
}

/** The direction-independent name of a flow: the server (lower port) side last. */
export function flowName(k: FlowKey): { name: string; client: string } {
  const a = side(k.src, k.sport, k.proto);
  const b = side(k.dst, k.dport, k.proto);
  const clientIsSrc = k.sport >= k.dport;
  const [client, server] = clientIsSrc ? [a, b] : [b, a];
  return { name: `${client} ⇄ ${server}/${PROTO[k.proto] ?? k.proto}`, client: formatIp(clientIsSrc ? k.src : k.dst) };
}

export class KernelWatch {
  private fds: Partial<Record<string, number>> = {};
  readonly flows = new Map<string, KernelFlow>();
  readonly penalized = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private readonly t0 = Date.now();

  constructor(private readonly pinDir: string, private readonly on: KernelEvents) {}

  start(intervalMs = 150): void {
    this.timer = setInterval(() => this.poll(), intervalMs);
  }

  private fd(name: string): number | null {
    const have = this.fds[name];
    if (have !== undefined) return have;
    const path = join(this.pinDir, name);
    if (!existsSync(path)) return null;
    try {
      const fd = objGet(path);
      this.fds[name] = fd;
      return fd;
    } catch {
      return null;
    }
  }

  poll(): void {
    const cpus = possibleCpus();
    const flows = this.fd(MapName.FLOWS);
    if (flows !== null) {
      const d = mapDump(flows);
      const ks = LAYOUT.sf_flow_key.size;
      const vs = perCpuStride(LAYOUT.sf_flow_meta.size) * cpus;
      const seenNow = new Map<string, { verdict: number; packets: number; client: string }>();
      for (let i = 0; i < d.count; i++) {
        const key = decodeFlowKey(d.keys.subarray(i * ks, (i + 1) * ks));
        const meta = decodeFlowMetaPerCpu(d.values.subarray(i * vs, (i + 1) * vs), cpus);
        const { name, client } = flowName(key);
        const prev = seenNow.get(name);
        seenNow.set(name, { verdict: meta.verdict, packets: (prev?.packets ?? 0) + meta.packets, client });
      }
      for (const [name, m] of seenNow) {
        const known = this.flows.get(name);
        if (known) {
          known.packets = Math.max(known.packets, m.packets);
          continue;
        }
        const f: KernelFlow = { name, client: m.client, verdict: m.verdict === SfFlowVerdict.BLOCK ? 'BLOCK' : 'ALLOW', packets: m.packets, firstSeenMs: Date.now() - this.t0 };
        this.flows.set(name, f);
        this.on.flow(f);
      }
    }
    const pen = this.fd(MapName.PENALTY);
    if (pen !== null) {
      const d = mapDump(pen);
      const ks = LAYOUT.sf_penalty_key.size;
      const vs = d.count > 0 ? d.values.length / d.count : 0;
      const present = new Set<string>();
      for (let i = 0; i < d.count; i++) {
        const addr = penaltyEntryName(decodePenaltyKey(d.keys.subarray(i * ks, (i + 1) * ks)));
        present.add(addr);
        if (this.penalized.has(addr)) continue;
        this.penalized.add(addr);
        const meta = decodePenaltyMeta(d.values.slice(i * vs, i * vs + LAYOUT.sf_penalty_meta.size));
        const ttl = meta.expiresNs > 0n ? Math.max(0, Math.round(Number(meta.expiresNs - process.hrtime.bigint()) / 1e9)) : 0;
        this.on.penalty(addr, ttl);
      }
      for (const addr of this.penalized) {
        if (present.has(addr)) continue;
        this.penalized.delete(addr);
        this.on.released(addr);
      }
    }
  }

  counters(): KernelCounters | null {
    const fd = this.fd(MapName.STATS);
    if (fd === null) return null;
    const c = readStats(fd);
    const byStage: Record<string, number> = {};
    for (const [name, i] of Object.entries(SfStage)) byStage[name.toLowerCase()] = c[SfStat.STAGE_BASE + i]?.packets ?? 0;
    return { rx: c[SfStat.RX]!.packets, pass: c[SfStat.PASS]!.packets, drop: c[SfStat.DROP]!.packets, punt: c[SfStat.PUNT]!.packets, puntFallback: c[SfStat.PUNT_FALLBACK]!.packets, byStage };
  }

  /** Closes the map fds, so unpinning really frees the maps. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const fd of Object.values(this.fds)) if (fd !== undefined) closeFd(fd);
    this.fds = {};
  }
}
