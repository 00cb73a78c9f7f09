// A brute force paced under the per-minute limit: 10 connections a minute
// with the defaults is never caught by window_s, and is ~86,000 passwords a
// day at MaxAuthTries 6. The long window (long_max_connections per
// long_window_s, sid 1004007) counts the same connections over an hour.
import { beforeAll, describe, expect, it } from 'vitest';
import { Verdict } from '../../../host/verdict.js';
import type { InspectItem } from '../../../host/wasm/types.js';
import { TcpFlag } from '../../../host/packet/types.js';
import { item, packet } from '../../host/wasm/helpers.js';
import { compiledModule, instance, run } from '../dns_guard/support.js';

beforeAll(async () => { await compiledModule('ssh_guard'); }, 180_000);

const FLOW_START = 0x02;
const T0 = 1_700_000_000;
const syn = (src: string, flowId: number, t: number): InspectItem =>
  item(packet({ src, dstPort: 22, tcpFlags: TcpFlag.SYN }, [T0 + Math.floor(t), Math.round((t % 1) * 1e9)]), { flowId, flags: FLOW_START });

/** One connection every `every` seconds from `src`, `count` of them, flow ids from `firstId`. */
const paced = (src: string, count: number, every: number, firstId = 1, from = 0) =>
  Array.from({ length: count }, (_, i) => syn(src, firstId + i, from + i * every));

const sids = (out: ReturnType<typeof run>) => out.alerts.map((a) => a.sigId);

describe('ssh_guard long window (slow brute force)', () => {
  it('one connection every 10 s for an hour is caught at the 121st with the defaults, and the source is blocked', async () => {
    const inst = await instance('ssh_guard');
    const out = run(inst, paced('198.18.7.7', 360, 10));
    // never more than 6 a minute: the short window stays quiet. Once the 600 s
    // block ends, the next connection finds the hour still full and is blocked again.
    expect(out.alerts.map((a) => [a.index, a.sigId])).toEqual([[120, 1004007], [180, 1004007], [240, 1004007], [300, 1004007]]);
    expect(out.alerts[0]!.metadata).toEqual({ connections: 121, window_s: 3600, action: 'block_src', block_ttl: 600 });
    expect(out.verdicts.slice(0, 120).every((v) => v === Verdict.CONTINUE)).toBe(true);
    expect(out.verdicts[120]).toBe(Verdict.BLOCK_SRC);
    expect(out.args[120]).toBe(600);
    // what the host had not yet blocked is answered by the module with the ttl left
    expect(out.verdicts[121]).toBe(Verdict.BLOCK_SRC);
    expect(out.args[121]).toBe(590);
  });

  it('a normal admin pattern (a few sessions an hour, some back to back) for a day is never flagged', async () => {
    const inst = await instance('ssh_guard');
    const items: InspectItem[] = [];
    let id = 1;
    for (let h = 0; h < 24; h++) {
      // a login, a quick scp right after, two more later in the hour, and a burst of 4 from a script every 6 hours
      for (const m of [2, 3, 25, 48]) items.push(syn('198.18.7.20', id++, h * 3600 + m * 60));
      if (h % 6 === 0) for (let k = 0; k < 4; k++) items.push(syn('198.18.7.20', id++, h * 3600 + 50 * 60 + k * 5));
    }
    const out = run(inst, items);
    expect(out.alerts).toEqual([]);
    expect(out.verdicts.every((v) => v === Verdict.CONTINUE)).toBe(true);
  });

  it('long_max_connections, long_window_s and long_window_action are configurable: alert only at the 31st in 10 minutes', async () => {
    const inst = await instance('ssh_guard', { long_max_connections: 30, long_window_s: 600, long_window_action: 'alert' });
    const out = run(inst, paced('198.18.7.8', 40, 15));
    expect(out.alerts.map((a) => [a.index, a.sigId])).toEqual(Array.from({ length: 10 }, (_, i) => [30 + i, 1004007]));
    expect(out.alerts[0]!.metadata).toEqual({ connections: 31, window_s: 600, action: 'alert', block_ttl: 600 });
    expect(out.verdicts.every((v) => v === Verdict.CONTINUE)).toBe(true);
  });

  it('after block_ttl a source whose long window is still full is blocked again on its next connection', async () => {
    const inst = await instance('ssh_guard', { block_ttl: 60 });
    const first = run(inst, paced('198.18.7.9', 121, 10));
    expect(first.verdicts[120]).toBe(Verdict.BLOCK_SRC);
    // the host drops its SYNs until the ttl ends; the next one the module sees comes after
    const again = run(inst, [syn('198.18.7.9', 500, 1200 + 61)]);
    expect(again.verdicts).toEqual([Verdict.BLOCK_SRC]);
    expect(again.args).toEqual([60]);
    expect(again.alerts.map((a) => [a.sigId, a.metadata?.connections])).toEqual([[1004007, 122]]);
  });

  it('a source that trips the short window gets one alert, 1004001, not a second one from the long window', async () => {
    const inst = await instance('ssh_guard', { max_connections: 5, window_s: 60, long_max_connections: 3, long_window_action: 'alert', brute_force_action: 'alert' });
    const out = run(inst, paced('198.18.7.10', 8, 1));
    expect(out.alerts.map((a) => [a.index, a.sigId])).toEqual([[3, 1004007], [4, 1004007], [5, 1004001], [6, 1004001], [7, 1004001]]);
  });

  it('the long default follows max_connections: raised for a NAT it is raised too, and max_connections 0 keeps it off', async () => {
    const raised = await instance('ssh_guard', { max_connections: 100 });
    expect(run(raised, paced('198.18.7.11', 400, 9)).alerts).toEqual([]);
    const off = await instance('ssh_guard', { max_connections: 0 });
    expect(run(off, paced('198.18.7.12', 400, 9)).alerts).toEqual([]);
    // an explicit long_max_connections applies even so
    const explicit = await instance('ssh_guard', { max_connections: 0, long_max_connections: 50, long_window_action: 'alert' });
    expect(sids(run(explicit, paced('198.18.7.13', 60, 30)))).toEqual(Array(10).fill(1004007));
  });

  it('refuses bad long-window config naming the field', async () => {
    await expect(instance('ssh_guard', { long_window_s: 10 })).rejects.toThrow(/long_window_s must be an integer 60..604800/);
    await expect(instance('ssh_guard', { long_max_connections: -1 })).rejects.toThrow(/long_max_connections must be an integer/);
    await expect(instance('ssh_guard', { long_window_action: 'ban' })).rejects.toThrow(/long_window_action must be one of/);
  });
});
