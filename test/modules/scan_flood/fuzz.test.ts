import { beforeAll, expect, it } from 'vitest';
import type { InspectItem } from '../../../host/wasm/types.js';
import { item, packet } from '../../host/wasm/helpers.js';
import { compiledModule, instance } from '../dlp/support.js';
import { fuzz, scribble } from '../dlp/fuzz-support.js';

beforeAll(async () => { await compiledModule('scan_flood'); }, 300_000);

it('2,000,000 packets with random flags, ports, sources, times and truncation: no trap, memory flat', async () => {
  const inst = await instance('scan_flood', { action: 'alert' });

  const templates: InspectItem[] = [];
  const kinds = [{ proto: 'tcp' }, { proto: 'udp' }, { proto: 'icmp', icmpType: 8 }, { proto: 'tcp', src: '2001:db8::1', dst: '2001:db8::2' }, { proto: 'icmp', src: '2001:db8::1', dst: '2001:db8::2', icmpType: 128 }] as const;
  for (let i = 0; i < 256; i++) {
    const p = packet({ ...kinds[i % kinds.length], payload: new Uint8Array(i % 3 === 0 ? 600 : 8) });
    templates.push(item(p, { flowId: i + 1 }));
  }
  let clock = 1_700_000_000;
  const originalSrc = new Map(templates.map((t) => [t, t.pkt.src.slice()] as const));
  const stats = fuzz(inst, templates, (it, rnd, noise) => {
    const p = it.pkt;
    p.tcpFlags = p.proto === 6 ? rnd() & 0x3f : 0;
    p.srcPort = [53, 123, 1900, 11211, rnd() & 0xffff][rnd() % 5]!;
    p.dstPort = rnd() & (rnd() % 2 === 0 ? 0x3ff : 0xffff);
    it.direction = (rnd() & 1) as 0 | 1;
    it.flags = rnd() & 0x1f;
    // sources from a small pool so counters climb, or wholly random to churn the tables
    const srcOff = p.l3Offset + (p.ipVersion === 4 ? 12 : 8);
    // back to the template's source first, so a random source lasts one round only
    p.data.set(originalSrc.get(it)!, srcOff);
    if (rnd() % 4 === 0) scribble(p.data, srcOff, p.ipVersion === 4 ? 4 : 16, rnd, noise);
    else p.data[srcOff + (p.ipVersion === 4 ? 3 : 15)] = rnd() & 7;
    if (p.proto === 1 || p.proto === 58) p.data[p.l4Offset] = [8, 128, 0, rnd() & 0xff][rnd() % 4]!;
    if (rnd() % 8192 === 0) clock += 1 + (rnd() % 30);
    p.tsSec = clock;
    p.tsNsec = rnd() % 1_000_000_000;
  }, 2_000_000);
  expect(stats.memoryEnd).toBeLessThanOrEqual(12 * 1048576);
  expect(stats.alerts).toBeGreaterThan(0);
}, 300_000);
