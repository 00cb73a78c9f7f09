// What the demo needs from "the secuxflow side": the live daemon, or the
// offline fallback (kernel rules live, inspection from captures).
import type { Step } from './scenario.js';
import type { Eve } from './eve.js';
import type { Kind } from './printer.js';

export interface Sink {
  event(kind: Kind, text: string): void;
  eve(rec: Eve): void;
}

export interface Backend {
  readonly mode: 'live' | 'offline';
  /** Attaches and starts whatever inspects traffic; resolves when traffic may start. */
  start(): Promise<void>;
  beforeStep(index: number, step: Step): Promise<void>;
  /** Resolves once the step's events have been printed. */
  afterStep(index: number, step: Step): Promise<void>;
  /** Stops the daemon / detaches, reporting what it did. */
  stop(): Promise<void>;
  /** Lines for the summary (rule hit counters, daemon status...). */
  summary(): Promise<string[]>;
}
