// on_flow_end reaches a sandboxed module once per flow it saw, including the
// flows that end with the capture (no batch follows them).
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openCapture } from '../../../host/capture/reader.js';
import { Engine } from '../../../host/engine/engine.js';
import { runCapture } from '../../../host/engine/capture-run.js';
import { loadModuleFile } from '../../../host/modules/load.js';
import { createModuleRunner, type ManagedRunner } from '../../../host/sandbox/runner.js';
import { tempDir } from '../../support/temp-dir.js';
import { DEMO_PCAP, INSPECT_ALL } from './support.js';

const runners: ManagedRunner[] = [];
afterAll(() => { for (const r of runners) r.close(); });

describe('flow ends in the sandbox', () => {
  it('are delivered once per flow the module saw, the last ones before finish() returns', async () => {
    let ends = 0;
    const mod = await loadModuleFile(join(import.meta.dirname, 'fixtures', 'flow_end_logger.wat'), { name: 'fe' });
    // Its one line per flow end counts them: the flow ends between two batches share one log budget, made room for here.
    const runner = await createModuleRunner(mod, { clock: 'packet', logBudget: 1_000_000, logger: (_m, _l, msg) => { if (msg === 'flow end') ends++; } });
    runners.push(runner);
    const seen = new Set<number>();
    const engine = new Engine({
      rules: INSPECT_ALL, modules: [{ name: 'fe', instance: runner }], batchSize: 16,
      onDecision: (d) => { if (d.modules.length > 0 && d.flow) seen.add(d.flow.id); },
    });
    for (const f of openCapture(DEMO_PCAP).frames()) engine.push(f);
    engine.finish();
    expect(seen.size).toBeGreaterThan(10);
    // finish() counts what the modules dropped, which needs the last flow ends delivered.
    expect(ends).toBe(seen.size);
    await Promise.resolve();
    expect(ends).toBe(seen.size);
  });

  it('what the last flow ends drop over the log budget counts in the run\'s counters and EVE stats, as in-thread', async () => {
    const mod = await loadModuleFile(join(import.meta.dirname, 'fixtures', 'flow_end_logger.wat'), { name: 'fe' });
    const dir = tempDir('flow-end-drops');
    const run = async (unsafeInThread: boolean): Promise<{ logsDropped: number; eve: number }> => {
      const runner = await createModuleRunner(mod, { clock: 'packet', unsafeInThread, logger: () => {} });
      runners.push(runner);
      const eve = join(dir, `eve-${unsafeInThread ? 'in-thread' : 'sandboxed'}.json`);
      const r = await runCapture({ pcap: DEMO_PCAP, rules: INSPECT_ALL, modules: [{ name: 'fe', instance: runner }], eve });
      expect(r.error).toBeNull();
      const stats = JSON.parse(readFileSync(eve, 'utf8').trim().split('\n').at(-1)!) as { stats: { modules: { logs_dropped: number } } };
      return { logsDropped: r.counters.logsDropped, eve: stats.stats.modules.logs_dropped };
    };
    const inThread = await run(true);
    const sandboxed = await run(false);
    // The demo's flows that end with the capture log a line each: more than the one budget of LOGS_PER_CALL they share.
    expect(inThread.logsDropped).toBeGreaterThan(0);
    expect(inThread.eve).toBe(inThread.logsDropped);
    expect(sandboxed).toEqual(inThread);
  });

  it('what on_flow_end raises reaches EVE with the flow and before its record, sandboxed as in-thread, the last flows\' too', async () => {
    const mod = await loadModuleFile(join(import.meta.dirname, 'fixtures', 'flow_end_reporter.wat'), { name: 'fr' });
    const dir = tempDir('flow-end-output');
    const run = async (unsafeInThread: boolean) => {
      const runner = await createModuleRunner(mod, { clock: 'packet', unsafeInThread, logger: () => {} });
      runners.push(runner);
      const eve = join(dir, `eve-${unsafeInThread ? 'in-thread' : 'sandboxed'}.json`);
      const r = await runCapture({ pcap: DEMO_PCAP, rules: INSPECT_ALL, modules: [{ name: 'fr', instance: runner }], eve });
      expect(r.error).toBeNull();
      const lines = readFileSync(eve, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown> & { flow?: { alerted?: boolean } });
      const of = (type: string) => lines.filter((l) => l.event_type === type).map((l) => `${l.flow_id} ${l.src_ip} ${l.dest_ip} ${JSON.stringify(l[type])}`).sort();
      const flowAt = new Map<unknown, number>();
      lines.forEach((l, i) => { if (l.event_type === 'flow') flowAt.set(l.flow_id, i); });
      // Alert and http records written after their flow's record, as "flow_id event_type".
      const afterTheirFlow = lines.flatMap((l, i) => (l.event_type === 'alert' || l.event_type === 'http') && flowAt.get(l.flow_id)! < i ? [`${l.flow_id} ${l.event_type}`] : []);
      const notAlerted = lines.filter((l) => l.event_type === 'flow' && l.flow?.alerted !== true).length;
      return {
        alerts: of('alert'), http: of('http'), counters: [r.counters.alerts, r.counters.events, r.counters.alertsDropped, r.counters.eventsDropped], runner: runner.stats(),
        afterTheirFlow: afterTheirFlow.slice(0, 5), flowsNotAlerted: notAlerted, flows: flowAt.size,
      };
    };
    const inThread = await run(true);
    const sandboxed = await run(false);
    // One alert and one event per flow the module saw: every flow of the demo with an IP layer.
    expect(inThread.alerts.length).toBeGreaterThan(10);
    expect(inThread.http).toHaveLength(inThread.alerts.length);
    expect(inThread.http[0]).toContain('"url":"/unanswered"');
    expect(inThread.counters).toEqual([inThread.alerts.length, inThread.http.length, 0, 0]);
    expect(sandboxed.alerts).toEqual(inThread.alerts);
    expect(sandboxed.http).toEqual(inThread.http);
    expect(sandboxed.counters).toEqual(inThread.counters);
    expect(sandboxed.runner).toMatchObject({ alerts: inThread.alerts.length, events: inThread.http.length, alertsDropped: 0, eventsDropped: 0 });
    // Each flow's alert and event come before its flow record, which says it alerted (a sandboxed module's too).
    for (const r of [inThread, sandboxed]) {
      expect(r.afterTheirFlow).toEqual([]);
      expect(r.flowsNotAlerted).toBe(r.flows - r.alerts.length);
    }
  });
});
