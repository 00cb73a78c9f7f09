import { beforeAll, expect, it } from 'vitest';
import type { InspectItem } from '../../../host/wasm/types.js';
import { item, packet } from '../../host/wasm/helpers.js';
import { compiledModule, instance } from '../dlp/support.js';
import { fuzz, scribble } from '../dlp/fuzz-support.js';

beforeAll(async () => { await compiledModule('ratelimit'); }, 300_000);

it('1,000,000 packets from churning sources against every rule kind: no trap, memory flat', async () => {
  const inst = await instance('ratelimit', {
    // the most keys the module accepts (8 rules x the default 4096), with sources churning through them
    rules: [
      { name: 'conn2', proto: 'tcp', rate: 50, burst: 50 },
      { name: 'udp2', proto: 'udp', algorithm: 'sliding_window', limit: 500, window_ms: 2000, action: 'alert' },
      { name: 'p443', ports: [443], key: 'src_dport', rate: 1, burst: 1, action: 'alert' },
      { name: 'all', count: 'packets', rate: 1000, burst: 2000, action: 'alert' },
      { name: 'conn', rate: 5, burst: 10, penalty: 30 },
      { name: 'ports', proto: 'tcp', ports: [22, '8000-8100'], key: 'src_dport', algorithm: 'sliding_window', limit: 20, window_ms: 500 },
      { name: 'pkts', proto: 'udp', count: 'packets', rate: 100, burst: 100, action: 'drop' },
      { name: 'any', proto: 'any', count: 'packets', algorithm: 'sliding_window', limit: 1000, window_ms: 1000, action: 'alert' },
    ],
  });
  const templates: InspectItem[] = [];
  for (let i = 0; i < 256; i++) {
    const spec = i % 4 === 3 ? { src: '2001:db8::1', dst: '2001:db8::2' } : {};
    templates.push(item(packet({ ...spec, proto: i % 2 === 0 ? 'tcp' : 'udp', payload: 'x' }), { flowId: i + 1 }));
  }
  let clock = 1_700_000_000;
  const originalSrc = new Map(templates.map((t) => [t, t.pkt.src.slice()] as const));
  const stats = fuzz(inst, templates, (it, rnd, noise) => {
    const p = it.pkt;
    p.dstPort = [22, 8050, 80, rnd() & 0xffff][rnd() % 4]!;
    it.flags = rnd() & 0x1f;
    it.direction = (rnd() % 8 === 0 ? 1 : 0) as 0 | 1;
    const srcOff = p.l3Offset + (p.ipVersion === 4 ? 12 : 8);
    // back to the template's source first, so a random source lasts one round only
    p.data.set(originalSrc.get(it)!, srcOff);
    if (rnd() % 2 === 0) scribble(p.data, srcOff, p.ipVersion === 4 ? 4 : 16, rnd, noise);
    else p.data[srcOff + (p.ipVersion === 4 ? 3 : 15)] = rnd() & 15;
    if (rnd() % 8192 === 0) clock += 1 + (rnd() % 60);
    p.tsSec = clock;
    p.tsNsec = rnd() % 1_000_000_000;
  });
  expect(stats.verdicts[5]).toBeGreaterThan(0);
  expect(stats.memoryEnd).toBeLessThanOrEqual(12 * 1048576);
}, 300_000);
