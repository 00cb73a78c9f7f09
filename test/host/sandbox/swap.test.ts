// Replacing a module between batches while traffic flows: every packet is
// decided once, the module side sees every inspected packet exactly once,
// and the replacement's verdicts apply from the swap on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openCapture } from '../../../host/capture/reader.js';
import { Engine } from '../../../host/engine/engine.js';
import { loadModuleFile } from '../../../host/modules/load.js';
import { SandboxedInspector } from '../../../host/sandbox/sandboxed.js';
import { DEMO_PCAP, INSPECT_ALL, ROOT, requireBuilt } from './support.js';

const runners: SandboxedInspector[] = [];
afterAll(() => { for (const r of runners) r.close(); });

describe('SandboxedInspector.swap', () => {
  beforeAll(() => requireBuilt());

  it('loses no packet and processes none twice', async () => {
    // Before the swap: a module whose alerts are all refused (1 MB metadata), so every verdict is CONTINUE and no alert is recorded.
    const first = await loadModuleFile(join(ROOT, 'test', 'hostile', 'modules', 'huge_metadata.wat'), { name: 'm' });
    const second = await loadModuleFile(join(ROOT, 'build', 'modules', 'port_guard.wasm'), { name: 'm' });
    const runner = await SandboxedInspector.create(first.source, { clock: 'packet', logger: () => {} });
    runners.push(runner);
    const decided = new Map<number, number>();
    let sources = 0;
    let handed = 0;
    const alertsAt: number[] = [];
    const engine = new Engine({
      rules: INSPECT_ALL, modules: [{ name: 'm', instance: runner }], batchSize: 16,
      onDecision: (d) => {
        decided.set(d.index, (decided.get(d.index) ?? 0) + 1);
        sources += d.sources.length;
        for (const run of d.modules) {
          handed++;
          expect(run.failure).toBeNull();
          for (const _a of run.alerts) alertsAt.push(d.index);
        }
      },
    });
    const frames = [...openCapture(DEMO_PCAP).frames()];
    const half = frames.length >> 1;
    frames.slice(0, half).forEach((f) => engine.push(f));
    engine.flush();
    await runner.swap(second.source);
    frames.slice(half).forEach((f) => engine.push(f));
    engine.finish();

    // A reassembled datagram is one decision for all its fragments.
    expect(sources).toBe(frames.length);
    expect([...decided.values()].every((n) => n === 1)).toBe(true);
    expect(runner.stats().packets).toBe(handed);
    // port_guard alerts on the capture's telnet and /etc/passwd packets; they all come after the swap.
    expect(alertsAt.length).toBeGreaterThan(0);
    expect(alertsAt.every((i) => i >= half)).toBe(true);
  });

  it('a replacement that fails to start leaves the old instance running', async () => {
    const good = await loadModuleFile(join(ROOT, 'build', 'modules', 'port_guard.wasm'), { name: 'm' });
    const bad = await loadModuleFile(join(ROOT, 'test', 'hostile', 'modules', 'start_loop.wat'), { name: 'm' });
    const runner = await SandboxedInspector.create(good.source, { clock: 'packet', logger: () => {} });
    runners.push(runner);
    await expect(runner.swap(bad.source)).rejects.toMatchObject({ code: 'E_MODULE_LIMIT' });
    let alerts = 0;
    const engine = new Engine({ rules: INSPECT_ALL, modules: [{ name: 'm', instance: runner }], onDecision: (d) => { for (const r of d.modules) alerts += r.alerts.length; } });
    for (const f of openCapture(DEMO_PCAP).frames()) engine.push(f);
    engine.finish();
    expect(alerts).toBeGreaterThan(0);
    expect(runner.stats().status).toBe('ok');
  });
});
