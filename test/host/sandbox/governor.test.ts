// The failure policy in isolation, on a clock the test controls.
import { describe, expect, it } from 'vitest';
import { FailureGovernor } from '../../../host/sandbox/governor.js';
import { resolveLimits, type ModulePolicy } from '../../../host/sandbox/limits.js';

function governor(policy: ModulePolicy, over = {}) {
  let now = 0;
  const logs: string[] = [];
  const g = new FailureGovernor('m', policy, resolveLimits({ trapThreshold: 3, trapWindowMs: 1000, backoffBaseMs: 100, backoffMaxMs: 800, ...over }),
    (_m, level, msg) => { logs.push(`${level}: ${msg}`); }, () => now);
  return { g, logs, advance: (ms: number) => { now += ms; } };
}

describe('FailureGovernor', () => {
  it('quarantines after the threshold of traps within the window, not before, and logs with the module name', () => {
    const { g, logs, advance } = governor('fail-closed');
    expect(g.onFailure('trap', 't1')).toBe('keep');
    advance(600);
    expect(g.onFailure('trap', 't2')).toBe('keep');
    advance(600); // t1 is now outside the 1000 ms window
    expect(g.onFailure('trap', 't3')).toBe('keep');
    advance(10);
    expect(g.onFailure('trap', 't4')).toBe('quarantine');
    expect(g.status).toBe('quarantined');
    expect(g.gate(false)).toBe('blocked');
    expect(g.quarantineReason).toMatch(/3 traps within 1000 ms \(threshold 3\); last: t4/);
    expect(logs.filter((l) => l.startsWith('warn'))).toHaveLength(4);
    expect(logs.at(-1)).toMatch(/^error: quarantined \(fail-closed: its packets are dropped\)/);
    expect(g.snapshot().traps).toBe(4);
  });

  it('a dead instance (CPU budget, memory) is quarantined at once under fail-open/fail-closed', () => {
    for (const kind of ['cpu', 'memory'] as const) {
      const { g } = governor('fail-open');
      expect(g.onFailure(kind, 'x')).toBe('quarantine');
      expect(g.snapshot()[kind === 'cpu' ? 'cpuKills' : 'memoryKills']).toBe(1);
    }
  });

  it('reload recreates after a backoff that doubles per consecutive failure, capped, and forgives after a quiet window', () => {
    const { g, advance } = governor('reload');
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      expect(g.onFailure(i % 2 ? 'cpu' : 'trap', `f${i}`)).toBe('restart');
      let waited = 0;
      while (g.gate(true) === 'blocked') { advance(10); waited += 10; }
      delays.push(waited);
      g.restarted();
    }
    expect(delays).toEqual([100, 200, 400, 800, 800, 800]);
    expect(g.status).toBe('ok');
    expect(g.snapshot().restarts).toBe(6);
    advance(5000);
    g.onFailure('trap', 'after a quiet spell');
    let waited = 0;
    while (g.gate(true) === 'blocked') { advance(10); waited += 10; }
    expect(waited).toBe(100);
  });

  it('a non-zero on_batch status is counted but keeps the instance', () => {
    const { g } = governor('fail-closed');
    for (let i = 0; i < 10; i++) expect(g.onFailure('status', 's')).toBe('keep');
    expect(g.status).toBe('ok');
    expect(g.snapshot().batchErrors).toBe(10);
  });

  it('reports mean and p99 batch times', () => {
    const { g } = governor('fail-closed');
    for (let i = 1; i <= 100; i++) g.recordBatch(i * 1000, 10);
    const s = g.snapshot();
    expect(s.packets).toBe(1000);
    expect(s.batches).toBe(100);
    expect(s.meanBatchUs).toBe(50.5);
    expect(s.p99BatchUs).toBe(99);
  });
});
