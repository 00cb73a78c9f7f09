// What the sandbox worker drives: a core module instance (or a component, see
// host/wasm/component.ts). The batch is already in `data` in batch-area layout.
import type { WorkerMessage } from './protocol.js';
import type { OutputDrops } from '../wasm/types.js';

export interface BatchSink {
  alerts: NonNullable<WorkerMessage['alerts']>;
  events: NonNullable<WorkerMessage['events']>;
  logs: NonNullable<WorkerMessage['logs']>;
}

export interface WorkerBackend {
  /** Address of the batch area in module memory (0 for components, which get records as values). */
  readonly metaPtr: number;
  /** Runs `count` records from `data`; writes verdicts/args into out; returns on_batch's status. Throws on a trap. */
  runBatch(data: Uint8Array, count: number, dataUsed: number, verdicts: Uint8Array, verdictArgs: Uint16Array, sink: BatchSink): number;
  /** An engine batch of `packets` begins: its on_batch calls, and the flow ends that follow it, get fresh output budgets. */
  newBatch(packets: number): void;
  /** Ends a flow; what on_flow_end raises goes to sink (index -1: it belongs to the flow). */
  flowEnd(flowId: bigint, sink: BatchSink): void;
  /** Counters of the instance since it was created. */
  readonly stats: OutputDrops;
  /** Current linear memory size in bytes. */
  memoryBytes(): number;
}
