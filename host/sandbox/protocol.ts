// The shared-memory protocol between a SandboxedInspector (host thread) and
// its worker. One request is in flight at a time:
//
//   host: writes the batch into `data`, sets CMD/COUNT/..., STATE = REQUEST, notify
//   worker: copies the batch into module memory (one set() per region), runs
//           on_batch, writes verdicts into `out`, posts alerts/events/logs on
//           its MessagePort when there are any, STATE = DONE, notify
//   host: Atomics.wait(STATE) with the CPU budget as timeout; on timeout it
//         terminates the worker.
//
// `data` mirrors the module's batch area byte for byte (meta records, then the
// data region), so the pointers the host writes are already module addresses.

export const CTRL = {
  STATE: 0,
  CMD: 1,
  COUNT: 2,
  DATA_USED: 3,
  /** Result of the request: RESULT_*. */
  RESULT: 4,
  /** 1 when the worker posted a message for this request. */
  HAS_MESSAGE: 5,
  /** Module memory size in pages after the request. */
  MEM_PAGES: 6,
  /** Flow ends queued in `flowIds` to deliver before the batch. */
  FLOW_ENDS: 7,
  /** Batch area address in module memory (set when the worker is ready). */
  META_PTR: 8,
  /** on_batch's status when RESULT is RESULT_STATUS. */
  STATUS: 9,
  /** Set by the worker when it takes a request: the budget only runs once the module does. */
  TAKEN: 10,
  /** On the first request of an engine batch, its packet count (0 otherwise): output budgets cover an engine batch, not one request. */
  FIRST: 11,
  /** Alerts, events and log lines the module dropped during this request (they travel to the runner's counters). */
  ALERTS_DROPPED: 12,
  EVENTS_DROPPED: 13,
  LOGS_DROPPED: 14,
  SIZE: 16,
} as const;

export const STATE_IDLE = 0;
export const STATE_REQUEST = 1;
export const STATE_DONE = 2;

export const CMD_BATCH = 1;
export const CMD_FLOW_ENDS = 2;
export const CMD_EXIT = 3;

export const RESULT_OK = 0;
/** The module trapped; the message carries the error. */
export const RESULT_TRAP = 1;
/** on_batch returned a non-zero status (verdicts are CONTINUE). */
export const RESULT_STATUS = 2;
/** Memory above the ceiling after the request. */
export const RESULT_MEMORY = 3;
/** Instantiation or on_init failed (ready phase); the message carries the error. */
export const RESULT_INIT_FAILED = 4;

/** Flow ids queued per request before a dedicated flush. */
export const FLOW_END_QUEUE = 1024;

export interface SerializedError {
  code: string;
  message: string;
  hint?: string;
}

export interface WorkerMessage {
  alerts?: { index: number; sigId: number; severity: number; message: string; metadata: Record<string, unknown> | null }[];
  events?: { index: number; kind: string; data: Record<string, unknown> }[];
  logs?: { level: 'debug' | 'info' | 'warn' | 'error'; message: string }[];
  error?: SerializedError;
  /** What on_flow_end raised for the request's flow ends: `at` is the flow id's place in the request's list. */
  flowEnds?: { at: number; alerts: NonNullable<WorkerMessage['alerts']>; events: NonNullable<WorkerMessage['events']> }[];
  /** Counters of the worker's instance (alerts dropped etc.). */
  stats?: Record<string, number>;
}

export interface WorkerInit {
  name: string;
  kind: 'core' | 'component';
  /** Core modules: the compiled module (already memory-capped). */
  module?: WebAssembly.Module;
  /** Components: directory of the transpiled JS, and its entry file. */
  componentEntry?: string;
  config: Uint8Array | null;
  batchCapacity: number;
  dataCapacity: number;
  maxMemoryBytes: number;
  clock: 'wall' | 'packet';
  budgets: { alertBudget: number; eventBudget: number; logBudget: number; maxJsonBytes: number; maxMessageBytes: number };
  ctrl: SharedArrayBuffer;
  data: SharedArrayBuffer;
  out: SharedArrayBuffer;
  flowIds: SharedArrayBuffer;
}
