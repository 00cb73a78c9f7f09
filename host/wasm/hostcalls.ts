// The secuxflow.* imports a module may call. Every pointer/length pair is
// checked against the module's memory (OUT_OF_BOUNDS), so a hostile module can
// get an error status but never crash or confuse the host.
import { DEFAULT_LIMITS, EventKind, LogLevel, NO_PACKET, Status } from './abi.js';
import { printable } from '../text.js';
import type { BatchOutput, InspectorLogger, InspectorStats, ModuleEventKind, ModuleLogLevel } from './types.js';

/** Per-instance state the hostcalls read; InspectorInstance updates it around each callback. */
export interface HostcallState {
  module: string;
  memory: WebAssembly.Memory | null;
  /** Where alerts/events of the current callback go. */
  sink: Pick<BatchOutput, 'alerts' | 'events'>;
  /** True outside on_batch without an output: alerts and events are accepted and dropped. */
  discard: boolean;
  /** Index in the caller's items array of this on_batch call's packet 0, and the call's packet count. */
  chunkStart: number;
  chunkCount: number;
  /** What the current callback may still output: one of an OutputBudgets' two. */
  budget: OutputBudget;
  /** Last error-level log line of the current callback, quoted in trap and config errors. */
  lastError: string | null;
  /** Newest packet time handed to the module, for the 'packet' clock (kept as numbers: no BigInt per packet). */
  packetSec: number;
  packetNsec: number;
  limits: { alertBudget: number; eventBudget: number; logBudget: number; maxJsonBytes: number; maxMessageBytes: number };
  stats: InspectorStats | null;
  logger: InspectorLogger;
  /** null = packet clock. */
  now: (() => bigint) | null;
}

export function newStats(): InspectorStats {
  return { batches: 0, packets: 0, alerts: 0, alertsDropped: 0, events: 0, eventsDropped: 0, logsDropped: 0, verdictErrors: 0, batchErrors: 0, hostcallErrors: 0, traps: 0, timeNs: 0 };
}

/** Alerts, events and log lines a module may still give before LIMIT_REACHED. */
export interface OutputBudget { alerts: number; events: number; logs: number }

/**
 * An instance's two output budgets. Per on_batch call they added up: an input
 * split into 16 calls held 16 budgets of alerts and events at once (51 MB of
 * heap per call with the worst JSON still allowed). So `batch` covers every
 * on_batch call of one engine batch, and `flowEnds` the on_flow_end calls
 * between two engine batches; renew() when an engine batch begins (on_init
 * and the flow ends before the first batch use the budgets as created).
 *
 * A batch's budget is the limits once per BATCH_CAPACITY packets of it: per
 * packet, as much as one full on_batch call had before, but never multiplied
 * by splits of large stream data (which were the memory problem). Flow ends
 * get the limits once per BATCH_CAPACITY of them (flowEnd() before each
 * call): what on_flow_end raises is output too (an unanswered HTTP request),
 * and the end of a capture ends every open flow in one gap.
 */
export class OutputBudgets {
  readonly batch: OutputBudget = { alerts: 0, events: 0, logs: 0 };
  readonly flowEnds: OutputBudget = { alerts: 0, events: 0, logs: 0 };
  private flowEndCalls = 0;

  constructor(private readonly limits: Pick<HostcallState['limits'], 'alertBudget' | 'eventBudget' | 'logBudget'>) {
    this.renew();
  }

  renew(packets = 0): void {
    this.fill(this.batch, Math.max(1, Math.ceil(packets / DEFAULT_LIMITS.BATCH_CAPACITY)));
    this.fill(this.flowEnds, 1);
    this.flowEndCalls = 0;
  }

  /** The budget of one more on_flow_end call. */
  flowEnd(): OutputBudget {
    if (this.flowEndCalls > 0 && this.flowEndCalls % DEFAULT_LIMITS.BATCH_CAPACITY === 0) this.fill(this.flowEnds, 1);
    this.flowEndCalls++;
    return this.flowEnds;
  }

  private fill(b: OutputBudget, times: number): void {
    b.alerts = this.limits.alertBudget * times;
    b.events = this.limits.eventBudget * times;
    b.logs = this.limits.logBudget * times;
  }
}

const EVENT_KINDS = new Map<number, ModuleEventKind>([
  [EventKind.DNS, 'dns'], [EventKind.TLS, 'tls'], [EventKind.HTTP, 'http'], [EventKind.SSH, 'ssh'], [EventKind.OTHER, 'other'],
]);
const LOG_LEVELS: ModuleLogLevel[] = ['debug', 'info', 'warn', 'error'];

/**
 * Deepest nesting accepted in alert metadata and event JSON. JSON.parse takes
 * any depth, but the EVE writer's JSON.stringify recurses: 16 KiB of '['
 * overflowed its stack and ended the run. Real protocol metadata nests 3 or 4 levels.
 */
export const MAX_JSON_DEPTH = 32;
/**
 * Most arrays and objects in one alert metadata or event JSON. 16 KiB of "{},"
 * parsed into 5400 objects, ~350 KB of heap; an engine batch's 512 alerts
 * and events then held 177 MB. A DNS answer list of 32 records needs 34.
 */
export const MAX_JSON_CONTAINERS = 256;

const utf8Lenient = new TextDecoder('utf-8');
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

export function createHostcalls(s: HostcallState): WebAssembly.ModuleImports {
  // s.memory is null while the module's start function runs (WebAssembly.instantiate
  // has not returned its exports yet): the hostcalls that read memory refuse first,
  // where they used to throw a TypeError that refused the module as a "trap".

  /** Bytes [ptr, ptr+len) of module memory, or null when out of bounds. */
  function bytes(ptr: number, len: number): Uint8Array | null {
    const p = ptr >>> 0;
    const l = len >>> 0;
    const buf = s.memory!.buffer;
    if (p + l > buf.byteLength) return null;
    return new Uint8Array(buf, p, l);
  }

  function refuse(status: number): number {
    if ((status === Status.BAD_ARGUMENT || status === Status.OUT_OF_BOUNDS) && s.stats) s.stats.hostcallErrors++;
    return status;
  }

  /** Maps a module's pkt_index to an index in the caller's items; -2 when invalid. */
  function packetIndex(i: number): number {
    if (i === NO_PACKET) return -1;
    if (i < 0 || i >= s.chunkCount) return -2;
    return s.chunkStart + i;
  }

  /** A JSON object from module memory, or a Status when it is not one. */
  function jsonObject(ptr: number, len: number): Record<string, unknown> | number {
    const b = bytes(ptr, len);
    return b === null ? Status.OUT_OF_BOUNDS : moduleJsonObject(b, s.limits.maxJsonBytes);
  }

  return {
    emit_alert(pktIndex: number, sigId: number, severity: number, msgPtr: number, msgLen: number, metaPtr: number, metaLen: number): number {
      if (s.memory === null) return refuse(Status.BAD_ARGUMENT);
      const index = packetIndex(pktIndex);
      if (index === -2 || sigId <= 0 || severity < 1 || severity > 255) return refuse(Status.BAD_ARGUMENT);
      const msg = bytes(msgPtr, msgLen);
      if (msg === null) return refuse(Status.OUT_OF_BOUNDS);
      // Refused before the metadata is parsed: past the budget, a loop of calls
      // with 16 KiB of JSON each cost the host ~70 µs apiece and the module nothing.
      if (msg.length > s.limits.maxMessageBytes || s.budget.alerts <= 0) {
        if (s.stats) s.stats.alertsDropped++;
        return Status.LIMIT_REACHED;
      }
      let metadata: Record<string, unknown> | null = null;
      if (metaPtr !== 0 || metaLen !== 0) {
        const m = jsonObject(metaPtr, metaLen);
        if (typeof m === 'number') {
          if (m === Status.LIMIT_REACHED && s.stats) s.stats.alertsDropped++;
          return refuse(m);
        }
        metadata = m;
      }
      s.budget.alerts--;
      // Outside on_batch it is accepted (docs/abi/v1.md) but reaches no output: counted as dropped, not as an alert.
      if (s.discard) {
        if (s.stats) s.stats.alertsDropped++;
        return Status.OK;
      }
      if (s.stats) s.stats.alerts++;
      s.sink.alerts.push({ index, sigId, severity, message: utf8Lenient.decode(msg), metadata });
      return Status.OK;
    },

    emit_event(pktIndex: number, kind: number, jsonPtr: number, jsonLen: number): number {
      if (s.memory === null) return refuse(Status.BAD_ARGUMENT);
      const index = packetIndex(pktIndex);
      const k = EVENT_KINDS.get(kind);
      if (index === -2 || k === undefined) return refuse(Status.BAD_ARGUMENT);
      if (s.budget.events <= 0) {
        if (s.stats) s.stats.eventsDropped++;
        return Status.LIMIT_REACHED;
      }
      const data = jsonObject(jsonPtr, jsonLen);
      if (typeof data === 'number') {
        if (data === Status.LIMIT_REACHED && s.stats) s.stats.eventsDropped++;
        return refuse(data);
      }
      s.budget.events--;
      if (s.discard) {
        if (s.stats) s.stats.eventsDropped++;
        return Status.OK;
      }
      if (s.stats) s.stats.events++;
      s.sink.events.push({ index, kind: k, data });
      return Status.OK;
    },

    log_message(level: number, ptr: number, len: number): number {
      if (s.memory === null) return refuse(Status.BAD_ARGUMENT);
      if (level < LogLevel.DEBUG || level > LogLevel.ERROR) return refuse(Status.BAD_ARGUMENT);
      const b = bytes(ptr, len);
      if (b === null) return refuse(Status.OUT_OF_BOUNDS);
      const tooLong = b.length > s.limits.maxMessageBytes;
      const text = utf8Lenient.decode(tooLong ? b.subarray(0, s.limits.maxMessageBytes) : b);
      // Errors are kept even past the budget: they explain a following trap or refusal.
      // Kept raw: escaped where quoted, so past the budget a flood of them costs only the decoding.
      if (level === LogLevel.ERROR) s.lastError = text;
      if (s.budget.logs <= 0) {
        if (s.stats) s.stats.logsDropped++;
        return Status.LIMIT_REACHED;
      }
      s.budget.logs--;
      try {
        s.logger(s.module, LOG_LEVELS[level]!, tooLong ? `${printable(text)}…` : printable(text));
      } catch {
        return Status.INTERNAL;
      }
      return tooLong ? Status.LIMIT_REACHED : Status.OK;
    },

    get_time_ns(): bigint {
      return s.now !== null ? s.now() : BigInt(s.packetSec) * 1_000_000_000n + BigInt(s.packetNsec);
    },
  };
}

/**
 * Alert metadata or event JSON a module gave as UTF-8 bytes: the object, or the
 * Status refusing it. Exported so every backend (core and component) holds
 * module JSON to the same size, shape and Unicode rules before it reaches EVE.
 */
export function moduleJsonObject(b: Uint8Array, maxJsonBytes: number): Record<string, unknown> | number {
  if (b.length > maxJsonBytes) return Status.LIMIT_REACHED;
  if (!reasonableShape(b)) return Status.BAD_ARGUMENT;
  let v: unknown;
  try {
    v = JSON.parse(utf8Strict.decode(b));
  } catch {
    return Status.BAD_ARGUMENT;
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return Status.BAD_ARGUMENT;
  return (hasSurrogateEscape(b) ? wellFormed(v) : v) as Record<string, unknown>;
}

/** True when the JSON text may hold a \\uD800-\\uDFFF escape (a rare false positive only costs a walk). */
function hasSurrogateEscape(b: Uint8Array): boolean {
  for (let i = 0; i + 2 < b.length; i++) {
    if (b[i] === 0x5c && b[i + 1] === 0x75 && (b[i + 2] === 0x64 || b[i + 2] === 0x44)) return true;
  }
  return false;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * The value with unpaired surrogates (from escapes such as "\\ud800", valid JSON
 * text) made U+FFFD, as in messages: written back out as escapes they made EVE
 * lines RFC 8259 leaves undefined, which not every parser accepts. Keys too.
 */
function wellFormed(v: unknown): unknown {
  if (typeof v === 'string') return v.replace(LONE_SURROGATE, '\ufffd');
  if (Array.isArray(v)) return v.map(wellFormed);
  if (v !== null && typeof v === 'object') {
    // fromEntries defines own keys, so a "__proto__" key stays a key.
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [wellFormed(k), wellFormed(x)]));
  }
  return v;
}

/** False when the JSON text nests arrays/objects deeper than MAX_JSON_DEPTH or has more than MAX_JSON_CONTAINERS (brackets inside strings do not count). */
function reasonableShape(b: Uint8Array): boolean {
  let depth = 0;
  let containers = 0;
  let inString = false;
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (inString) {
      if (c === 0x5c) i++; // backslash: the next byte is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > MAX_JSON_DEPTH || ++containers > MAX_JSON_CONTAINERS) return false;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return true;
}
