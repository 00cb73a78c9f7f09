// Applies the configured scheduling to the calling queue thread. A queue
// thread woken by its socket must run at once: under load on a small machine
// a normal-policy thread waits behind the sender, softirq work and the
// daemon's own helper threads, and that wait, not the batch, was most of the
// verdict latency's p99 (docs/live.md, "Scheduling"). Only the queue threads
// change; the main thread and V8's helper threads keep the default policy.
import { SecuxflowError } from '../errors.js';
import { setThreadScheduling } from '../kernel/native.js';
import type { QueueScheduling } from './config.js';

export interface SchedulingState {
  /** What the config asks for. */
  wanted: QueueScheduling;
  /** Whether the thread runs with it. */
  applied: boolean;
  /** The queue thread's id (0 when unknown). */
  tid: number;
  /** Why it is not applied. */
  error: string | null;
}

/** Never throws: a thread that cannot be changed keeps inspecting with the policy it had, and says why. */
export function applyScheduling(wanted: QueueScheduling, prev: SchedulingState | null = null): SchedulingState {
  try {
    const tid = setThreadScheduling(wanted);
    return { wanted, applied: true, tid, error: null };
  } catch (e) {
    const message = e instanceof SecuxflowError ? `${e.code}: ${e.message}${e.hint ? ` (${e.hint})` : ''}` : String(e);
    return { wanted, applied: false, tid: prev?.tid ?? 0, error: message };
  }
}
