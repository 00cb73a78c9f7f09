// One instantiated inspector, reused for every batch.
//
// Memory contract (docs/abi/v1.md "Memory"): at creation the host asks the
// module's sf_alloc ONCE for the batch area and never frees it:
//
//   batchPtr                     batchPtr + 64*capacity           + dataCapacity
//   | meta[0] | meta[1] | ... |  packet bytes, stream bytes ... |
//
// Every batch rewrites the same area: meta records first (64 bytes each,
// little-endian), then each packet's frame followed by its stream bytes.
// Config bytes are placed with one more sf_alloc and belong to the module.
// Pointer 0 means "none". Views over memory.buffer are rebuilt whenever the
// module grows its memory (the old ArrayBuffer is then detached).
import { SecuxflowError } from '../errors.js';
import { MAX_VERDICT } from '../verdict.js';
import { DEFAULT_LIMITS, META, Status } from './abi.js';
import type { CompiledInspector } from './loader.js';
import { createHostcalls, newStats, OutputBudgets, type HostcallState, type OutputBudget } from './hostcalls.js';
import type { BatchOutput, FlowEndOutput, InspectItem, InspectorOptions, InspectorStats, ModuleLogLevel } from './types.js';
import { defaultLogger } from './logger.js';
import { BatchPacker, type BatchArea } from './batch-packer.js';
import { printable } from '../text.js';
import { clear } from '../arrays.js';

export type { BatchOutput, FlowEndOutput, InspectItem, InspectorOptions, InspectorStats, ModuleAlert, ModuleEvent, ModuleEventKind, InspectorLogger } from './types.js';

// readVerdicts() spells these out as numbers: V8 loads and checks a module's
// top-level const on every use in a loop (see batch-packer.ts). The verdict
// byte and its argument share the record's last word (15) with FLAGS.
if (META.SIZE !== 64 || META.FLAGS >> 2 !== 15 || (META.VERDICT - META.FLAGS) * 8 !== 8 || (META.VERDICT_ARG - META.FLAGS) * 8 !== 16 || MAX_VERDICT !== 5) {
  throw new SecuxflowError('E_INTERNAL', 'inspector instance: the verdict read-back no longer matches the ABI v1 record layout in abi.ts');
}

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new SecuxflowError('E_INTERNAL', 'the inspector host needs a little-endian machine (ABI v1 meta records are little-endian)');
}


/** What an ABI v1 core module exports; the sandbox's CoreBackend calls the same ones. */
export interface ModuleExports {
  memory: WebAssembly.Memory;
  sf_alloc: (size: number) => number;
  on_init: (ptr: number, len: number) => number;
  on_batch: (ptr: number, count: number) => number;
  on_flow_end: (flowId: bigint) => void;
}

const EMPTY_OUTPUT: Pick<BatchOutput, 'alerts' | 'events'> = { alerts: [], events: [] };

export class InspectorInstance {
  readonly name: string;
  readonly stats: InspectorStats = newStats();
  /** Meta records per on_batch call. */
  readonly batchCapacity: number;
  /** Bytes of packet and stream data per on_batch call. */
  readonly dataCapacity: number;
  /** Linear memory the module may not exceed. */
  readonly maxMemoryBytes: number;

  private readonly exports: ModuleExports;
  private readonly state: HostcallState;
  private readonly budgets: OutputBudgets;
  private metaPtr = 0;
  private dataPtr = 0;
  private buf: ArrayBuffer;
  private u8: Uint8Array;
  private i32: Int32Array;
  private area: BatchArea;
  private readonly packer = new BatchPacker();

  private constructor(name: string, exports: ModuleExports, state: HostcallState, batchCapacity: number, dataCapacity: number, maxMemoryBytes: number) {
    this.name = name;
    this.maxMemoryBytes = maxMemoryBytes;
    this.exports = exports;
    this.state = state;
    this.budgets = new OutputBudgets(state.limits);
    this.batchCapacity = batchCapacity;
    this.dataCapacity = dataCapacity;
    this.buf = exports.memory.buffer;
    this.u8 = new Uint8Array(this.buf);
    this.i32 = new Int32Array(this.buf);
    this.area = this.newArea();
  }

  /** Instantiates the module once, places the batch area and the config, and runs on_init. */
  static async create(compiled: CompiledInspector, opts: InspectorOptions = {}): Promise<InspectorInstance> {
    const name = compiled.name;
    const batchCapacity = positiveInt('batchCapacity', opts.batchCapacity ?? DEFAULT_LIMITS.BATCH_CAPACITY);
    const dataCapacity = positiveInt('dataCapacity', opts.dataCapacity ?? DEFAULT_LIMITS.DATA_CAPACITY);
    const maxMemoryBytes = positiveInt('maxMemoryBytes', opts.maxMemoryBytes ?? DEFAULT_LIMITS.MAX_MEMORY_BYTES);
    const logger = opts.logger ?? defaultLogger;
    const state: HostcallState = {
      module: name,
      memory: null,
      sink: EMPTY_OUTPUT,
      discard: true,
      chunkStart: 0,
      chunkCount: 0,
      budget: { alerts: 0, events: 0, logs: 0 },
      lastError: null,
      packetSec: 0,
      packetNsec: 0,
      limits: {
        alertBudget: nonNegativeInt('alertBudget', opts.alertBudget ?? DEFAULT_LIMITS.ALERTS_PER_BATCH),
        eventBudget: nonNegativeInt('eventBudget', opts.eventBudget ?? DEFAULT_LIMITS.EVENTS_PER_BATCH),
        logBudget: nonNegativeInt('logBudget', opts.logBudget ?? DEFAULT_LIMITS.LOGS_PER_CALL),
        maxJsonBytes: nonNegativeInt('maxJsonBytes', opts.maxJsonBytes ?? DEFAULT_LIMITS.MAX_JSON_BYTES),
        maxMessageBytes: nonNegativeInt('maxMessageBytes', opts.maxMessageBytes ?? DEFAULT_LIMITS.MAX_MESSAGE_BYTES),
      },
      stats: null,
      logger,
      now: opts.now ?? (opts.clock === 'packet' ? null : wallClockNs),
    };
    let instance: WebAssembly.Instance;
    try {
      instance = await WebAssembly.instantiate(compiled.module, { secuxflow: createHostcalls(state) });
    } catch (e) {
      throw trapError(name, 'instantiation (start function)', e, state.lastError);
    }
    const exports = instance.exports as unknown as ModuleExports;
    state.memory = exports.memory;
    const self = new InspectorInstance(name, exports, state, batchCapacity, dataCapacity, maxMemoryBytes);
    self.checkMemory('instantiation');
    state.stats = self.stats;
    self.placeBatchArea();
    self.checkMemory('sf_alloc (batch area)');
    self.runInit(opts.config);
    return self;
  }

  private placeBatchArea(): void {
    // +7 lets us align the meta records to 8 bytes whatever the allocator returns.
    const size = this.batchCapacity * META.SIZE + this.dataCapacity + 7;
    const ptr = this.call('sf_alloc', () => this.exports.sf_alloc(size), size) >>> 0;
    this.refreshViews();
    if (ptr === 0 || ptr + size > this.buf.byteLength) throw batchAreaError(this.name, size, ptr);
    this.metaPtr = (ptr + 7) & ~7;
    this.dataPtr = this.metaPtr + this.batchCapacity * META.SIZE;
    this.area = this.newArea();
  }

  private newArea(): BatchArea {
    return {
      u8: this.u8, i32: this.i32, metaAt: this.metaPtr, dataAt: this.dataPtr, base: 0,
      capacity: this.batchCapacity, dataCapacity: this.dataCapacity,
    };
  }

  private runInit(config: Uint8Array | string | undefined): void {
    const bytes = typeof config === 'string' ? new TextEncoder().encode(config) : config;
    let ptr = 0;
    const len = bytes?.length ?? 0;
    if (bytes && len > 0) {
      ptr = this.call('sf_alloc', () => this.exports.sf_alloc(len)) >>> 0;
      this.refreshViews();
      if (ptr === 0 || ptr + len > this.buf.byteLength) {
        throw new SecuxflowError('E_MODULE_CONFIG', `module ${this.name}: sf_alloc(${len}) for its config returned ${ptr}`, 'the config is too large for the module\'s memory');
      }
      this.u8.set(bytes, ptr);
    }
    const status = this.callback('on_init', () => this.exports.on_init(ptr, len), EMPTY_OUTPUT, 0, 0, this.budgets.batch);
    if (status !== Status.OK) throw configRefused(this.name, `on_init status ${status}`, this.state.lastError);
  }

  /**
   * Runs items[0..count) through the module: verdicts[i], verdictArgs[i] for
   * items[i]; alerts and events are appended with indices into items. Inputs
   * larger than the batch area are split into several on_batch calls, which
   * share one output budget.
   */
  inspect(items: readonly InspectItem[], count: number, out: BatchOutput): void {
    if (count > items.length || out.verdicts.length < count || out.verdictArgs.length < count) {
      throw new SecuxflowError('E_INTERNAL', `inspect(${count}) on ${items.length} items with room for ${Math.min(out.verdicts.length, out.verdictArgs.length)} verdicts`);
    }
    const st = this.state;
    const packer = this.packer;
    this.budgets.renew(count);
    let start = 0;
    while (start < count) {
      this.refreshViews();
      const n = packer.pack(this.area, items, start, count);
      // The packet clock: the newest packet time handed over so far.
      const sec = packer.newestSec;
      if (sec > st.packetSec || (sec === st.packetSec && packer.newestNsec > st.packetNsec)) {
        st.packetSec = sec;
        st.packetNsec = packer.newestNsec;
      }
      this.runBatch(start, n, out);
      start += n;
    }
  }

  private runBatch(start: number, n: number, out: BatchOutput): void {
    // performance.now() rather than hrtime.bigint(): no BigInt per batch, still sub-microsecond.
    const t0 = performance.now();
    const status = this.callback('on_batch', () => this.exports.on_batch(this.metaPtr, n), out, start, n, this.budgets.batch);
    this.stats.timeNs += Math.round((performance.now() - t0) * 1e6);
    this.stats.batches++;
    this.stats.packets += n;
    if (status !== Status.OK) {
      // A module that says the batch failed gave no trustworthy verdicts.
      const errors = ++this.stats.batchErrors;
      // A module failing every batch must not flood the log: report the 1st, 2nd, 4th, 8th...
      if ((errors & (errors - 1)) === 0) {
        this.state.logger(this.name, 'warn', `on_batch returned status ${status}${this.state.lastError ? ` (${printable(this.state.lastError)})` : ''}; its ${n} verdicts are treated as CONTINUE (${errors} failed batch${errors === 1 ? '' : 'es'} so far)`);
      }
      out.verdicts.fill(0, start, start + n);
      out.verdictArgs.fill(0, start, start + n);
      return;
    }
    // callback() refreshed the views (checkMemory) if the module grew its memory.
    this.readVerdicts(start, n, out);
  }

  /**
   * Verdicts of records 0..n to out[start..]. A method of its own because
   * runBatch's closure over n would make the loop read n from the heap.
   */
  private readVerdicts(start: number, n: number, out: BatchOutput): void {
    const i32 = this.i32;
    const verdicts = out.verdicts;
    const verdictArgs = out.verdictArgs;
    const end = start + n;
    // Most packets get CONTINUE with no argument, so both outputs start zeroed
    // (two fills) and the loop stores only the others. Once any ArrayBuffer in
    // the process has been detached (a module's memory.grow does it), every
    // typed-array access pays a detached check: this spares two of three.
    verdicts.fill(0, start, end);
    verdictArgs.fill(0, start, end);
    let w = (this.metaPtr >> 2) + 15;
    let errors = 0;
    for (let i = start; i < end; i++, w += 16) {
      const last = i32[w]!;
      // VERDICT (bits 8-15) and VERDICT_ARG (16-31) both 0: CONTINUE, already written.
      if (last >>> 8 === 0) continue;
      const v = (last >>> 8) & 0xff;
      if (v <= 5) {
        verdicts[i] = v;
        verdictArgs[i] = last >>> 16;
      } else {
        errors++;
      }
    }
    if (errors > 0) this.stats.verdictErrors += errors;
  }

  /**
   * Runs on_batch again over the first `count` records as the last inspect()
   * left them, without rewriting anything: the module's own cost, for
   * benchmarks. Returns the module's status.
   */
  replayBatch(count: number): number {
    if (!Number.isInteger(count) || count < 1 || count > this.batchCapacity) {
      throw new SecuxflowError('E_USAGE', `replayBatch: count ${count} is outside 1..${this.batchCapacity}`);
    }
    return this.exports.on_batch(this.metaPtr, count);
  }

  /**
   * Tells the module a flow is over (its state may be freed). The alerts and
   * events it emits (pkt_index -1: they belong to the flow) go to `output`
   * when given, and are dropped and counted otherwise.
   */
  flowEnded(flowId: number, output?: FlowEndOutput): void {
    const id = BigInt.asIntN(64, BigInt(flowId));
    const out = output === undefined ? EMPTY_OUTPUT : { alerts: [], events: [] };
    this.callback('on_flow_end', () => { this.exports.on_flow_end(id); return 0; }, out, 0, 0, this.budgets.flowEnd());
    if (output !== undefined && (out.alerts.length > 0 || out.events.length > 0)) output(out.alerts, out.events);
  }

  outputDrops(): InspectorStats {
    return this.stats;
  }

  /** Verdict bytes outside 0..5 so far (each treated as CONTINUE), for the engine's counters. */
  verdictErrors(): number {
    return this.stats.verdictErrors;
  }

  /** Bytes of linear memory the module currently uses. */
  get memoryBytes(): number {
    return this.exports.memory.buffer.byteLength;
  }

  private refreshViews(): void {
    const b = this.exports.memory.buffer;
    if (b === this.buf) return;
    this.buf = b;
    this.u8 = new Uint8Array(b);
    this.i32 = new Int32Array(b);
    this.area = this.newArea();
  }

  private callback(what: string, fn: () => number, sink: Pick<BatchOutput, 'alerts' | 'events'>, chunkStart: number, chunkCount: number, budget: OutputBudget): number {
    const s = this.state;
    s.sink = sink;
    s.discard = sink === EMPTY_OUTPUT;
    s.chunkStart = chunkStart;
    s.chunkCount = chunkCount;
    s.budget = budget;
    s.lastError = null;
    try {
      const result = this.call(what, fn);
      this.checkMemory(what);
      return result;
    } finally {
      s.sink = EMPTY_OUTPUT;
      s.discard = true;
      clear(EMPTY_OUTPUT.alerts);
      clear(EMPTY_OUTPUT.events);
    }
  }

  /** Memory only grows, so one check after each callback is enough. Also refreshes the views. */
  private checkMemory(what: string): void {
    this.refreshViews();
    const size = this.buf.byteLength;
    if (size <= this.maxMemoryBytes) return;
    this.stats.traps++;
    throw new SecuxflowError('E_MODULE_TRAP', `module ${this.name} grew its memory to ${size} bytes in ${what}, over the host limit of ${this.maxMemoryBytes} bytes`,
      'the module leaks or was given too much data; declare a smaller maximum memory in the module or raise maxMemoryBytes');
  }

  private call<T>(what: string, fn: () => T, batchAreaBytes?: number): T {
    try {
      return fn();
    } catch (e) {
      this.stats.traps++;
      throw trapError(this.name, what, e, this.state.lastError, this.exports.memory.buffer.byteLength, batchAreaBytes);
    }
  }
}

/**
 * A module's own words (its last error log line) as they may be quoted in a
 * message the user's terminal shows: control characters escaped, so a hostile
 * module can neither send terminal escapes nor forge lines such as a "hint:".
 */
export function configRefused(module: string, status: string, lastError: string | null): SecuxflowError {
  return new SecuxflowError('E_MODULE_CONFIG', `module ${module} refused its configuration (${status})${lastError ? `: ${printable(lastError)}` : ''}`,
    'check the module\'s README for its config fields');
}

/** sf_alloc gave no room for the batch area: 0 is out of memory, anything else past the end is a broken allocator. */
export function batchAreaError(module: string, size: number, ptr: number): SecuxflowError {
  return ptr === 0
    ? new SecuxflowError('E_MODULE_INVALID', `module ${module}: sf_alloc(${size}) for the batch area returned 0 (out of memory)`,
      'give the module a larger maximum memory, or raise the sandbox memory ceiling (--memory-mib)')
    : new SecuxflowError('E_MODULE_INVALID', `module ${module}: sf_alloc(${size}) for the batch area returned ${ptr}, outside its memory`,
      'its sf_alloc must return memory of its own: the module\'s allocator has a bug');
}

/**
 * The error for a trap. `memoryBytes` is the module's memory at the trap: an
 * AssemblyScript module whose allocation finds memory.grow refused aborts
 * with a bare `unreachable`, so the size is what tells an author it ran out.
 */
export function trapError(module: string, what: string, e: unknown, lastError: string | null, memoryBytes?: number, batchAreaBytes?: number): SecuxflowError {
  if (e instanceof SecuxflowError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  const detail = lastError ? ` (module said: ${printable(lastError)})` : '';
  // A trap while starting means there is no instance to keep.
  const starting = what.startsWith('instantiation') || what.startsWith('sf_alloc') || what === 'on_init';
  const mib = (n: number): string => (n / (1024 * 1024)).toFixed(1);
  // The batch area is the host's own request, made before the module does anything: a limit that cannot hold it is the cause, not the module.
  if (batchAreaBytes !== undefined && /unreachable/i.test(msg)) {
    return new SecuxflowError('E_MODULE_TRAP', `module ${module} trapped in ${what}: ${msg}${detail}`,
      `sf_alloc could not place the batch area, the ${mib(batchAreaBytes)} MiB the host asks for once to hand over packets: the module's memory limit leaves no room for it, so raise it (module load --memory-mib ${Math.ceil(batchAreaBytes / (1024 * 1024)) + 1} or more)`);
  }
  const outOfMemory = memoryBytes !== undefined && /unreachable/i.test(msg)
    ? `; it had ${mib(memoryBytes)} MiB of memory: a bare "unreachable" near the module's memory limit (--memory-mib, 64 MiB unless set) is usually an allocation that found no room, so free per-flow state in on_flow_end or raise the limit`
    : '';
  return new SecuxflowError('E_MODULE_TRAP', `module ${module} trapped in ${what}: ${msg}${detail}`, (starting
    ? 'the module failed while starting and was not loaded: it has a bug, or its config is one it cannot handle'
    : 'the module has a bug or hit a limit; the host keeps the instance, so later batches still run') + outOfMemory);
}

function wallClockNs(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
}

function positiveInt(field: string, v: number): number {
  if (!Number.isInteger(v) || v <= 0) throw new SecuxflowError('E_USAGE', `inspector option ${field} must be a positive integer, got ${v}`);
  return v;
}

function nonNegativeInt(field: string, v: number): number {
  if (!Number.isInteger(v) || v < 0) throw new SecuxflowError('E_USAGE', `inspector option ${field} must be a non-negative integer, got ${v}`);
  return v;
}

export type { ModuleLogLevel };
