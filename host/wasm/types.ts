// The host-side public interface of inspector instances: options, inputs and
// outputs. docs/abi/v1.md describes what the module sees of the same data.
import type { DecodedPacket } from '../packet/types.js';

export type ModuleLogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Receives a module's log_message lines (and host warnings about the module). */
export type InspectorLogger = (module: string, level: ModuleLogLevel, message: string) => void;

export interface InspectorOptions {
  /** Configuration handed to on_init (JSON text or raw bytes). Default: none (on_init(0, 0)). */
  config?: Uint8Array | string;
  /** Meta records in the batch area; larger inputs are split into several on_batch calls. Default 256. */
  batchCapacity?: number;
  /** Bytes for packet and stream data in the batch area. Default 1 MiB. */
  dataCapacity?: number;
  /** What get_time_ns returns, in ns since the epoch. Default: the newest packet time of the batch when `clock` is 'packet', else the wall clock. */
  now?: () => bigint;
  /** Source of get_time_ns when `now` is not given. Default 'wall'. */
  clock?: 'wall' | 'packet';
  /**
   * Alerts accepted per inspect() (all its on_batch calls), per run of
   * on_flow_end calls between two inspect()s, and in on_init; more get
   * LIMIT_REACHED and are counted. Default 256.
   */
  alertBudget?: number;
  /** Events accepted, over the same periods as alertBudget. Default 256. */
  eventBudget?: number;
  /** Log lines accepted, over the same periods as alertBudget. Default 32. */
  logBudget?: number;
  /** Largest alert metadata / event JSON in bytes. Default 16 KiB. */
  maxJsonBytes?: number;
  /** Largest alert message / log line in bytes. Default 1024. */
  maxMessageBytes?: number;
  /** Largest linear memory the module may reach, in bytes; past it a callback fails with E_MODULE_TRAP. Default 256 MiB. */
  maxMemoryBytes?: number;
  /** Where log lines go. Default: stderr, prefixed with the module name, debug lines hidden. */
  logger?: InspectorLogger;
}

/** One packet handed to a module. */
export interface InspectItem {
  pkt: DecodedPacket;
  flowId: number;
  /** 0 to server, 1 to client. */
  direction: 0 | 1;
  /** MetaFlag bits from the engine (FLOW_START, REASSEMBLED, STREAM_GAP...); MALFORMED and TRUNCATED are added from pkt. */
  flags: number;
  /** In-order stream bytes of this direction from its first byte, or null. */
  stream: Uint8Array | null;
  /** How many of the last stream bytes this packet added. */
  streamNew: number;
}

export interface ModuleAlert {
  /** Index in the items array, -1 when not tied to a packet. */
  index: number;
  sigId: number;
  severity: number;
  message: string;
  metadata: Record<string, unknown> | null;
}

export type ModuleEventKind = 'dns' | 'tls' | 'http' | 'ssh' | 'other';

export interface ModuleEvent {
  index: number;
  kind: ModuleEventKind;
  data: Record<string, unknown>;
}

/** Filled by inspect(): verdicts[i] and verdictArgs[i] for items[i]; alerts and events are appended. */
/** Where a module's alerts and events from on_flow_end go: they belong to the flow, not to a packet (index -1). */
export type FlowEndOutput = (alerts: readonly ModuleAlert[], events: readonly ModuleEvent[]) => void;

export interface BatchOutput {
  verdicts: Uint8Array;
  verdictArgs: Uint16Array;
  alerts: ModuleAlert[];
  events: ModuleEvent[];
}

/** What a module raised that reached no output: over a budget or a size cap, or raised where no batch takes it. */
export type OutputDrops = Pick<InspectorStats, 'alertsDropped' | 'eventsDropped' | 'logsDropped'>;

export interface InspectorStats {
  /** on_batch calls. */
  batches: number;
  packets: number;
  /** Alerts that reached the output (raised in on_batch, or in on_flow_end when the caller took them). */
  alerts: number;
  /**
   * Alerts that did not: refused with LIMIT_REACHED (budget or size), or
   * accepted in on_init or on_flow_end, where there is no batch to put them in.
   */
  alertsDropped: number;
  /** Events that reached the output, as alerts. */
  events: number;
  /** Events that did not: over the budget or size, or raised in on_init or on_flow_end. */
  eventsDropped: number;
  /** Log lines refused with LIMIT_REACHED (over the budget). */
  logsDropped: number;
  /** Verdict bytes outside 0..5 (treated as CONTINUE). */
  verdictErrors: number;
  /** on_batch calls that returned a non-zero status (their verdicts are treated as CONTINUE). */
  batchErrors: number;
  /** Hostcalls refused with BAD_ARGUMENT or OUT_OF_BOUNDS. */
  hostcallErrors: number;
  traps: number;
  /** Time spent inside on_batch, in nanoseconds. */
  timeNs: number;
}
