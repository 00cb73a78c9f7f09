// A flood of new flows fills a module's memory with per-flow state: http_waf
// (16 MiB, the shipped modules' declared maximum) runs out after about 87,000
// flows, its allocator aborts, and every later batch traps. Five traps
// quarantined it for good: fail-closed, all HTTP dropped until the daemon is
// restarted; fail-open, the WAF off. A trap with the memory at its maximum is
// now taken for what it is: the instance is recreated (the flows it held start
// over) and inspection goes on.
import { describe, expect, it } from 'vitest';
import { Engine } from '../../../host/engine/engine.js';
import { loadModules } from '../../../host/engine/setup.js';
import type { PacketDecision } from '../../../host/engine/types.js';
import type { ManagedRunner } from '../../../host/sandbox/runner.js';
import { TcpFlag } from '../../../host/packet/types.js';
import { packet } from '../engine/support.js';

const FLOOD = 120_000;

describe.each([['in-thread (the daemon)', true], ['sandbox worker (inspect)', false]])('module memory exhausted by a flow flood: %s', (_, unsafeInThread) => {
  it('recreates the instance instead of quarantining it, and a later attack is still seen', async () => {
    const [waf] = await loadModules(['http_waf'], { unsafeInThread });
    const runner = waf!.instance as ManagedRunner;
    let last: PacketDecision | null = null;
    const engine = new Engine({ rules: { defaultPolicy: 'inspect', rules: [] }, modules: [waf!], onDecision: (d) => { last = d; } });
    try {
      for (let i = 0; i < FLOOD; i++) {
        engine.pushDecoded(packet({ src: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, srcPort: 1024 + (i % 60000), tcpFlags: TcpFlag.SYN, seq: i }, i / 100_000));
      }
      engine.flush();
      // In-thread, the new instance is built on the event loop, between batches as in the daemon.
      await new Promise((r) => setTimeout(r, 100));
      const after = runner.stats();
      // The flood did exhaust it (the attack is real), and it came back every time.
      expect(after.traps).toBeGreaterThanOrEqual(1);
      expect(after.restarts).toBeGreaterThanOrEqual(1);
      expect(after.exhaustedResets).toBe(after.traps);
      expect(after.status).not.toBe('quarantined');
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
