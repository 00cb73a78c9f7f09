// 100,000 addresses/CIDRs and 100,000 domains: load time, memory, lookup cost,
// and lookups checked against a plain TypeScript model of the same lists.
import { beforeAll, describe, expect, it } from 'vitest';
import { Verdict } from '../../../host/verdict.js';
import type { InspectItem } from '../../../host/wasm/types.js';
import { item, packet, output } from '../../host/wasm/helpers.js';
import { compiledModule, instance } from '../dlp/support.js';
import { dnsQuery } from './wire.js';

beforeAll(async () => { await compiledModule('threat_intel'); }, 300_000);

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (s + 0x6d2b79f5) >>> 0; let t = s; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
}

const v4 = (n: number) => `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;

describe('threat_intel at scale', () => {
  it('loads 100k IPs/CIDRs and 100k domains, stays within its memory, and looks up quickly and exactly', async () => {
    const rand = rng(7);
    const hosts = new Set<number>();
    const cidrs: [number, number][] = [];
    const lines: string[] = ['# 100k addresses and CIDRs, 100k domains'];
    // 80k IPv4 hosts and 15k CIDRs inside 10.0.0.0/8, 5k IPv6 /64s in 2001:db8::/32
    while (hosts.size < 80_000) hosts.add((10 << 24) | Math.floor(rand() * 0xffffff));
    for (const h of hosts) lines.push(v4(h));
    for (let i = 0; i < 15_000; i++) {
      const len = 20 + Math.floor(rand() * 9);
      const net = (((10 << 24) | Math.floor(rand() * 0xffffff)) & (0xffffffff << (32 - len))) >>> 0;
      cidrs.push([net, len]);
      lines.push(`${v4(net)}/${len}`);
    }
    for (let i = 0; i < 5_000; i++) lines.push(`2001:db8:${i.toString(16)}:${(i * 7).toString(16)}::/64`);
    const domains: string[] = [];
    for (let i = 0; i < 100_000; i++) {
      const d = `d${i.toString(36)}${Math.floor(rand() * 1e6).toString(36)}.${['example', 'test', 'invalid'][i % 3]}`;
      domains.push(d);
      lines.push(d);
    }
    const text = lines.join('\n') + '\n';

    const t0 = performance.now();
    const inst = await instance('threat_intel', text);
    const loadMs = performance.now() - t0;
    const memory = inst.memoryBytes;

    // a TS model of the address list for the expected answers
    const listed = (a: number) => hosts.has(a) || cidrs.some(([net, len]) => ((a & (0xffffffff << (32 - len))) >>> 0) === net);
    const probeAddrs: number[] = [];
    const hostList = [...hosts];
    for (let i = 0; i < 2000; i++) probeAddrs.push(i % 2 === 0 ? hostList[Math.floor(rand() * hostList.length)]! : (((i % 4 === 1 ? 10 : 11) << 24) | Math.floor(rand() * 0xffffff)) >>> 0);
    const expected = probeAddrs.map(listed);
    const items: InspectItem[] = probeAddrs.map((a, i) => item(packet({ src: v4(a), dst: '198.18.0.2', proto: 'udp', srcPort: 1000, dstPort: 9 }), { flowId: i + 1 }));
    const out = output(items.length);
    inst.inspect(items, items.length, out);
    expect(Array.from(out.verdicts).map((v) => v === Verdict.BLOCK_FLOW)).toEqual(expected);

    // lookup cost: fresh flows each round so every packet is a full address check
    // lookup cost on traffic that is not listed (the common case; a hit also costs an alert),
    // next to the same traffic through an instance holding one entry: the difference is the lists' cost
    const tiny = await instance('threat_intel', '198.51.100.1\nnothing.invalid\n');
    let flow = 1_000_000;
    const perPacketNs = (target: typeof inst, batch: InspectItem[], rounds = 50): number => {
      const o = output(batch.length);
      let ms = 0;
      for (let r = 0; r < rounds; r++) {
        for (const it of batch) target.flowEnded(it.flowId);
        for (const it of batch) it.flowId = flow++;
        // CPU time of this process: other test files running beside it do not count
        const t1 = process.cpuUsage();
        target.inspect(batch, batch.length, o);
        const d = process.cpuUsage(t1);
        ms += (d.user + d.system) / 1000;
      }
      return (ms * 1e6) / (rounds * batch.length);
    };
    const clean = items.filter((_, i) => !expected[i]);
    expect(clean.length).toBeGreaterThan(500);
    perPacketNs(inst, clean, 5);
    perPacketNs(tiny, clean, 5);
    const ipNs = perPacketNs(inst, clean);
    const ipBaseNs = perPacketNs(tiny, clean);

    // domains: half listed names, half unlisted, as DNS queries
    const names = Array.from({ length: 1000 }, (_, i) => (i % 2 === 0 ? `www.${domains[Math.floor(rand() * domains.length)]}` : `nx${i}.example`));
    const dnsItems = names.map((n, i) => item(packet({ src: '198.18.0.1', dst: '198.18.0.53', proto: 'udp', srcPort: 2000, dstPort: 53, payload: dnsQuery(n) }), { flowId: 5_000_000 + i }));
    const dnsOut = output(dnsItems.length);
    inst.inspect(dnsItems, dnsItems.length, dnsOut);
    expect(Array.from(dnsOut.verdicts).map((v) => v === Verdict.BLOCK_FLOW)).toEqual(names.map((_, i) => i % 2 === 0));
    const cleanDns = dnsItems.filter((_, i) => i % 2 === 1);
    const dnsNs = perPacketNs(inst, cleanDns);
    const dnsBaseNs = perPacketNs(tiny, cleanDns);
    const memoryAfter = inst.memoryBytes;

    console.log(`threat_intel scale: ${lines.length - 1} entries (${(text.length / 1e6).toFixed(1)} MB of text) loaded in ${loadMs.toFixed(0)} ms; `
      + `memory ${(memory / 1048576).toFixed(1)} MiB after load, ${(memoryAfter / 1048576).toFixed(1)} MiB after lookups; `
      + `unlisted packet ${ipNs.toFixed(0)} ns vs ${ipBaseNs.toFixed(0)} ns with a 1-entry list (both addresses at every listed prefix length); `
      + `unlisted DNS query ${dnsNs.toFixed(0)} ns vs ${dnsBaseNs.toFixed(0)} ns (name and each parent domain)`);
    expect(loadMs).toBeLessThan(10_000);
    expect(memory).toBeLessThanOrEqual(16 * 1048576);
    // checks run once per flow (the first packet); the lists may add at most 6 us to a new flow
    expect(ipNs - ipBaseNs).toBeLessThan(6_000);
    expect(dnsNs - dnsBaseNs).toBeLessThan(6_000);
  }, 120_000);
});
