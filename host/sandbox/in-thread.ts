// The same failure policy as the sandbox, for a module running in the host's
// own thread (--unsafe-in-thread: benchmarks and trusted modules). There is no
// CPU budget here: a module that loops forever blocks the host. The memory
// ceiling is still enforced (declared maximum lowered at load, size checked
// after each batch).
import { SecuxflowError } from '../errors.js';
import type { ModuleRunner } from '../engine/engine.js';
import type { BatchOutput, FlowEndOutput, InspectItem, InspectorLogger, OutputDrops } from '../wasm/types.js';
import { FailureGovernor, trappedOutOfMemory, type RunnerCounters } from './governor.js';
import { memoryCeilingPages, resolveLimits, WASM_PAGE, type ModulePolicy, type SandboxLimits } from './limits.js';
import { defaultLogger, type RunnerOptions } from './sandboxed.js';

/** What an in-thread runner drives: InspectorInstance or a ComponentInspector. */
export interface InThreadInstance {
  inspect(items: readonly InspectItem[], count: number, out: BatchOutput): void;
  flowEnded(flowId: number, output?: FlowEndOutput): void;
  readonly memoryBytes: number;
  /**
   * Since the instance was created. verdictErrors: verdict bytes outside 0..5
   * (InspectorInstance counts them); timeNs: time inside the module's batch
   * calls, which the runner records per batch instead of reading the clock again.
   */
  readonly stats: OutputDrops & { readonly verdictErrors?: number; readonly timeNs: number };
}

export type InstanceFactory = () => Promise<InThreadInstance>;

export class InThreadInspector implements ModuleRunner {
  readonly name: string;
  readonly limits: SandboxLimits;
  private readonly governor: FailureGovernor;
  private instance: InThreadInstance | null;
  private pending: Promise<void> | null = null;
  private readonly ceiling: number;
  private readonly memoryMaxBytes: number | undefined;

  private constructor(name: string, private readonly factory: InstanceFactory, first: InThreadInstance, opts: RunnerOptions, logger: InspectorLogger) {
    this.name = name;
    this.limits = resolveLimits(opts.limits);
    this.ceiling = memoryCeilingPages(this.limits) * WASM_PAGE;
    this.memoryMaxBytes = opts.memoryMaxBytes;
    this.governor = new FailureGovernor(name, opts.policy ?? 'fail-closed', this.limits, logger);
    this.instance = first;
  }

  static async create(name: string, factory: InstanceFactory, opts: RunnerOptions = {}): Promise<InThreadInspector> {
    return new InThreadInspector(name, factory, await factory(), opts, opts.logger ?? defaultLogger);
  }

  get policy(): ModulePolicy {
    return this.governor.policy;
  }

  get memoryBytes(): number {
    return this.instance?.memoryBytes ?? 0;
  }

  stats(): RunnerCounters {
    return { ...this.governor.snapshot(), ...this.outputDrops() };
  }

  verdictErrors(): number {
    return this.governor.counters.verdictErrors;
  }

  outputDrops(): OutputDrops {
    // The governor holds what replaced instances dropped; the live one's count is added here.
    const d = this.governor.drops();
    const s = this.instance?.stats;
    if (s) {
      d.alertsDropped += s.alertsDropped;
      d.eventsDropped += s.eventsDropped;
      d.logsDropped += s.logsDropped;
    }
    return d;
  }

  inspect(items: readonly InspectItem[], count: number, out: BatchOutput): void {
    if (count === 0) return;
    const inst = this.ready(count);
    const timeBefore = inst.stats.timeNs;
    const alertsBefore = out.alerts.length;
    const eventsBefore = out.events.length;
    const verdictErrors = inst.stats.verdictErrors ?? 0;
    try {
      inst.inspect(items, count, out);
    } catch (e) {
      throw this.fail('trap', e instanceof Error ? e.message : String(e), count);
    }
    // The instance counts them; the runner's total outlives a replaced instance.
    this.governor.counters.verdictErrors += (inst.stats.verdictErrors ?? 0) - verdictErrors;
    this.governor.recordBatch(inst.stats.timeNs - timeBefore, count);
    this.governor.counters.alerts += out.alerts.length - alertsBefore;
    this.governor.counters.events += out.events.length - eventsBefore;
    if (inst.memoryBytes > this.ceiling) {
      throw this.fail('memory', `module ${this.name} holds ${inst.memoryBytes / 1024} KiB of memory, above its ceiling of ${this.limits.memoryMiB} MiB`, count);
    }
  }

  flowEnded(flowId: number, output?: FlowEndOutput): void {
    if (this.instance === null) return;
    const counters = this.governor.counters;
    try {
      this.instance.flowEnded(flowId, output && ((alerts, events) => {
        counters.alerts += alerts.length;
        counters.events += events.length;
        output(alerts, events);
      }));
    } catch (e) {
      this.fail('trap', e instanceof Error ? e.message : String(e), 0);
    }
  }

  close(): void {
    this.retire();
  }

  /** Drops the instance, keeping its drop counts in the runner's totals. */
  private retire(): void {
    if (this.instance !== null) this.governor.addDrops(this.instance.stats);
    this.instance = null;
  }

  private ready(count: number): InThreadInstance {
    const gate = this.governor.gate(this.instance === null);
    if (gate === 'run' && this.instance !== null) return this.instance;
    if (gate === 'restart' && this.pending === null) {
      this.pending = this.factory().then(
        (inst) => { this.instance = inst; this.governor.restarted(); },
        (e: unknown) => { this.governor.onFailure('init', e instanceof Error ? e.message : String(e)); },
      ).finally(() => { this.pending = null; });
    }
    this.governor.counters.policyPackets += count;
    throw new SecuxflowError('E_MODULE_QUARANTINED', this.governor.status === 'quarantined'
      ? `module ${this.name} is quarantined: ${this.governor.quarantineReason}`
      : `module ${this.name} is being recreated after: ${this.governor.lastError}`);
  }

  private fail(kind: 'trap' | 'memory', message: string, count: number): SecuxflowError {
    this.governor.counters.policyPackets += count;
    const full = kind === 'trap' && trappedOutOfMemory(this.memoryBytes, this.memoryMaxBytes);
    const action = this.governor.onFailure(full ? 'exhausted' : kind, message);
    if (action !== 'keep' || kind === 'memory') this.retire();
    return new SecuxflowError(kind === 'memory' ? 'E_MODULE_LIMIT' : 'E_MODULE_TRAP', message);
  }
}
