// A component inside the sandbox worker: the batch arrives in batch-area
// layout (pointers are offsets into `data`), is read into pooled records and
// handed to the component through jco's bindings.
import { META } from '../wasm/abi.js';
import { ComponentRuntime, emptyRecord, recordFromMeta, type PacketRecord } from '../wasm/component.js';
import type { WorkerInit } from './protocol.js';
import type { BatchSink, WorkerBackend } from './worker-backend.js';

export class ComponentBackend implements WorkerBackend {
  readonly metaPtr = 0;
  private readonly pool: PacketRecord[] = [];
  private dv: DataView | null = null;

  private constructor(private readonly runtime: ComponentRuntime) {}

  static async create(init: WorkerInit, logs: BatchSink['logs']): Promise<WorkerBackend> {
    const runtime = await ComponentRuntime.create(init.name, init.componentEntry!, {
      ...(init.config ? { config: init.config } : {}),
      ...init.budgets,
      clock: init.clock,
      maxMemoryPages: Math.floor(init.maxMemoryBytes / 65536),
      logger: (_m, level, message) => { logs.push({ level, message }); },
    });
    return new ComponentBackend(runtime);
  }

  runBatch(data: Uint8Array, count: number, _dataUsed: number, verdicts: Uint8Array, verdictArgs: Uint16Array, sink: BatchSink): number {
    if (this.dv === null || this.dv.buffer !== data.buffer) this.dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    while (this.pool.length < count) this.pool.push(emptyRecord());
    for (let i = 0; i < count; i++) recordFromMeta(this.pool[i]!, data, this.dv, i * META.SIZE);
    this.runtime.run(this.pool, count, verdicts, verdictArgs, sink as unknown as Parameters<ComponentRuntime['run']>[4]);
    return 0;
  }

  get stats(): ComponentRuntime['stats'] {
    return this.runtime.stats;
  }

  newBatch(packets: number): void {
    this.runtime.newBatch(packets);
  }

  flowEnd(flowId: bigint, sink: BatchSink): void {
    this.runtime.flowEnd(flowId, sink as unknown as Parameters<ComponentRuntime['flowEnd']>[1]);
  }

  memoryBytes(): number {
    return this.runtime.memoryBytes();
  }
}
