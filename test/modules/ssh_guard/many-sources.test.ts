// The long-window tables under many sources. Each is bounded by `sources`
// and evicts one-packet sources before sources that keep coming back, so a
// flood of spoofed SYNs neither grows the module's memory nor makes it
// forget a slow brute-forcer. Failed-login counting keeps a little state per
// flow until the flow's authentication is settled: the engine's 65,536 flows
// must still fit.
import { beforeAll, describe, expect, it } from 'vitest';
import type { InspectItem } from '../../../host/wasm/types.js';
import { TcpFlag } from '../../../host/packet/types.js';
import { item, packet } from '../../host/wasm/helpers.js';
import { compiledModule, floodFlows, instance, run } from '../dns_guard/support.js';

beforeAll(async () => { await compiledModule('ssh_guard'); }, 180_000);

const MiB = 1024 * 1024;
const T0 = 1_700_000_000;
const syn = (src: string, flowId: number, t: number): InspectItem =>
  item(packet({ src, dstPort: 22, tcpFlags: TcpFlag.SYN }, [T0 + Math.floor(t), Math.round((t % 1) * 1e9)]), { flowId, flags: 0x02 });
const spoofed = (n: number) => `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;

describe('ssh_guard long windows under many sources', () => {
  it('a slow brute-forcer is caught among 96,800 spoofed one-SYN sources, and memory does not grow with them', async () => {
    const inst = await instance('ssh_guard');
    let n = 0;
    let flowId = 1;
    let before = 0;
    const caught: number[] = [];
    for (let i = 0; i < 121; i++) {
      const items: InspectItem[] = [];
      for (let k = 0; k < 800; k++) items.push(syn(spoofed(n++), flowId++, 10 * i + k * 0.01));
      items.push(syn('198.18.8.8', flowId++, 10 * i + 9));
      const out = run(inst, items);
      caught.push(...out.alerts.filter((a) => a.sigId === 1004007).map(() => i));
      // the table (4,096 sources) is full after the sixth interval
      if (i === 10) before = inst.memoryBytes;
    }
    expect(inst.stats.traps).toBe(0);
    expect(caught).toEqual([120]);
    expect(inst.memoryBytes - before).toBeLessThanOrEqual(64 * 1024);
  }, 120_000);

  it('holds 65,536 flows waiting in authentication with failed-login counting on', async () => {
    const inst = await instance('ssh_guard', { max_connections: 0, max_failed_logins: 10 });
    const banner = new TextEncoder().encode(`SSH-2.0-${'S'.repeat(121)} ${'c'.repeat(123)}\r\n`);
    floodFlows(inst, packet({ dstPort: 22, payload: 'x' }), banner, 65_536);
    expect(inst.stats.traps).toBe(0);
    // Measured: 44 MiB, as without failed-login counting (flow-flood.test.ts)
    expect(inst.memoryBytes).toBeLessThanOrEqual(52 * MiB);
  }, 120_000);
});
