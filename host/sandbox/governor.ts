// The failure policy of one module, shared by the sandboxed and the in-thread
// runner: traps are counted and logged with the module's name, too many traps
// quarantine the module, a dead instance (CPU budget, memory ceiling) is
// quarantined at once, and policy `reload` recreates the instance after an
// exponential backoff instead. A trap with the module's memory at its
// maximum recreates the instance under every policy: a flood of new flows
// fills any module's per-flow state, and quarantine would then hand the
// attacker the failure policy for good (all traffic dropped, or none inspected).
import type { InspectorLogger, OutputDrops } from '../wasm/types.js';
import type { ModulePolicy, SandboxLimits } from './limits.js';

export type RunnerStatus = 'ok' | 'quarantined' | 'backoff';
/** exhausted: a trap while the module's memory was at its maximum (its allocator ran out). */
export type FailureKind = 'trap' | 'status' | 'cpu' | 'memory' | 'init' | 'exhausted';

/** What the runner does after a failure. */
export type FailureAction = 'keep' | 'restart' | 'quarantine';

export interface RunnerCounters extends OutputDrops {
  packets: number;
  batches: number;
  alerts: number;
  events: number;
  traps: number;
  cpuKills: number;
  memoryKills: number;
  batchErrors: number;
  verdictErrors: number;
  restarts: number;
  /** Instances recreated because their memory was full (kind exhausted). */
  exhaustedResets: number;
  /** Packets that got the failure policy instead of a module verdict. */
  policyPackets: number;
  meanBatchUs: number;
  p99BatchUs: number;
  status: RunnerStatus;
  quarantineReason: string | null;
  lastError: string | null;
}

const RING = 1024;
/** An instance whose memory fills within fewer packets than this leaks: its trap counts as any other. */
const EXHAUSTED_AFTER_PACKETS = 10_000;

/**
 * Whether a module that trapped had run out of memory: its memory is within
 * a quarter of its maximum. A module cannot say why it trapped (an
 * allocator's failed grow is a bare `unreachable`), and the grow that failed
 * may have asked for more than was left: basic_inspect, rebuilding its flow
 * map under a flood of flows, trapped at 15.3 of its 16 MiB.
 */
export function trappedOutOfMemory(memoryBytes: number, maxBytes: number | undefined): boolean {
  return maxBytes !== undefined && memoryBytes >= maxBytes - maxBytes / 4;
}

export class FailureGovernor {
  status: RunnerStatus = 'ok';
  quarantineReason: string | null = null;
  lastError: string | null = null;
  readonly counters = {
    packets: 0, batches: 0, alerts: 0, events: 0, alertsDropped: 0, eventsDropped: 0, logsDropped: 0,
    traps: 0, cpuKills: 0, memoryKills: 0, batchErrors: 0, verdictErrors: 0, restarts: 0, exhaustedResets: 0, policyPackets: 0,
  };
  private readonly trapTimes: number[] = [];
  private consecutive = 0;
  private lastFailureAt = 0;
  private restartAt = 0;
  /** counters.packets when the instance was last recreated. */
  private packetsAtRestart = 0;
  private readonly times = new Float64Array(RING);
  private timeCount = 0;
  private timeTotalNs = 0;

  constructor(
    readonly module: string,
    readonly policy: ModulePolicy,
    private readonly limits: SandboxLimits,
    private readonly logger: InspectorLogger,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  recordBatch(ns: number, packets: number): void {
    this.counters.batches++;
    this.counters.packets += packets;
    this.times[this.timeCount % RING] = ns;
    this.timeCount++;
    this.timeTotalNs += ns;
  }

  /** Adds what an instance dropped (over its budgets) to the runner's totals, which outlive the instance. */
  addDrops(d: OutputDrops): void {
    this.counters.alertsDropped += d.alertsDropped;
    this.counters.eventsDropped += d.eventsDropped;
    this.counters.logsDropped += d.logsDropped;
  }

  drops(): OutputDrops {
    const c = this.counters;
    return { alertsDropped: c.alertsDropped, eventsDropped: c.eventsDropped, logsDropped: c.logsDropped };
  }

  /** May the module run now? 'restart' means: recreate the instance first. */
  gate(needsInstance: boolean): 'run' | 'restart' | 'blocked' {
    if (this.status === 'quarantined') return 'blocked';
    if (this.status === 'backoff' || needsInstance) {
      if (this.clock() < this.restartAt) return 'blocked';
      return 'restart';
    }
    return 'run';
  }

  restarted(): void {
    this.status = 'ok';
    this.counters.restarts++;
    this.packetsAtRestart = this.counters.packets;
    this.logger(this.module, 'info', `instance recreated (restart ${this.counters.restarts})`);
  }

  /** Records a failure and decides what happens to the instance. */
  onFailure(kind: FailureKind, message: string): FailureAction {
    const now = this.clock();
    this.lastError = message;
    if (kind === 'trap' || kind === 'init' || kind === 'exhausted') this.counters.traps++;
    if (kind === 'cpu') this.counters.cpuKills++;
    if (kind === 'memory') this.counters.memoryKills++;
    if (kind === 'status') this.counters.batchErrors++;
    // A quiet spell as long as the trap window forgives earlier failures.
    if (now - this.lastFailureAt > this.limits.trapWindowMs) this.consecutive = 0;
    this.lastFailureAt = now;
    this.consecutive++;
    this.logger(this.module, 'warn', message);
    if (kind === 'status') return 'keep';
    // Full after a flood's worth of packets: recreated at once, whatever the
    // policy. Full sooner is a leak, not a flood: it counts as any other trap.
    if (kind === 'exhausted' && this.counters.packets - this.packetsAtRestart >= EXHAUSTED_AFTER_PACKETS) {
      this.counters.exhaustedResets++;
      this.packetsAtRestart = this.counters.packets;
      this.restartAt = now;
      this.status = 'backoff';
      this.logger(this.module, 'warn', 'its memory is full after a flood of flows: recreating the instance; the flows it held start over');
      return 'restart';
    }
    const fatal = kind === 'cpu' || kind === 'memory' || kind === 'init';
    if (this.policy === 'reload') {
      const delay = Math.min(this.limits.backoffMaxMs, this.limits.backoffBaseMs * 2 ** Math.min(30, this.consecutive - 1));
      this.restartAt = now + delay;
      this.status = 'backoff';
      this.logger(this.module, 'warn', `policy reload: recreating the instance in ${Math.round(delay)} ms`);
      return 'restart';
    }
    if (fatal) return this.quarantine(message);
    this.trapTimes.push(now);
    while (this.trapTimes.length > 0 && now - this.trapTimes[0]! > this.limits.trapWindowMs) this.trapTimes.shift();
    if (this.trapTimes.length >= this.limits.trapThreshold) {
      return this.quarantine(`${this.trapTimes.length} traps within ${this.limits.trapWindowMs} ms (threshold ${this.limits.trapThreshold}); last: ${message}`);
    }
    return 'keep';
  }

  private quarantine(reason: string): FailureAction {
    this.status = 'quarantined';
    this.quarantineReason = reason;
    this.logger(this.module, 'error', `quarantined (${this.policy}: its packets are ${this.policy === 'fail-open' ? 'passed' : 'dropped'}): ${reason}`);
    return 'quarantine';
  }

  snapshot(): RunnerCounters {
    const n = Math.min(this.timeCount, RING);
    let p99 = 0;
    if (n > 0) {
      const sorted = Float64Array.from(this.times.subarray(0, n)).sort();
      p99 = sorted[Math.min(n - 1, Math.ceil(n * 0.99) - 1)]!;
    }
    return {
      ...this.counters,
      meanBatchUs: this.timeCount ? round(this.timeTotalNs / this.timeCount / 1000) : 0,
      p99BatchUs: round(p99 / 1000),
      status: this.status,
      quarantineReason: this.quarantineReason,
      lastError: this.lastError,
    };
  }
}

function round(v: number): number {
  return Math.round(v * 10) / 10;
}
