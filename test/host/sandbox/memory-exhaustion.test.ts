// A flood of new flows fills a module's memory with per-flow state. Five
// traps quarantined a module for good: fail-closed, all of its traffic
// dropped until the daemon is restarted; fail-open, the module off. A trap
// with the memory at its maximum is taken for what it is: the instance is
// recreated (the flows it held start over) and inspection goes on; so is
// one with its memory within a quarter of the maximum, since the grow that
// failed may have asked for more than was left. The
// shipped http_waf, which ran out at 16 MiB after about 87,000 flows, now
// declares 64 MiB and holds all the flows the engine keeps.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Engine } from '../../../host/engine/engine.js';
import { loadModules } from '../../../host/engine/setup.js';
import type { PacketDecision } from '../../../host/engine/types.js';
import type { ManagedRunner } from '../../../host/sandbox/runner.js';
import { TcpFlag } from '../../../host/packet/types.js';
import { packet } from '../engine/support.js';

const FLOOD = 120_000;
const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'modules');
const LEAKY = join(FIXTURES, 'leak-per-batch.wat');
// Its last grow asks for more than is left: it traps with its memory below the maximum.
const LARGE_GROW = join(FIXTURES, 'leak-large-grow.wat');

function flood(engine: Engine): void {
  for (let i = 0; i < FLOOD; i++) {
    engine.pushDecoded(packet({ src: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, srcPort: 1024 + (i % 60000), tcpFlags: TcpFlag.SYN, seq: i }, i / 100_000));
  }
  engine.flush();
}

describe.each([['in-thread (the daemon)', true], ['sandbox worker (inspect)', false]])('module memory exhausted by a flow flood: %s', (_, unsafeInThread) => {
  it.each([
    ['one page at a time, to its maximum', LEAKY],
    ['a table rebuilt bigger than the room left, short of its maximum', LARGE_GROW],
  ])('recreates the instance instead of quarantining it, and it inspects again: %s', async (_how, fixture) => {
    const [leaky] = await loadModules([fixture], { unsafeInThread });
    const runner = leaky!.instance as ManagedRunner;
    let last: PacketDecision | null = null;
    const engine = new Engine({ rules: { defaultPolicy: 'inspect', rules: [] }, modules: [leaky!], onDecision: (d) => { last = d; } });
    try {
      flood(engine);
      // In-thread, the new instance is built on the event loop, between batches
      // as in the daemon: it is waited for, as long as a loaded machine needs.
      const deadline = Date.now() + 10_000;
      while (runner.stats().restarts < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const after = runner.stats();
      // The flood did exhaust it, and it came back every time.
      expect(after.traps).toBeGreaterThanOrEqual(1);
      expect(after.restarts).toBeGreaterThanOrEqual(1);
      expect(after.exhaustedResets).toBe(after.traps);
      expect(after.status).not.toBe('quarantined');
      // A packet of a new flow each try: one that met the instance still being rebuilt is not the last.
      for (let k = 1; k <= 200; k++) {
        engine.pushDecoded(packet({ src: `10.250.0.${k}`, srcPort: 5555, tcpFlags: TcpFlag.ACK | TcpFlag.PSH, seq: 1, ack: 1, payload: 'x' }, 2));
        engine.flush();
        if (last!.modules[0]?.failure === null || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(last!.modules[0]!.failure).toBeNull();
    } finally {
      runner.close();
    }
  }, 60_000);

  it('http_waf holds the whole flood without running out, and still sees an attack after it', async () => {
    const [waf] = await loadModules(['http_waf'], { unsafeInThread });
    const runner = waf!.instance as ManagedRunner;
    let last: PacketDecision | null = null;
    const engine = new Engine({ rules: { defaultPolicy: 'inspect', rules: [] }, modules: [waf!], onDecision: (d) => { last = d; } });
    try {
      flood(engine);
      await new Promise((r) => setTimeout(r, 100));
      expect(runner.stats().traps).toBe(0);
      engine.pushDecoded(packet({ src: '10.250.0.1', srcPort: 5555, tcpFlags: TcpFlag.ACK | TcpFlag.PSH, seq: 1, ack: 1,
        payload: "GET /item?id=1' OR '1'='1 HTTP/1.1\r\nHost: shop\r\n\r\n" }, 2));
      engine.flush();
      // Inspected by a working instance (http_waf alerts; blocking is its config's choice).
      expect(last!.modules[0]!.failure).toBeNull();
      expect(last!.modules[0]!.alerts.map((a) => a.message)).toContain('HTTP SQL injection');
    } finally {
      runner.close();
    }
  }, 60_000);
});
