// The work of one RX queue, independent of threads and sockets so it runs the
// same over AF_XDP, in tests from a capture, and on the main thread: a batch of
// frames (laid out as XskSocket.receive writes them) goes through the engine;
// each decision's kernel side is written back before the passed packets leave
// through the output (host-mode delivery or the inline peer's TX ring), and
// dropped ones are simply not sent. Rules and modules change only between
// batches, by replacing the engine, so no packet is lost or seen twice.
import { Engine, type EngineModule } from '../engine/engine.js';
import type { EngineBounds, PacketDecision } from '../engine/types.js';
import { decodePacket } from '../packet/decode.js';
import { reserveFrameSeqs } from '../capture/frame-seq.js';
import { LinkType } from '../packet/types.js';
import type { RuleSet } from '../rules/types.js';
import { FlowEveRecords } from '../eve/flow-events.js';
import { VERDICT_NAMES } from '../verdict.js';
import type { ManagedRunner } from '../sandbox/runner.js';
import type { VerdictWriteBack } from './writeback.js';
import type { DaemonConfig } from './config.js';
import { completeL4Checksum } from './checksum.js';
import { StampedRunner } from './watchdog.js';
import { SecuxflowError } from '../errors.js';
import type { FlowSelector } from '../flow/selector.js';

/** Where passed packets go: (from, descs, count) as XskSocket.transmit and Delivery.deliver take them. */
export interface PacketOutput {
  send(from: Uint8Array, descs: Uint32Array, count: number): number;
}

/** A change to one queue's work; what is absent stays as it is. */
export interface QueueChange {
  rules?: RuleSet;
  modules?: EngineModule[];
  config?: DaemonConfig;
}

export interface QueueWorkerOptions {
  rules: RuleSet;
  modules: EngineModule[];
  config: DaemonConfig;
  writeBack: VerdictWriteBack | null;
  output: PacketOutput | null;
  /** One EVE JSON line (no newline). */
  eve: (line: string) => void;
  /** Inline mode: recompute TCP/UDP checksums of passed frames before they are sent (see checksum.ts). */
  completeChecksums?: boolean;
}

export interface ModuleStatus {
  name: string;
  policy: string;
  /** thread: in the queue's thread under the watchdog; worker: in a sandbox worker. */
  isolation: 'thread' | 'worker';
  status: string;
  packets: number;
  batches: number;
  meanBatchUs: number;
  p99BatchUs: number;
  traps: number;
  alerts: number;
  /** What the module raised that reached no output (over a budget, too large, or in on_init/on_flow_end). */
  alertsDropped: number;
  eventsDropped: number;
  logsDropped: number;
  quarantineReason: string | null;
}

export interface QueueCounters {
  batches: number;
  packets: number;
  bytes: number;
  delivered: number;
  dropped: number;
  /** Passed packets the output refused (ring full, TAP down). */
  sendFailed: number;
  /** EVE drop records not written, past DROP_RECORDS_PER_SEC (the drops themselves are in `dropped`). */
  dropRecordsLeftOut: number;
  /** EVE anomaly records (eve_types: anomaly) not written, past ANOMALY_RECORDS_PER_SEC. */
  anomalyRecordsLeftOut: number;
  alerts: number;
  byVerdict: Record<string, number>;
  moduleFailures: number;
  /** Batch time from receipt to kernel writes done (µs), over the last 1024 batches. */
  batchP50Us: number;
  batchP99Us: number;
}

const RING = 1024;
const STAGING_BYTES = 256 * 1024;
/**
 * EVE drop records a queue writes per second at most. A packet dropped before
 * any module saw it (a stream at its memory cap, a datagram given up, a rule)
 * makes one, about 400 bytes for each packet an attacker sends; Suricata's
 * drop log likewise keeps, by default, only a flow's first.
 */
export const DROP_RECORDS_PER_SEC = 100;
/** The same bound for anomaly records: one per malformed packet, which costs an attacker as little. */
export const ANOMALY_RECORDS_PER_SEC = 100;

/** At most `limit` a wall-clock second. */
class PerSecondBudget {
  private second = -1;
  private used = 0;
  constructor(private readonly limit: number) {}

  take(): boolean {
    const second = Math.floor(Date.now() / 1000);
    if (second !== this.second) {
      this.second = second;
      this.used = 0;
    }
    return ++this.used <= this.limit;
  }
}

/**
 * Wall-clock milliseconds from a performance.now() reading, so that a batch's
 * one clock read gives both its latency and its packets' timestamps (each
 * clock read cost ~45 ns here, and a batch made eight). Date.now() is read
 * again at most once a second, so a stepped wall clock is followed within a
 * second; the engine keeps its own clock from going backwards.
 */
class WallClock {
  private offsetMs = 0;
  private checkedAtMs = -Infinity;

  /** Whole milliseconds since the epoch at the performance.now() reading `monoMs`. */
  at(monoMs: number): number {
    if (monoMs - this.checkedAtMs >= 1000) {
      this.offsetMs = Date.now() - performance.now();
      this.checkedAtMs = monoMs;
    }
    return Math.floor(monoMs + this.offsetMs);
  }
}

export class QueueWorker {
  private engine: Engine;
  private rules: RuleSet;
  private modules: EngineModule[];
  private config: DaemonConfig;
  /** What prepare() built and commit() switches to. */
  private staged: { rules: RuleSet; config: DaemonConfig; modules: EngineModule[]; engine: Engine | null } | null = null;
  private readonly decisions: PacketDecision[] = [];
  private readonly records = new FlowEveRecords();
  private readonly wallClock = new WallClock();
  private readonly times = new Float64Array(RING);
  private timeCount = 0;
  private readonly staging = new Uint8Array(STAGING_BYTES);
  private outDescs: Uint32Array = new Uint32Array(512);
  private stageDescs: Uint32Array = new Uint32Array(512);
  private readonly c = { batches: 0, packets: 0, bytes: 0, delivered: 0, dropped: 0, sendFailed: 0, dropRecordsLeftOut: 0, anomalyRecordsLeftOut: 0, alerts: 0, moduleFailures: 0 };
  private readonly dropRecords = new PerSecondBudget(DROP_RECORDS_PER_SEC);
  private readonly anomalyRecords = new PerSecondBudget(ANOMALY_RECORDS_PER_SEC);
  /** Packets per verdict, indexed by the verdict's value (a computed string key per packet cost more than the count). */
  private readonly verdictCounts: number[] = VERDICT_NAMES.map(() => 0);

  constructor(private readonly opts: QueueWorkerOptions) {
    this.rules = opts.rules;
    this.modules = opts.modules;
    this.config = opts.config;
    this.engine = this.newEngine(this.rules, this.config, this.modules);
  }

  get moduleNames(): string[] {
    return this.modules.map((m) => m.name);
  }

  private newEngine(rules: RuleSet, config: DaemonConfig, modules: EngineModule[]): Engine {
    return new Engine({
      rules,
      modules,
      ...engineSettings(config),
      // Both modes hand frames on to a stack that drops bad checksums, which
      // the modules must then not read; inline mode completes only the
      // offload-pending ones (checksum.ts), host mode's TAP marks them partial.
      checksums: this.opts.completeChecksums ? 'forward' : 'offload',
      onDecision: (d) => this.decisions.push(d),
      onFlowEnd: (r) => {
        this.opts.writeBack?.flowEnded(r.flow.id);
        if (this.wants('flow')) this.opts.eve(this.records.flowEndedJson(r));
        else this.records.forget(r);
      },
      onFlowOutput: (o) => {
        this.c.alerts += o.alerts.length;
        this.records.flowOutput(o, (rec) => {
          if (this.wants(rec.event_type)) this.opts.eve(JSON.stringify(rec));
        });
      },
    });
  }

  /**
   * Runs `count` frames from `data` (frame i at descs[2i], length descs[2i+1]).
   * Returns the number of packets passed on.
   */
  processBatch(data: Uint8Array, descs: Uint32Array, count: number, receivedAtMs: number = performance.now()): number {
    const nowMs = this.wallClock.at(receivedAtMs);
    const tsSec = Math.floor(nowMs / 1000);
    const tsNsec = (nowMs % 1000) * 1_000_000;
    // XskSocket.receive packs frames in order and zeroes the padding between
    // them, so consecutive frames may be copied to a module as one run.
    const seq = reserveFrameSeqs(count);
    const base = data.byteOffset;
    for (let i = 0; i < count; i++) {
      const off = descs[2 * i]!;
      const len = descs[2 * i + 1]!;
      // The engine copies any fragment it holds past this batch, so `data` may be reused.
      this.c.bytes += len;
      this.engine.pushDecoded(decodePacket(data.subarray(off, off + len), LinkType.ETHERNET, tsSec, tsNsec, len, seq + i, base + off));
    }
    this.engine.flush();
    this.c.batches++;
    this.c.packets += count;
    const passed = this.settle(data, descs, seq, count);
    // performance.now(): sub-microsecond like hrtime.bigint(), without two BigInts per batch.
    this.recordTime((performance.now() - receivedAtMs) * 1000);
    return passed;
  }

  /**
   * Writes kernel state for every decision first (the verdict latency ends
   * there), then sends what passed, and only then formats EVE lines, so
   * neither the kernel nor the packets wait for JSON.
   */
  private settle(data: Uint8Array, descs: Uint32Array, firstSeq: number, count: number): number {
    const list = this.decisions;
    const writeBack = this.opts.writeBack;
    if (writeBack) for (let i = 0; i < list.length; i++) writeBack.apply(list[i]!);
    let nOut = 0;
    let nStage = 0;
    let stageUsed = 0;
    for (let i = 0; i < list.length; i++) {
      const d = list[i]!;
      this.verdictCounts[d.verdict] = (this.verdictCounts[d.verdict] ?? 0) + d.sources.length;
      if (d.dropped) {
        this.c.dropped += d.sources.length;
        continue;
      }
      const sources = d.sources;
      for (let j = 0; j < sources.length; j++) {
        const src = sources[j]!;
        if (this.opts.completeChecksums) completeL4Checksum(src);
        // A frame of this batch is sent from where it lies, found by its
        // sequence number (reserved per batch) rather than by comparing
        // buffers: the typed array getters that took cost ~40 ns a packet.
        const k = src.srcSeq - firstSeq;
        if (k >= 0 && k < count) {
          if (2 * nOut + 2 > this.outDescs.length) this.outDescs = grow(this.outDescs);
          this.outDescs[2 * nOut] = descs[2 * k]!;
          this.outDescs[2 * nOut + 1] = descs[2 * k + 1]!;
          nOut++;
          continue;
        }
        const bytes = src.data;
        if (stageUsed + bytes.length <= this.staging.length) {
          // Fragments kept from an earlier batch, or rebuilt datagrams: these few are copied.
          if (2 * nStage + 2 > this.stageDescs.length) this.stageDescs = grow(this.stageDescs);
          this.staging.set(bytes, stageUsed);
          this.stageDescs[2 * nStage] = stageUsed;
          this.stageDescs[2 * nStage + 1] = bytes.length;
          stageUsed += (bytes.length + 7) & ~7;
          nStage++;
        } else {
          this.c.sendFailed++;
        }
      }
    }
    let sent = 0;
    const out = this.opts.output;
    if (out !== null) {
      if (nOut > 0) sent += out.send(data, this.outDescs, nOut);
      if (nStage > 0) sent += out.send(this.staging, this.stageDescs, nStage);
      this.c.sendFailed += nOut + nStage - sent;
    }
    this.c.delivered += sent;
    for (let i = 0; i < list.length; i++) {
      const d = list[i]!;
      this.emitEve(d);
      for (let j = 0; j < d.modules.length; j++) if (d.modules[j]!.failure !== null) this.c.moduleFailures++;
    }
    list.length = 0;
    return out === null ? nOut + nStage : sent;
  }

  /** Whether the config's eve_types has this event type. */
  private wants(type: unknown): boolean {
    return (this.config.eveTypes as readonly unknown[]).includes(type);
  }

  private emitEve(d: PacketDecision): void {
    this.records.decision(d, (rec) => {
      if (rec.event_type === 'alert') this.c.alerts++;
      if (!this.wants(rec.event_type)) return;
      if (rec.event_type === 'drop' && !this.dropRecords.take()) {
        this.c.dropRecordsLeftOut++;
        return;
      }
      if (rec.event_type === 'anomaly' && !this.anomalyRecords.take()) {
        this.c.anomalyRecordsLeftOut++;
        return;
      }
      this.opts.eve(JSON.stringify(rec));
    });
  }

  private recordTime(us: number): void {
    this.times[this.timeCount % RING] = us;
    this.timeCount++;
  }

  /**
   * Swaps rules, modules or config between batches: prepare(), then commit().
   * The old engine ends its flows (modules free their per-flow state);
   * undecided flows start over with the new engine, decided ones are already
   * in the kernel. A config change the engine does not read keeps the engine
   * and its flows. Returns runners that are no longer used, for the caller to
   * close.
   */
  replace(change: QueueChange): EngineModule[] {
    this.prepare(change);
    return this.commit();
  }

  /**
   * Builds what a change needs without switching to it, so that a daemon with
   * several queues can switch them all or none. Throws, with nothing changed,
   * when the change cannot apply (a rule naming a module that is not loaded).
   * A second prepare() replaces the first.
   */
  prepare(change: QueueChange): void {
    this.staged = null;
    const rules = change.rules ?? this.rules;
    const config = change.config ?? this.config;
    const modules = change.modules ?? this.modules;
    // A reload that only touches what the engine does not read (scheduling,
    // expiry, the control group...) keeps every flow and its modules' state.
    const keep = !change.rules && !change.modules && sameEngineSettings(config, this.config);
    this.staged = { rules, config, modules, engine: keep ? null : this.newEngine(rules, config, modules) };
  }

  /** Switches to the prepared change. */
  commit(): EngineModule[] {
    const s = this.staged;
    if (s === null) throw new SecuxflowError('E_INTERNAL', 'queue worker: commit() without a prepared change');
    this.staged = null;
    const prevModules = this.modules;
    this.rules = s.rules;
    this.config = s.config;
    this.modules = s.modules;
    if (s.engine === null) return [];
    const old = this.engine;
    this.engine = s.engine;
    old.finish();
    this.settle(new Uint8Array(0), NO_DESCS, 0, 0);
    this.opts.writeBack?.reset();
    this.records.clear();
    return prevModules.filter((m) => !s.modules.includes(m));
  }

  /** Drops a prepared change. */
  abort(): void {
    this.staged = null;
  }

  /** Takes sources out of the penalty box of the engine, and of a staged one (all when null); how many the engine held. */
  releaseSources(addrs: readonly Uint8Array[] | null): number {
    this.staged?.engine?.releaseSources(addrs);
    return this.engine.releaseSources(addrs);
  }

  /**
   * Forgets the verdicts of the flows `sel` picks, in the engine and in a
   * staged one. The write-back forgets every write: a flow the inspection
   * cap allowed in the kernel is still undecided in the engine, which so
   * cannot name it, and once its entry is deleted only a fresh write ends
   * its punts. (Flows whose entries stay are not punted, so they cost no
   * rewrite.) How many flows the engine released.
   */
  releaseFlows(sel: FlowSelector): number {
    this.staged?.engine?.releaseFlows(sel);
    const released = this.engine.releaseFlows(sel).length;
    this.opts.writeBack?.reset();
    return released;
  }

  /** Ends every flow (daemon stop). */
  finish(): void {
    this.engine.finish();
    this.settle(new Uint8Array(0), NO_DESCS, 0, 0);
  }

  counters(): QueueCounters {
    const n = Math.min(this.timeCount, RING);
    const sorted = Array.from(this.times.subarray(0, n)).sort((a, b) => a - b);
    const pick = (q: number): number => (n === 0 ? 0 : Math.round(sorted[Math.min(n - 1, Math.floor(q * n))]!));
    const byVerdict: Record<string, number> = Object.fromEntries(VERDICT_NAMES.map((n, v) => [n, this.verdictCounts[v] ?? 0]));
    return { ...this.c, byVerdict, batchP50Us: pick(0.5), batchP99Us: pick(0.99) };
  }

  /** The current engine's: a rule or module change builds a new one, which starts its counts again. */
  bounds(): EngineBounds {
    return this.engine.bounds();
  }

  moduleStatus(): ModuleStatus[] {
    return this.modules.map((m) => {
      const runner = m.instance as Partial<ManagedRunner>;
      const s = typeof runner.stats === 'function' ? runner.stats() : null;
      return {
        name: m.name,
        policy: runner.policy ?? m.policy ?? 'fail-closed',
        isolation: m.instance instanceof StampedRunner ? 'thread' : 'worker',
        status: s?.status ?? 'ok',
        packets: s?.packets ?? 0,
        batches: s?.batches ?? 0,
        meanBatchUs: s?.meanBatchUs ?? 0,
        p99BatchUs: s?.p99BatchUs ?? 0,
        traps: s?.traps ?? 0,
        alerts: s?.alerts ?? 0,
        alertsDropped: s?.alertsDropped ?? 0,
        eventsDropped: s?.eventsDropped ?? 0,
        logsDropped: s?.logsDropped ?? 0,
        quarantineReason: s?.quarantineReason ?? null,
      };
    });
  }
}

const NO_DESCS = new Uint32Array(0);

function grow(a: Uint32Array): Uint32Array {
  const b = new Uint32Array(a.length * 2);
  b.set(a);
  return b;
}

/** What the engine takes from the daemon config; a change to anything else needs no new engine. */
function engineSettings(cfg: DaemonConfig): { batchSize: number; streamDepth: number; streamMemcap: number; maxInspectPackets: number; flowCapPolicy: DaemonConfig['inspectCap']['policy']; defaultBlockTtl: number; blockIpv6Prefix: 64 | 128; neverBlock: readonly string[] } {
  return {
    batchSize: Math.max(cfg.batchSize, 1) * 4,
    streamDepth: cfg.streamDepth,
    streamMemcap: cfg.streamMemcap,
    maxInspectPackets: cfg.inspectCap.packets,
    flowCapPolicy: cfg.inspectCap.policy,
    defaultBlockTtl: cfg.defaultBlockTtlSec,
    blockIpv6Prefix: cfg.blockIpv6Prefix,
    neverBlock: cfg.neverBlock,
  };
}

function sameEngineSettings(a: DaemonConfig, b: DaemonConfig): boolean {
  const x = engineSettings(a);
  const y = engineSettings(b);
  return (Object.keys(x) as (keyof typeof x)[]).every((k) => JSON.stringify(x[k]) === JSON.stringify(y[k]));
}
