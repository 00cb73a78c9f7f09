// The module-call stamp the daemon's watchdog reads: every call of an
// in-thread module is visible while it runs, with its module and budget, a
// call past its budget is reported, and nothing stays stamped after a call,
// even one that throws. (The daemon test in test/kernel/daemon-host.test.ts
// runs a real infinite loop through it.)
import { describe, expect, it } from 'vitest';
import { CallStamp, CallWatch, newWatchCells, StampedRunner, budgetOf, watchIntervalMs } from '../../../host/daemon/watchdog.js';
import type { ModuleRunner } from '../../../host/engine/engine.js';
import type { BatchOutput, InspectItem } from '../../../host/wasm/types.js';
import { portVerdictModule } from '../engine/support.js';

function output(n: number): BatchOutput {
  return { verdicts: new Uint8Array(n), verdictArgs: new Uint16Array(n), alerts: [], events: [] } as unknown as BatchOutput;
}

function pair(): { stamp: CallStamp; watch: CallWatch } {
  const cells = newWatchCells();
  return { stamp: new CallStamp(cells), watch: new CallWatch(cells) };
}

/** A runner whose calls take `ms` of CPU and report what the watch saw meanwhile. */
class SlowRunner implements ModuleRunner {
  seen: ReturnType<CallWatch['overrun']>[] = [];
  constructor(private readonly ms: number, private readonly watch: CallWatch, private readonly fail = false) {}
  inspect(): void {
    const end = Date.now() + this.ms;
    while (Date.now() < end) { /* spin: a module busy with a hard input */ }
    this.seen.push(this.watch.overrun());
    if (this.fail) throw new Error('module failed');
  }
  flowEnded(): void {
    this.seen.push(this.watch.overrun(Date.now() + 1e9));
  }
}

describe('module-call watchdog', () => {
  it('a real module call is stamped while it runs and unstamped after; the stamp names the module and its budget', async () => {
    const { stamp, watch } = pair();
    const mod = await portVerdictModule();
    let during: ReturnType<CallWatch['overrun']> = null;
    const spy: ModuleRunner = {
      inspect: (items, count, out) => {
        mod.instance.inspect(items, count, out);
        during = watch.overrun(Date.now() + 10_000); // far enough ahead to be past any budget
      },
      flowEnded: (id) => mod.instance.flowEnded(id),
    };
    const r = new StampedRunner(spy, stamp, 7, 250);
    r.inspect([] as InspectItem[], 0, output(0));
    expect(during).not.toBeNull();
    expect(during!.moduleId).toBe(7);
    expect(during!.budgetMs).toBe(250);
    expect(watch.overrun(Date.now() + 10_000)).toBeNull();
  });

  it('the drop counts of the module it wraps pass through, so the engine\'s totals include thread-isolated modules', () => {
    const { stamp } = pair();
    const drops = { alertsDropped: 3, eventsDropped: 2, logsDropped: 1 };
    const inner: ModuleRunner = { inspect: () => {}, flowEnded: () => {}, outputDrops: () => drops };
    expect(new StampedRunner(inner, stamp, 1, 100).outputDrops()).toEqual(drops);
    expect(new StampedRunner({ inspect: () => {}, flowEnded: () => {} }, stamp, 2, 100).outputDrops()).toEqual({ alertsDropped: 0, eventsDropped: 0, logsDropped: 0 });
  });

  it('the invalid-verdict count of the module it wraps passes through, so a live run reports it as offline ones do', () => {
    const { stamp } = pair();
    expect(new StampedRunner({ inspect: () => {}, flowEnded: () => {}, verdictErrors: () => 4 }, stamp, 1, 100).verdictErrors()).toBe(4);
    expect(new StampedRunner({ inspect: () => {}, flowEnded: () => {} }, stamp, 2, 100).verdictErrors()).toBe(0);
  });

  it('a call past its budget is reported with how long it has run', () => {
    const { stamp, watch } = pair();
    const slow = new SlowRunner(40, watch);
    new StampedRunner(slow, stamp, 3, 10).inspect([], 0, output(0));
    expect(slow.seen[0]).not.toBeNull();
    expect(slow.seen[0]!.moduleId).toBe(3);
    expect(slow.seen[0]!.elapsedMs).toBeGreaterThanOrEqual(40);
  });

  it('a call within its budget is not reported', () => {
    const { stamp, watch } = pair();
    const quick = new SlowRunner(1, watch);
    new StampedRunner(quick, stamp, 1, 5_000).inspect([], 0, output(0));
    expect(quick.seen[0]).toBeNull();
  });

  it('a module that throws leaves no stamp behind, and flow-end calls are stamped too', () => {
    const { stamp, watch } = pair();
    const failing = new SlowRunner(1, watch, true);
    const r = new StampedRunner(failing, stamp, 2, 5);
    expect(() => r.inspect([], 0, output(0))).toThrow('module failed');
    expect(watch.overrun(Date.now() + 1e9)).toBeNull();
    r.flowEnded(1);
    expect(failing.seen[1]?.moduleId).toBe(2);
    expect(watch.overrun(Date.now() + 1e9)).toBeNull();
  });

  it('the budget comes from the runner when it declares limits; the check interval stays between 20 and 100 ms', () => {
    expect(budgetOf({ inspect: () => undefined, flowEnded: () => undefined, limits: { cpuBudgetMs: 30 } } as ModuleRunner, 100)).toBe(30);
    expect(budgetOf({ inspect: () => undefined, flowEnded: () => undefined }, 100)).toBe(100);
    expect(watchIntervalMs(5)).toBe(20);
    expect(watchIntervalMs(100)).toBe(100);
    expect(watchIntervalMs(60_000)).toBe(100);
  });
});
