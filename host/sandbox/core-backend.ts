// A core ABI v1 module inside the sandbox worker. Instantiation, sf_alloc of
// the batch area and on_init follow docs/abi/v1.md exactly as the in-thread
// InspectorInstance does; the difference is that batches arrive as one
// shared buffer copied into module memory with two set() calls.
import { SecuxflowError } from '../errors.js';
import { META, Status } from '../wasm/abi.js';
import { createHostcalls, newStats, OutputBudgets, type HostcallState, type OutputBudget } from '../wasm/hostcalls.js';
import { batchAreaError, configRefused, trapError, type ModuleExports } from '../wasm/instance.js';
import type { BatchSink, WorkerBackend } from './worker-backend.js';
import type { WorkerInit } from './protocol.js';

const NO_SINK = { alerts: [], events: [] };

export class CoreBackend implements WorkerBackend {
  readonly metaPtr: number;
  readonly stats = newStats();
  private readonly exports: ModuleExports;
  private readonly state: HostcallState;
  private readonly budgets: OutputBudgets;
  private readonly metaBytes: number;
  private mem: Uint8Array;
  private dv: DataView;

  constructor(init: WorkerInit, logSink: BatchSink['logs']) {
    const name = init.name;
    this.state = {
      module: name, memory: null, sink: NO_SINK, discard: true, chunkStart: 0, chunkCount: 0,
      budget: { alerts: 0, events: 0, logs: 0 }, lastError: null, packetSec: 0, packetNsec: 0,
      limits: init.budgets, stats: this.stats,
      logger: (_m, level, message) => { logSink.push({ level, message }); },
      now: init.clock === 'packet' ? null : () => BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6)),
    };
    this.budgets = new OutputBudgets(init.budgets);
    let instance: WebAssembly.Instance;
    try {
      instance = new WebAssembly.Instance(init.module!, { secuxflow: createHostcalls(this.state) });
    } catch (e) {
      throw trapError(name, 'instantiation (start function)', e, this.state.lastError);
    }
    this.exports = instance.exports as unknown as ModuleExports;
    this.state.memory = this.exports.memory;
    this.metaBytes = init.batchCapacity * META.SIZE;
    const size = this.metaBytes + init.dataCapacity + 7;
    const raw = this.call('sf_alloc', () => this.exports.sf_alloc(size), size) >>> 0;
    this.mem = new Uint8Array(this.exports.memory.buffer);
    this.dv = new DataView(this.exports.memory.buffer);
    if (raw === 0 || raw + size > this.mem.length) throw batchAreaError(name, size, raw);
    this.metaPtr = (raw + 7) & ~7;
    this.init(init.config);
  }

  private init(config: Uint8Array | null): void {
    let ptr = 0;
    const len = config?.length ?? 0;
    if (config && len > 0) {
      ptr = this.call('sf_alloc', () => this.exports.sf_alloc(len)) >>> 0;
      this.refresh();
      if (ptr === 0 || ptr + len > this.mem.length) {
        throw new SecuxflowError('E_MODULE_CONFIG', `module ${this.state.module}: sf_alloc(${len}) for its config returned ${ptr}`, 'the config is too large for the module\'s memory ceiling');
      }
      this.mem.set(config, ptr);
    }
    const status = this.enter('on_init', NO_SINK, 0, this.budgets.batch, () => this.exports.on_init(ptr, len));
    if (status !== Status.OK) throw configRefused(this.state.module, `on_init status ${status}`, this.state.lastError);
  }

  runBatch(data: Uint8Array, count: number, dataUsed: number, verdicts: Uint8Array, verdictArgs: Uint16Array, sink: BatchSink): number {
    this.refresh();
    const mem = this.mem;
    const base = this.metaPtr;
    mem.set(data.subarray(0, count * META.SIZE), base);
    if (dataUsed > 0) mem.set(data.subarray(this.metaBytes, this.metaBytes + dataUsed), base + this.metaBytes);
    if (this.state.now === null) this.advancePacketClock(count);
    const status = this.enter('on_batch', sink, count, this.budgets.batch, () => this.exports.on_batch(base, count));
    this.stats.batches++;
    this.stats.packets += count;
    this.refresh();
    const dv = this.dv;
    for (let i = 0, m = base; i < count; i++, m += META.SIZE) {
      verdicts[i] = this.mem[m + META.VERDICT]!;
      verdictArgs[i] = dv.getUint16(m + META.VERDICT_ARG, true);
    }
    return status;
  }

  newBatch(packets: number): void {
    this.budgets.renew(packets);
  }

  flowEnd(flowId: bigint, sink: BatchSink): void {
    this.enter('on_flow_end', sink, 0, this.budgets.flowEnd(), () => { this.exports.on_flow_end(BigInt.asIntN(64, flowId)); return 0; });
  }

  memoryBytes(): number {
    return this.exports.memory.buffer.byteLength;
  }

  /** The packet clock follows the newest capture time handed to the module. */
  private advancePacketClock(count: number): void {
    const dv = this.dv;
    const s = this.state;
    for (let i = 0, m = this.metaPtr; i < count; i++, m += META.SIZE) {
      const sec = dv.getUint32(m + META.TS_SEC, true);
      const nsec = dv.getUint32(m + META.TS_NSEC, true);
      if (sec > s.packetSec || (sec === s.packetSec && nsec > s.packetNsec)) {
        s.packetSec = sec;
        s.packetNsec = nsec;
      }
    }
  }

  private refresh(): void {
    if (this.mem.buffer !== this.exports.memory.buffer) {
      this.mem = new Uint8Array(this.exports.memory.buffer);
      this.dv = new DataView(this.exports.memory.buffer);
    }
  }

  private enter(what: string, sink: Pick<BatchSink, 'alerts' | 'events'>, count: number, budget: OutputBudget, fn: () => number): number {
    const s = this.state;
    s.sink = sink as HostcallState['sink'];
    s.discard = sink === NO_SINK;
    s.chunkStart = 0;
    s.chunkCount = count;
    s.budget = budget;
    s.lastError = null;
    try {
      return this.call(what, fn);
    } finally {
      s.sink = NO_SINK;
      s.discard = true;
    }
  }

  private call<T>(what: string, fn: () => T, batchAreaBytes?: number): T {
    try {
      return fn();
    } catch (e) {
      this.stats.traps++;
      throw trapError(this.state.module, what, e, this.state.lastError, this.exports.memory.buffer.byteLength, batchAreaBytes);
    }
  }
}
