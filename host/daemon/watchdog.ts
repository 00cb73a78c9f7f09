// Modules run in their queue's own thread by default: a batch then costs no
// thread hop, which is most of an idle packet's verdict latency. What a
// sandbox worker gave them, a CPU budget per call, comes from this watchdog
// instead: the queue thread stamps each module call in shared memory, and the
// main thread, which never runs modules, checks the stamps on a timer. A call
// past its module's budget (an infinite loop, a pathological input) gets the
// whole queue thread terminated; the daemon restarts the queue and runs that
// module in its own sandbox worker from then on, where its budget is enforced
// per call without taking the queue down again.
import type { BatchOutput, FlowEndOutput, InspectItem, OutputDrops } from '../wasm/types.js';
import type { ModuleRunner } from '../engine/engine.js';
import type { ManagedRunner } from '../sandbox/runner.js';

/** Float64 cells per queue: call start (ms since the epoch, 0 when no call runs), module id, budget ms. */
const CELLS = 3;
const START = 0;
const MODULE = 1;
const BUDGET = 2;

export function newWatchCells(): SharedArrayBuffer {
  return new SharedArrayBuffer(CELLS * Float64Array.BYTES_PER_ELEMENT);
}

/** The queue thread's side: one stamp around each module call. */
export class CallStamp {
  private readonly cells: Float64Array;

  constructor(buffer: SharedArrayBuffer) {
    this.cells = new Float64Array(buffer);
  }

  enter(moduleId: number, budgetMs: number): void {
    // Start last: the watch reads it first and ignores the other cells while it is 0.
    this.cells[MODULE] = moduleId;
    this.cells[BUDGET] = budgetMs;
    this.cells[START] = Date.now();
  }

  leave(): void {
    this.cells[START] = 0;
  }
}

/** A module call that has run past its budget. */
export interface Overrun {
  moduleId: number;
  elapsedMs: number;
  budgetMs: number;
}

/** The main thread's side: reads one queue's stamp. */
export class CallWatch {
  private readonly cells: Float64Array;

  constructor(buffer: SharedArrayBuffer) {
    this.cells = new Float64Array(buffer);
  }

  overrun(nowMs: number = Date.now()): Overrun | null {
    const start = this.cells[START]!;
    if (start === 0) return null;
    const budgetMs = this.cells[BUDGET]!;
    const elapsedMs = nowMs - start;
    return elapsedMs > budgetMs ? { moduleId: this.cells[MODULE]!, elapsedMs, budgetMs } : null;
  }
}

/**
 * How often the main thread looks: once per default budget, so an overrun is
 * caught between one and two budgets after the call began. Looking more often
 * would cost an idle daemon CPU (each timer wake-up is ~0.1 ms on a VM).
 */
export function watchIntervalMs(budgetMs: number): number {
  return Math.min(100, Math.max(20, Math.floor(budgetMs)));
}

type Watchable = ModuleRunner & Partial<Pick<ManagedRunner, 'stats' | 'policy' | 'memoryBytes' | 'close'>> & { limits?: { cpuBudgetMs: number } };

/** Runs a module in this thread with every call stamped; status and closing pass through. */
export class StampedRunner implements ModuleRunner {
  constructor(
    readonly inner: Watchable,
    private readonly stamp: CallStamp,
    readonly moduleId: number,
    private readonly budgetMs: number,
  ) {}

  inspect(items: readonly InspectItem[], count: number, out: BatchOutput): void {
    this.stamp.enter(this.moduleId, this.budgetMs);
    try {
      this.inner.inspect(items, count, out);
    } finally {
      this.stamp.leave();
    }
  }

  flowEnded(flowId: number, output?: FlowEndOutput): void {
    this.stamp.enter(this.moduleId, this.budgetMs);
    try {
      this.inner.flowEnded(flowId, output);
    } finally {
      this.stamp.leave();
    }
  }

  get policy(): ManagedRunner['policy'] | undefined {
    return this.inner.policy;
  }

  get memoryBytes(): number {
    return this.inner.memoryBytes ?? 0;
  }

  stats(): ReturnType<ManagedRunner['stats']> | undefined {
    return this.inner.stats?.();
  }

  /** Verdict bytes outside 0..5 the module wrote (counted by the runner inside). */
  verdictErrors(): number {
    return this.inner.verdictErrors?.() ?? 0;
  }

  /** Without it the engine's totals (EVE stats) missed what thread-isolated modules dropped. */
  outputDrops(): OutputDrops {
    return this.inner.outputDrops?.() ?? { alertsDropped: 0, eventsDropped: 0, logsDropped: 0 };
  }

  close(): void {
    this.inner.close?.();
  }
}

/** The budget a runner declares (in-thread runners carry their resolved limits). */
export function budgetOf(runner: ModuleRunner, fallbackMs: number): number {
  const limits = (runner as Watchable).limits;
  return limits && typeof limits.cpuBudgetMs === 'number' ? limits.cpuBudgetMs : fallbackMs;
}
