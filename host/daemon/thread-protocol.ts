// Messages between the daemon's main thread and its per-queue workers. Plain
// data only (structured clone): rule sets, module specs, counters.
import type { RuleSet } from '../rules/types.js';
import type { DaemonConfig } from './config.js';
import type { ModuleSpec } from './modules.js';
import type { ModuleStatus, QueueCounters } from './queue-worker.js';
import type { WriteBackCounters } from './writeback.js';
import type { EngineBounds } from '../engine/types.js';
import type { XskBindMode } from '../kernel/xsk.js';
import type { SchedulingState } from './scheduling.js';
import type { FlowSelector } from '../flow/selector.js';

export interface QueueThreadInit {
  iface: string;
  queue: number;
  /** bpffs directory of iface (sf_xsks, sf_flows... pinned there). */
  pinDir: string;
  bindMode: XskBindMode;
  /** Inline mode: the peer interface and its pin directory; passed packets are sent on its socket for the same queue. */
  peer: { iface: string; pinDir: string } | null;
  stateDir: string;
  config: DaemonConfig;
  rules: RuleSet;
  modules: ModuleSpec[];
  /** The queue's module-call stamp, read by the daemon's watchdog (watchdog.ts). */
  watch: SharedArrayBuffer;
}

export type ToWorker =
  /**
   * Every change is two-phase: each queue prepares it (loads the added
   * modules, builds its new engine) and switches only on commit, which the
   * daemon sends once every queue has prepared; otherwise it sends abort.
   * Null and empty fields leave that part as it is.
   */
  | { op: 'change.prepare'; id: number; rules: RuleSet | null; config: DaemonConfig | null; add: ModuleSpec[]; remove: string[] }
  | { op: 'change.commit'; id: number }
  | { op: 'change.abort'; id: number }
  /** An operator released these sources (every one when null) from the kernel's penalty box: the engine forgets them too. */
  | { op: 'penalty.release'; id: number; addrs: Uint8Array[] | null }
  /** An operator deleted the kernel's entries of the flows this picks: the engine forgets their verdicts too. */
  | { op: 'flow.release'; id: number; selector: FlowSelector }
  | { op: 'status'; id: number }
  | { op: 'stop'; id: number };

export interface SocketInfo {
  iface: string;
  queue: number;
  bindMode: string;
  fallbackReason: string | null;
  /** Descriptors per ring. */
  ringSize: number;
  rxPackets: number;
  rxRingFull: number;
  rxDropped: number;
  fillRingEmpty: number;
  txPackets: number;
}

export interface WorkerStatus {
  queue: number;
  sockets: SocketInfo[];
  delivery: { tap: string; delivered: number; failed: number } | null;
  counters: QueueCounters;
  writeBack: WriteBackCounters;
  engine: EngineBounds;
  modules: ModuleStatus[];
  scheduling: SchedulingState;
}

export type FromWorker =
  | { type: 'ready'; queue: number; sockets: SocketInfo[]; delivery: string | null }
  | { type: 'fatal'; queue: number; error: { code: string; message: string; hint?: string } }
  | { type: 'reply'; id: number; ok: true; result: unknown }
  | { type: 'reply'; id: number; ok: false; error: { code: string; message: string; hint?: string } }
  | { type: 'eve'; lines: string[] }
  /** Which module a call stamp's id names (sent before the module's first call). */
  | { type: 'module-id'; id: number; name: string }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; msg: string; fields: Record<string, unknown> };
