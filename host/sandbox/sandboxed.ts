// A module instance in its own worker thread, behind the engine's synchronous
// ModuleRunner contract. The host thread writes each batch into shared memory,
// wakes the worker and blocks in Atomics.wait for at most the CPU budget; a
// module that does not answer in time is terminated with its worker, so an
// infinite loop costs one budget, never the process. What a failure does next
// (keep, quarantine, recreate with backoff) is the FailureGovernor's call; the
// packets of the failed call get the module's fail-open/fail-closed verdict
// from the engine, which sees the SecuxflowError thrown here.
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { SecuxflowError, type ErrorCode } from '../errors.js';
import { isVerdict } from '../verdict.js';
import { DEFAULT_LIMITS } from '../wasm/abi.js';
import type { CompiledInspector } from '../wasm/loader.js';
import type { BatchOutput, FlowEndOutput, InspectItem, InspectorLogger, InspectorOptions, ModuleEvent, ModuleEventKind, OutputDrops } from '../wasm/types.js';
import type { ModuleRunner } from '../engine/engine.js';
import { BatchWriter } from './batch-writer.js';
import { FailureGovernor, trappedOutOfMemory, type FailureKind, type RunnerCounters } from './governor.js';
import { memoryCeilingPages, resolveLimits, WASM_PAGE, type ModulePolicy, type SandboxLimits } from './limits.js';
import {
  CMD_BATCH, CMD_EXIT, CMD_FLOW_ENDS, CTRL, FLOW_END_QUEUE, RESULT_MEMORY, RESULT_OK, RESULT_STATUS, RESULT_TRAP,
  STATE_IDLE, STATE_REQUEST, type WorkerInit, type WorkerMessage,
} from './protocol.js';
import { sandboxWorkerPath } from './worker-script.js';
import { defaultLogger } from '../wasm/logger.js';

export interface RunnerOptions extends InspectorOptions {
  /** What a failure does (default fail-closed). */
  policy?: ModulePolicy;
  limits?: Partial<SandboxLimits>;
  /**
   * The most linear memory the module can have (its declared maximum, as
   * lowered to the ceiling): a trap with this much is memory exhausted,
   * which recreates the instance rather than counting toward quarantine.
   */
  memoryMaxBytes?: number;
}

/** A module ready to run in a worker: a capped core module, or a transpiled component. */
export interface SandboxModule {
  name: string;
  kind: 'core' | 'component';
  module?: WebAssembly.Module;
  componentEntry?: string;
}

export { defaultLogger };

interface Live {
  worker: Worker;
  port: MessagePort;
  ctrl: Int32Array;
  writer: BatchWriter;
  verdicts: Uint8Array;
  verdictArgs: Uint16Array;
  flowIds: BigInt64Array;
  memPages: number;
}

class RequestFailure extends Error {
  constructor(readonly kind: FailureKind, readonly code: ErrorCode, message: string) {
    super(message);
  }
}

/**
 * A batch failure in the running module: `failure` says what the module did,
 * `next` what the runner does about it (at run time: the instance keeps
 * running, is recreated, or is quarantined). A caller for which `next` is
 * wrong (validation, where nothing runs on) words its own message from
 * `failure`.
 */
export class ModuleRunFailure extends SecuxflowError {
  constructor(code: ErrorCode, readonly failure: string, readonly next: string) {
    super(code, `${failure}; ${next}`);
  }
}

export class SandboxedInspector implements ModuleRunner {
  readonly name: string;
  readonly limits: SandboxLimits;
  readonly batchCapacity: number;
  readonly dataCapacity: number;
  private readonly governor: FailureGovernor;
  private readonly logger: InspectorLogger;
  private source: SandboxModule;
  private config: Uint8Array | null;
  private readonly opts: RunnerOptions;
  private live: Live | null = null;
  /** Flow ids to hand to on_flow_end before the next request, and where each one's output goes. */
  private readonly endQueue: number[] = [];
  private readonly endOutputs: (FlowEndOutput | undefined)[] = [];
  /** endOutputs of the flow ends the request in flight carries, by their place in its list. */
  private sentOutputs: (FlowEndOutput | undefined)[] = [];
  private flushScheduled = false;
  private inflight: { items: readonly InspectItem[]; count: number; out: BatchOutput; n: number; t0: bigint; live: Live } | null = null;

  private constructor(source: SandboxModule, opts: RunnerOptions) {
    this.name = source.name;
    this.source = source;
    this.opts = opts;
    this.limits = resolveLimits(opts.limits);
    this.batchCapacity = opts.batchCapacity ?? DEFAULT_LIMITS.BATCH_CAPACITY;
    this.dataCapacity = opts.dataCapacity ?? DEFAULT_LIMITS.DATA_CAPACITY;
    this.logger = opts.logger ?? defaultLogger;
    this.config = typeof opts.config === 'string' ? new TextEncoder().encode(opts.config) : opts.config ?? null;
    this.governor = new FailureGovernor(this.name, opts.policy ?? 'fail-closed', this.limits, this.logger);
  }

  /** Starts the worker and runs instantiation and on_init; a failure here refuses the module (nothing is governed yet). */
  static async create(source: SandboxModule | CompiledInspector, opts: RunnerOptions = {}): Promise<SandboxedInspector> {
    const src: SandboxModule = 'kind' in source ? source : { name: source.name, kind: 'core', module: source.module };
    const self = new SandboxedInspector(src, opts);
    self.live = self.spawn(src);
    return self;
  }

  get policy(): ModulePolicy {
    return this.governor.policy;
  }

  /** Bytes of linear memory the module used after its last call. */
  get memoryBytes(): number {
    return (this.live?.memPages ?? 0) * WASM_PAGE;
  }

  stats(): RunnerCounters {
    return this.governor.snapshot();
  }

  /**
   * What the module dropped so far, the flow ends already handed to it
   * included: those still queued are delivered first. The engine's finish()
   * ends the capture's last flows and then reads this at once, before the
   * microtask that would deliver them; without the flush their drops were
   * missing from the run's counters and EVE stats (in-thread runs had them).
   */
  outputDrops(): OutputDrops {
    this.flushFlowEnds();
    return this.governor.drops();
  }

  /** Verdict bytes outside 0..5 so far (each treated as CONTINUE): checked here, as the worker's answers arrive. */
  verdictErrors(): number {
    return this.governor.counters.verdictErrors;
  }

  inspect(items: readonly InspectItem[], count: number, out: BatchOutput): void {
    this.start(items, count, out);
    this.finish();
  }

  /**
   * Hands the first part of a batch to the worker and returns at once;
   * finish() waits for it (and runs any further parts). A caller with several
   * sandboxed modules can start them all, then finish them all, so the
   * modules run at the same time on different cores.
   */
  start(items: readonly InspectItem[], count: number, out: BatchOutput): void {
    if (count > items.length || out.verdicts.length < count || out.verdictArgs.length < count) {
      throw new SecuxflowError('E_INTERNAL', `inspect(${count}) on ${items.length} items with room for ${Math.min(out.verdicts.length, out.verdictArgs.length)} verdicts`);
    }
    if (this.inflight !== null) throw new SecuxflowError('E_INTERNAL', `module ${this.name}: start() while a batch is in flight (call finish() first)`);
    if (count === 0) return;
    const live = this.ready(count);
    const { n, used } = live.writer.fill(items, 0, count);
    const t0 = process.hrtime.bigint();
    this.post(live, CMD_BATCH, n, used, count);
    this.inflight = { items, count, out, n, t0, live };
  }

  /** Completes the batch given to start(); throws the module's failure like inspect(). */
  finish(): void {
    const f = this.inflight;
    if (f === null) return;
    this.inflight = null;
    const { items, count, out, live } = f;
    let done = 0;
    let n = f.n;
    let t0 = f.t0;
    for (;;) {
      let msg: WorkerMessage | undefined;
      try {
        msg = this.wait(live, CMD_BATCH, n);
      } catch (e) {
        throw this.failed(e, count);
      }
      this.governor.recordBatch(Number(process.hrtime.bigint() - t0), n);
      const status = Atomics.load(live.ctrl, CTRL.RESULT) === RESULT_STATUS ? Atomics.load(live.ctrl, CTRL.STATUS) : 0;
      this.collect(live, msg, done, n, status, out);
      done += n;
      if (done >= count) return;
      const next = live.writer.fill(items, done, count);
      n = next.n;
      t0 = process.hrtime.bigint();
      this.post(live, CMD_BATCH, n, next.used);
    }
  }

  flowEnded(flowId: number, output?: FlowEndOutput): void {
    if (this.live === null) return;
    this.endQueue.push(flowId);
    this.endOutputs.push(output);
    // Flow ends ride along with the next request; the ones left when the
    // caller yields (the end of a capture) are delivered on their own then.
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => { this.flushScheduled = false; this.flushFlowEnds(); });
    }
    if (this.endQueue.length >= FLOW_END_QUEUE) this.flushFlowEnds();
  }

  /**
   * Replaces the module between two batches: the new instance is started and
   * initialised first, and only then takes over, so no packet is lost or seen
   * twice. On failure the old instance keeps running and the error is thrown.
   */
  async swap(next: SandboxModule | CompiledInspector, config?: Uint8Array | string): Promise<void> {
    const src: SandboxModule = 'kind' in next ? next : { name: next.name, kind: 'core', module: next.module };
    const cfg = config === undefined ? this.config : typeof config === 'string' ? new TextEncoder().encode(config) : config;
    const saved = this.config;
    this.config = cfg;
    let fresh: Live;
    try {
      fresh = this.spawn(src);
    } catch (e) {
      this.config = saved;
      throw e;
    }
    this.flushFlowEnds();
    this.kill();
    this.live = fresh;
    this.source = src;
  }

  /** Stops the worker; further batches get the failure policy. */
  close(): void {
    this.flushFlowEnds();
    this.kill();
  }

  /** Answers the queued flow ends now (their output is delivered before this returns). */
  flushFlowEnds(): void {
    // A batch in flight takes the queued ends with its next request instead.
    while (this.live !== null && this.inflight === null && this.endQueue.length > 0) {
      // No packets to apply a policy to: a failure is recorded and the run goes on.
      try { this.request(this.live, CMD_FLOW_ENDS, 0, 0); } catch (e) { this.failed(e, 0); }
    }
  }

  private ready(count: number): Live {
    const gate = this.governor.gate(this.live === null);
    if (gate === 'run' && this.live !== null) return this.live;
    if (gate === 'blocked') {
      this.governor.counters.policyPackets += count;
      const g = this.governor;
      throw g.status === 'quarantined'
        ? new SecuxflowError('E_MODULE_QUARANTINED', `module ${this.name} is quarantined: ${g.quarantineReason}`, 'fix the module and load it again (secuxflow module load)')
        : new SecuxflowError('E_MODULE_QUARANTINED', `module ${this.name} is waiting to be recreated after: ${g.lastError}`);
    }
    this.kill();
    try {
      this.live = this.spawn(this.source);
    } catch (e) {
      this.governor.onFailure('init', e instanceof Error ? e.message : String(e));
      this.governor.counters.policyPackets += count;
      throw e instanceof SecuxflowError ? e : new SecuxflowError('E_MODULE_TRAP', String(e));
    }
    this.governor.restarted();
    return this.live;
  }

  private failed(e: unknown, count: number): SecuxflowError {
    this.governor.counters.policyPackets += count;
    const f = e instanceof RequestFailure ? e : new RequestFailure('trap', 'E_MODULE_TRAP', e instanceof Error ? e.message : String(e));
    const full = f.kind === 'trap' && trappedOutOfMemory(this.memoryBytes, this.opts.memoryMaxBytes);
    const action = this.governor.onFailure(full ? 'exhausted' : f.kind, f.message);
    if (action !== 'keep' || f.kind === 'cpu' || f.kind === 'memory') this.kill();
    const next = action === 'quarantine' ? 'the module is quarantined'
      : action === 'restart' ? (full ? 'its memory is full: the instance will be recreated' : 'the instance will be recreated (policy reload)')
      : 'the instance keeps running';
    return new ModuleRunFailure(f.code, f.message, next);
  }

  /** Sends one request and waits for it within the CPU budget. */
  private request(live: Live, cmd: number, count: number, used: number): WorkerMessage | undefined {
    this.post(live, cmd, count, used);
    return this.wait(live, cmd, count);
  }

  /** batchPackets: the whole engine batch's packet count on its first request, else 0. */
  private post(live: Live, cmd: number, count: number, used: number, batchPackets = 0): void {
    const c = live.ctrl;
    c[CTRL.CMD] = cmd;
    c[CTRL.FIRST] = batchPackets;
    c[CTRL.COUNT] = count;
    c[CTRL.DATA_USED] = used;
    // The worker is idle here, so the shared flow-id queue can be rewritten.
    const q = this.endQueue;
    const ends = Math.min(q.length, FLOW_END_QUEUE);
    for (let i = 0; i < ends; i++) live.flowIds[i] = BigInt(q[i]!);
    q.splice(0, ends);
    this.sentOutputs = this.endOutputs.splice(0, ends);
    c[CTRL.FLOW_ENDS] = ends;
    Atomics.store(c, CTRL.TAKEN, 0);
    Atomics.store(c, CTRL.STATE, STATE_REQUEST);
    Atomics.notify(c, CTRL.STATE);
  }

  private wait(live: Live, cmd: number, count: number): WorkerMessage | undefined {
    const c = live.ctrl;
    let answered = this.await(c, STATE_REQUEST, this.limits.cpuBudgetMs);
    // A worker the OS has not scheduled yet has not used any of its budget: give it that time once more.
    if (!answered && Atomics.load(c, CTRL.TAKEN) === 0) answered = this.await(c, STATE_REQUEST, this.limits.cpuBudgetMs);
    if (!answered) {
      throw new RequestFailure('cpu', 'E_MODULE_LIMIT',
        `module ${this.name} used its CPU budget of ${this.limits.cpuBudgetMs} ms in ${cmd === CMD_BATCH ? `a batch of ${count} packets` : 'on_flow_end'} and was stopped (its worker was terminated)`);
    }
    Atomics.store(c, CTRL.STATE, STATE_IDLE);
    this.takeDrops(c);
    live.memPages = Atomics.load(c, CTRL.MEM_PAGES);
    const msg = Atomics.load(c, CTRL.HAS_MESSAGE) ? receiveMessageOnPort(live.port)?.message as WorkerMessage | undefined : undefined;
    const result = Atomics.load(c, CTRL.RESULT);
    if (msg?.logs) for (const l of msg.logs) this.logger(this.name, l.level, l.message);
    if (msg?.flowEnds) this.deliverFlowOutputs(msg.flowEnds);
    if (result === RESULT_TRAP) throw new RequestFailure('trap', 'E_MODULE_TRAP', msg?.error?.message ?? `module ${this.name} trapped`);
    if (result === RESULT_MEMORY) {
      throw new RequestFailure('memory', 'E_MODULE_LIMIT',
        `module ${this.name} holds ${live.memPages * 64} KiB of memory, above its ceiling of ${this.limits.memoryMiB} MiB`);
    }
    return msg;
  }

  /** Hands what on_flow_end raised to the engine, as the in-thread runner does; without an output it is dropped and counted. */
  private deliverFlowOutputs(ends: NonNullable<WorkerMessage['flowEnds']>): void {
    const c = this.governor.counters;
    for (const { at, alerts, events } of ends) {
      const output = this.sentOutputs[at];
      if (output === undefined) {
        c.alertsDropped += alerts.length;
        c.eventsDropped += events.length;
        continue;
      }
      c.alerts += alerts.length;
      c.events += events.length;
      output(alerts, events.map((ev): ModuleEvent => ({ index: -1, kind: ev.kind as ModuleEventKind, data: ev.data })));
    }
  }

  /** Counts what the worker's instance dropped during the request it answered (a trapped one too). */
  private takeDrops(c: Int32Array): void {
    this.governor.addDrops({
      alertsDropped: Atomics.load(c, CTRL.ALERTS_DROPPED),
      eventsDropped: Atomics.load(c, CTRL.EVENTS_DROPPED),
      logsDropped: Atomics.load(c, CTRL.LOGS_DROPPED),
    });
  }

  /** Waits while ctrl[STATE] === from, at most budgetMs; true when the worker answered. */
  private await(c: Int32Array, from: number, budgetMs: number): boolean {
    const deadline = performance.now() + budgetMs;
    for (;;) {
      const left = deadline - performance.now();
      if (Atomics.load(c, CTRL.STATE) !== from) return true;
      if (left <= 0) return false;
      Atomics.wait(c, CTRL.STATE, from, left);
    }
  }

  private collect(live: Live, msg: WorkerMessage | undefined, start: number, n: number, status: number, out: BatchOutput): void {
    const { verdicts, verdictArgs } = out;
    if (status !== 0) {
      this.governor.onFailure('status', `on_batch returned status ${status}; its ${n} verdicts are treated as CONTINUE`);
      verdicts.fill(0, start, start + n);
      verdictArgs.fill(0, start, start + n);
    } else {
      const v = live.verdicts;
      const a = live.verdictArgs;
      for (let i = 0; i < n; i++) {
        const x = v[i]!;
        if (isVerdict(x)) {
          verdicts[start + i] = x;
          verdictArgs[start + i] = a[i]!;
        } else {
          this.governor.counters.verdictErrors++;
          verdicts[start + i] = 0;
          verdictArgs[start + i] = 0;
        }
      }
    }
    if (msg === undefined) return;
    if (msg.alerts) {
      for (const al of msg.alerts) out.alerts.push({ ...al, index: al.index < 0 ? -1 : al.index + start });
      this.governor.counters.alerts += msg.alerts.length;
    }
    if (msg.events) {
      for (const ev of msg.events) out.events.push({ index: ev.index < 0 ? -1 : ev.index + start, kind: ev.kind as ModuleEventKind, data: ev.data });
      this.governor.counters.events += msg.events.length;
    }
  }

  /** Starts a worker for src and waits (bounded) until it has run on_init. */
  private spawn(src: SandboxModule): Live {
    const cap = this.batchCapacity;
    const ctrlBuf = new SharedArrayBuffer(CTRL.SIZE * 4);
    const dataBuf = new SharedArrayBuffer(BatchWriter.bufferSize(cap, this.dataCapacity));
    const outBuf = new SharedArrayBuffer(((cap + 1) & ~1) + cap * 2);
    const flowBuf = new SharedArrayBuffer(FLOW_END_QUEUE * 8);
    const o = this.opts;
    const init: WorkerInit = {
      name: src.name,
      kind: src.kind,
      ...(src.module ? { module: src.module } : {}),
      ...(src.componentEntry ? { componentEntry: src.componentEntry } : {}),
      config: this.config,
      batchCapacity: cap,
      dataCapacity: this.dataCapacity,
      maxMemoryBytes: memoryCeilingPages(this.limits) * WASM_PAGE,
      clock: o.clock ?? 'wall',
      budgets: {
        alertBudget: o.alertBudget ?? DEFAULT_LIMITS.ALERTS_PER_BATCH,
        eventBudget: o.eventBudget ?? DEFAULT_LIMITS.EVENTS_PER_BATCH,
        logBudget: o.logBudget ?? DEFAULT_LIMITS.LOGS_PER_CALL,
        maxJsonBytes: o.maxJsonBytes ?? DEFAULT_LIMITS.MAX_JSON_BYTES,
        maxMessageBytes: o.maxMessageBytes ?? DEFAULT_LIMITS.MAX_MESSAGE_BYTES,
      },
      ctrl: ctrlBuf, data: dataBuf, out: outBuf, flowIds: flowBuf,
    };
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(sandboxWorkerPath(), {
      workerData: { init, port: port2 },
      transferList: [port2],
      // The JS heap of the worker (alert arrays, component glue) is bounded too; wasm memory is capped separately.
      resourceLimits: { maxOldGenerationSizeMb: 128, maxYoungGenerationSizeMb: 16 },
      stdout: false,
      stderr: false,
    });
    worker.unref();
    port1.unref();
    // Errors surface through the protocol; an 'error' event must not crash the host.
    worker.on('error', () => {});
    const ctrl = new Int32Array(ctrlBuf);
    const kill = (): void => { port1.close(); void worker.terminate(); };
    if (!this.await(ctrl, STATE_IDLE, this.limits.initBudgetMs)) {
      kill();
      throw new SecuxflowError('E_MODULE_LIMIT', `module ${src.name} did not finish instantiation and on_init within ${this.limits.initBudgetMs} ms (a start function or on_init that never returns?); it was stopped`,
        'fix the module; a slow but legitimate init can get more time with --init-budget-ms');
    }
    const msg = Atomics.load(ctrl, CTRL.HAS_MESSAGE) ? receiveMessageOnPort(port1)?.message as WorkerMessage | undefined : undefined;
    if (msg?.logs) for (const l of msg.logs) this.logger(src.name, l.level, l.message);
    if (Atomics.load(ctrl, CTRL.RESULT) !== RESULT_OK) {
      kill();
      const err = msg?.error;
      throw new SecuxflowError((err?.code ?? 'E_MODULE_TRAP') as ErrorCode, err?.message ?? `module ${src.name} failed to start`, err?.hint);
    }
    Atomics.store(ctrl, CTRL.STATE, STATE_IDLE);
    this.takeDrops(ctrl);
    const writer = new BatchWriter(dataBuf, cap, this.dataCapacity);
    writer.metaPtr = Atomics.load(ctrl, CTRL.META_PTR) >>> 0;
    return {
      worker, port: port1, ctrl, writer,
      verdicts: new Uint8Array(outBuf, 0, cap),
      verdictArgs: new Uint16Array(outBuf, (cap + 1) & ~1, cap),
      flowIds: new BigInt64Array(flowBuf),
      memPages: Atomics.load(ctrl, CTRL.MEM_PAGES),
    };
  }

  private kill(): void {
    const live = this.live;
    if (live === null) return;
    this.live = null;
    this.endQueue.length = 0;
    this.endOutputs.length = 0;
    Atomics.store(live.ctrl, CTRL.CMD, CMD_EXIT);
    Atomics.store(live.ctrl, CTRL.STATE, STATE_REQUEST);
    Atomics.notify(live.ctrl, CTRL.STATE);
    live.port.close();
    void live.worker.terminate();
  }
}

