// Turns the engine's decisions into kernel state, from the worker that made
// them and within the same batch: ALLOW_FLOW/BLOCK_FLOW become flow-verdict
// entries for both directions (so the rest of the flow never leaves XDP),
// BLOCK_SRC puts the source into the penalty box until a monotonic deadline,
// and a flow that stays undecided past the inspection cap gets the cap
// policy. PASS/DROP only concern the packet and are the caller's business.
// Nothing is written for a packet that is or carries a tunnel: XDP keys it
// by its outer header, so an entry would allow or block every flow of the
// tunnel. The engine enforces those verdicts itself, and each packet of the
// tunnel keeps being punted (docs/tunnels.md).
import { Verdict } from '../verdict.js';
import type { FlowKey } from '../kernel/codec.js';
import { writeFlowVerdicts, writePenalty, type VerdictMapFds } from '../kernel/verdictmaps.js';
import type { PacketDecision } from '../engine/types.js';
import { hasPortlessFlowKey, type DecodedPacket } from '../packet/types.js';
import { SecuxflowError } from '../errors.js';
import { NET6_PREFIX, penaltyKeyFor } from '../kernel/penalty-entry.js';
import { isTunnelCarrier } from '../packet/tunnel-headers.js';

export interface InspectCap {
  packets: number;
  bytes: number;
  policy: 'allow' | 'block';
}

export interface WriteBackCounters {
  flowsAllowed: number;
  flowsBlocked: number;
  /** Flows decided by the inspection cap rather than by a module. */
  flowsCapped: number;
  penaltyWrites: number;
  /** Entries re-written because packets of a decided flow were still punted (entry expired or switch raced). */
  rewrites: number;
  /** Kernel writes that failed (a full map): the flow stays punted, nothing breaks. */
  writeErrors: number;
  /**
   * Kernel entries not written because the packet is or carries a tunnel:
   * each such flow's verdict once, and each BLOCK_SRC's penalty entry.
   */
  tunneledNotOffloaded: number;
  /** The last failure's message, for status. */
  lastError: string | null;
}

interface Written {
  verdict: 'allow' | 'block';
  atMs: number;
  /** The write failed (a full map): tried again REWRITE_AFTER_MS later, not on every packet. */
  failed: boolean;
}

/** Rewrite an entry when its flow is still punted this long after the write (or after a failed write). */
const REWRITE_AFTER_MS = 1000;
/**
 * A full sf_flows fails the write of every flow decided after it: one warning
 * per failure would be a log flood an attacker controls. One per interval,
 * with how many it stands for; writeErrors counts them all.
 */
const WARN_INTERVAL_MS = 10_000;

/** The kernel's key for the packet's direction (wire order, as xdp/secuxflow.bpf.c builds it). */
export function flowKeyOf(pkt: DecodedPacket): FlowKey {
  const ports = pkt.l4Offset >= 0 && (pkt.proto === 6 || pkt.proto === 17);
  return {
    src: pkt.src,
    dst: pkt.dst,
    sport: ports ? pkt.srcPort : 0,
    dport: ports ? pkt.dstPort : 0,
    vlanOuter: pkt.vlans[0] ?? 0,
    vlanInner: pkt.vlans[1] ?? 0,
    proto: pkt.proto,
  };
}

export class VerdictWriteBack {
  readonly counters: WriteBackCounters = {
    flowsAllowed: 0, flowsBlocked: 0, flowsCapped: 0, penaltyWrites: 0, rewrites: 0, writeErrors: 0, tunneledNotOffloaded: 0, lastError: null,
  };
  private written = new Map<number, Written>();
  /** Tunnelled flows already counted in tunneledNotOffloaded. */
  private tunneled = new Set<number>();
  private lastWarnMs = -Infinity;
  private unwarned = 0;

  private readonly fds: VerdictMapFds[];
  private blockIpv6Prefix: 64 | 128 = NET6_PREFIX;

  constructor(
    /** One interface's maps, or both sides' in inline mode (each direction arrives on its own side). */
    fds: VerdictMapFds | VerdictMapFds[],
    private cap: InspectCap,
    /** CLOCK_MONOTONIC ns, the clock bpf_ktime_get_ns reads. */
    private readonly monotonicNs: () => bigint = () => process.hrtime.bigint(),
    private readonly nowMs: () => number = () => Date.now(),
    private readonly onError: (message: string) => void = () => {},
  ) {
    this.fds = Array.isArray(fds) ? fds : [fds];
  }

  setCap(cap: InspectCap): void {
    this.cap = cap;
  }

  /** What a BLOCK_SRC of an IPv6 source blocks in the kernel: its /64, or the address alone. */
  setBlockIpv6Prefix(prefix: 64 | 128): void {
    this.blockIpv6Prefix = prefix;
  }

  /** Forget per-flow memory: flow ids restart when the engine is replaced. */
  reset(): void {
    this.written.clear();
    this.tunneled.clear();
  }

  flowEnded(flowId: number): void {
    this.written.delete(flowId);
    this.tunneled.delete(flowId);
  }

  /** Applies one decision's kernel side. */
  apply(d: PacketDecision): void {
    const flow = d.flow;
    if (isTunnelCarrier(d.pkt)) {
      this.keepInUserSpace(d);
      return;
    }
    if (d.verdict === Verdict.BLOCK_SRC && d.stage === 'module') {
      let ttl = 0;
      for (const run of d.modules) if (run.verdict === Verdict.BLOCK_SRC && run.ttl > ttl) ttl = run.ttl;
      this.penalty(d.pkt.src, ttl);
    }
    // XDP reads no ports from a non-first fragment or a TCP/UDP header it
    // cannot parse, nor a protocol past a bad IPv6 extension chain, so it keys
    // all of them (src, dst, proto, no ports): one entry for that key would
    // decide every such packet between the two hosts, of any datagram, and
    // the fragments of a later datagram would skip reassembly and inspection.
    // The daemon keeps deciding them packet by packet instead.
    if (flow === null || hasPortlessFlowKey(d.pkt)) return;
    switch (d.verdict) {
      case Verdict.ALLOW_FLOW:
        this.writeFlow(flow.id, d.pkt, 'allow', d.stage === 'flow');
        return;
      case Verdict.BLOCK_FLOW:
      case Verdict.BLOCK_SRC:
        this.writeFlow(flow.id, d.pkt, 'block', d.stage === 'flow');
        return;
      default:
        break;
    }
    if (d.stage !== 'module') return;
    // CONTINUE/PASS/DROP from modules: the flow stays punted up to the cap.
    // The engine counts the flow's inspected packets; a map of our own cost
    // two lookups per packet, cache misses once flows number in the 10,000s.
    const bytes = flow.bytesToServer + flow.bytesToClient;
    if (d.inspected >= this.cap.packets || bytes >= this.cap.bytes) {
      const w = this.written.get(flow.id);
      if (w === undefined) this.counters.flowsCapped++;
      if (w === undefined || w.failed) this.writeFlow(flow.id, d.pkt, this.cap.policy, false);
    }
  }

  /** Counts what would have gone to the kernel: each tunnelled flow's verdict once, each BLOCK_SRC's penalty entry. */
  private keepInUserSpace(d: PacketDecision): void {
    if (d.verdict === Verdict.BLOCK_SRC && d.stage === 'module') this.counters.tunneledNotOffloaded++;
    const flowVerdict = d.verdict === Verdict.ALLOW_FLOW || d.verdict === Verdict.BLOCK_FLOW || d.verdict === Verdict.BLOCK_SRC;
    if (!flowVerdict || d.flow === null || this.tunneled.has(d.flow.id)) return;
    this.tunneled.add(d.flow.id);
    this.counters.tunneledNotOffloaded++;
  }

  private writeFlow(flowId: number, pkt: DecodedPacket, verdict: 'allow' | 'block', alreadyDecided: boolean): void {
    const prev = this.written.get(flowId);
    const now = this.nowMs();
    if (prev?.failed) {
      // Every packet of the flow still comes here while the map is full.
      if (now - prev.atMs < REWRITE_AFTER_MS) return;
    } else if (prev && prev.verdict === verdict) {
      // A packet of a decided flow reached us: normal for the rest of the batch that
      // decided it; later, the entry was expired or the lookup switch was lowered.
      if (!alreadyDecided || now - prev.atMs < REWRITE_AFTER_MS) return;
      this.counters.rewrites++;
    }
    const key = flowKeyOf(pkt);
    try {
      for (const fds of this.fds) writeFlowVerdicts(fds, key, verdict);
    } catch (e) {
      this.written.set(flowId, { verdict, atMs: now, failed: true });
      this.fail(e);
      return;
    }
    this.written.set(flowId, { verdict, atMs: now, failed: false });
    if (!prev || prev.failed) {
      if (verdict === 'allow') this.counters.flowsAllowed++;
      else this.counters.flowsBlocked++;
    }
  }

  private penalty(src: Uint8Array, ttlSec: number): void {
    if (src.length !== 4 && src.length !== 16) return;
    const expires = this.monotonicNs() + BigInt(Math.max(1, ttlSec)) * 1_000_000_000n;
    try {
      const key = penaltyKeyFor(src, this.blockIpv6Prefix);
      for (const fds of this.fds) writePenalty(fds, key, expires);
      this.counters.penaltyWrites++;
    } catch (e) {
      this.fail(e);
    }
  }

  private fail(e: unknown): void {
    this.counters.writeErrors++;
    const message = e instanceof SecuxflowError ? `${e.code}: ${e.message}` : String(e);
    this.counters.lastError = message;
    const now = this.nowMs();
    if (now - this.lastWarnMs < WARN_INTERVAL_MS) {
      this.unwarned++;
      return;
    }
    this.lastWarnMs = now;
    const more = this.unwarned;
    this.unwarned = 0;
    this.onError(more > 0 ? `${message} (and ${more} more failed writes since the last warning)` : message);
  }
}
