// Malformed and hostile input: megabyte header lines, garbage, truncation,
// lying chunk sizes, header floods, deep lookups. The module must not trap,
// must stay within bounded memory, and must still say something sensible.
import { beforeAll, describe, expect, it } from 'vitest';
import { Verdict } from '../../../host/verdict.js';
import type { ModuleEvent } from '../../../host/wasm/types.js';
import { SID, bytesOf, request, run, streamItem, waf } from './waf.js';
import { rng } from '../sdk-lib/harness.js';

beforeAll(async () => { await waf(); }, 180_000);

const MiB = 1024 * 1024;

describe('http_waf on adversarial input', () => {
  it('survives a 1 MB header line: alerts on the oversized head, lets the flow go, memory stays bounded', async () => {
    const inst = await waf(undefined, undefined, { batchCapacity: 4 });
    const before = inst.memoryBytes;
    const head = `GET /?q=%3Cscript%3E HTTP/1.1\r\nHost: a\r\nX-Long: ${'A'.repeat(MiB)}\r\n\r\n`;
    // the host caps stream bytes at its data area (1 MiB by default); give it all it will take
    const r = run(inst, [streamItem(1, 0, bytesOf(head))]);
    expect(r.alerts.map((a) => a.sigId).sort()).toEqual([SID.XSS, SID.HEAD_TOO_LONG]);
    expect(r.verdicts).toEqual([Verdict.ALLOW_FLOW]);
    expect(inst.stats.traps).toBe(0);
    expect(inst.memoryBytes - before).toBeLessThanOrEqual(2 * MiB);
  });

  it('survives a 1 MB request line and still inspects the start of its target', async () => {
    const inst = await waf();
    const line = `GET /x?f=../../../../etc/passwd&pad=${'B'.repeat(MiB)} HTTP/1.1\r\nHost: a\r\n\r\n`;
    const r = run(inst, [streamItem(2, 0, bytesOf(line).subarray(0, 900 * 1024))]);
    expect(r.alerts.map((a) => a.sigId).sort()).toEqual([SID.TRAVERSAL, SID.HEAD_TOO_LONG]);
    expect(r.verdicts).toEqual([Verdict.ALLOW_FLOW]);
  });

  it('gives every prefix of a request CONTINUE and no alert, and alerts once it is whole', async () => {
    const inst = await waf();
    const msg = bytesOf(request('POST', '/p', { 'Content-Type': 'application/x-www-form-urlencoded' }, "u=a%27+or+%271%27%3D%271"));
    const items = [];
    for (let n = 1; n <= msg.length; n++) items.push(streamItem(100_000 + n, 0, msg.subarray(0, n)));
    const r = run(inst, items);
    expect(r.verdicts.every((v) => v === Verdict.CONTINUE)).toBe(true);
    expect(r.alerts.map((a) => [a.index, a.sigId])).toEqual([[msg.length - 1, SID.SQLI]]);
  });

  it('lets go of garbage (not HTTP) without alerts or traps', async () => {
    const inst = await waf();
    const r = rng(77);
    const items = [];
    for (let i = 0; i < 2000; i++) {
      const b = new Uint8Array(1 + Math.floor(r() * 600));
      for (let k = 0; k < b.length; k++) b[k] = Math.floor(r() * 256);
      if (b[0]! >= 0x41 && b[0]! <= 0x5a) b[0] = 0; // a capital letter might start a method
      items.push(streamItem(200_000 + i, 0, b));
    }
    const out = run(inst, items);
    // a short run of token bytes could still become a method ("GE" -> "GET"): those wait, the rest is let go
    const waiting = items.filter((_, i) => out.verdicts[i] === Verdict.CONTINUE);
    expect(out.verdicts.every((v) => v === Verdict.ALLOW_FLOW || v === Verdict.CONTINUE)).toBe(true);
    expect(waiting.length).toBeLessThan(items.length * 0.05);
    expect(out.alerts).toEqual([]);
    expect(inst.stats.traps).toBe(0);
  });

  it('reports chunk sizes that lie or overflow as a malformed body, without reading past the stream', async () => {
    const inst = await waf();
    const base = 'POST /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n';
    const r = run(inst, [
      streamItem(300_001, 0, bytesOf(base + 'FFFFFFFFFFFFFFFFFFFFFFFF\r\nabc\r\n')),
      streamItem(300_002, 0, bytesOf(base + 'zz\r\nabc\r\n0\r\n\r\n')),
      streamItem(300_003, 0, bytesOf(base + '7fffffff\r\nabc')),
    ]);
    expect(r.alerts.map((a) => [a.index, a.sigId])).toEqual([[0, SID.BAD_CHUNKED], [1, SID.BAD_CHUNKED]]);
    // the first two cannot be framed: the module looks for a next request line rather than let the flow go; the third may still complete
    expect(r.verdicts).toEqual([Verdict.CONTINUE, Verdict.CONTINUE, Verdict.CONTINUE]);
  });

  it('handles floods: 5000 headers, 20000 arguments, 10000 nested lookups, 100000 quotes', async () => {
    const inst = await waf({ max_header_bytes: 65536 });
    const manyHeaders = 'GET / HTTP/1.1\r\n' + Array.from({ length: 5000 }, (_, i) => `X-${i}: v`).join('\r\n') + '\r\n\r\n';
    const manyArgs = request('GET', '/?' + Array.from({ length: 20000 }, (_, i) => `a${i}=1`).join('&'));
    const nested = request('GET', '/', { 'X-A': '${'.repeat(10000) + 'jndi:ldap://x/' + '}'.repeat(10000) });
    const quotes = request('POST', '/f', { 'Content-Type': 'application/x-www-form-urlencoded' }, 'q=' + "'".repeat(100000));
    const r = run(inst, [manyHeaders, manyArgs, nested, quotes].map((t, i) => streamItem(400_000 + i, 0, bytesOf(t))));
    expect(inst.stats.traps).toBe(0);
    expect(r.verdicts.length).toBe(4);
    // the deepest nesting is beyond the resolver's depth limit, but the innermost lookup is still a jndi: lookup
    expect(r.alerts.some((a) => a.index === 2 && a.sigId === SID.JNDI)).toBe(true);
  });

  it('still reports alerts and events for requests full of invalid UTF-8 (replaced, not dropped)', async () => {
    const inst = await waf();
    // one byte per character: \xff, \xc0 and \xed\xa0\x80 are not UTF-8
    const raw = Uint8Array.from('GET /d?f=../../etc/passwd\xff HTTP/1.1\r\nHost: a\xc0.example\r\nUser-Agent: x\xed\xa0\x80y\r\n\r\n', (c) => c.charCodeAt(0));
    const r = run(inst, [streamItem(600_000, 0, raw)]);
    const out = { alerts: [], events: [] } as Pick<import('../../../host/wasm/types.js').BatchOutput, 'alerts' | 'events'>;
    inst.flowEnded(600_000, (a, e) => { out.alerts.push(...a); out.events.push(...e); });
    expect(inst.stats.hostcallErrors).toBe(0);
    expect(r.alerts.map((a) => a.sigId)).toEqual([SID.TRAVERSAL]);
    expect((r.alerts[0]!.metadata as { url: string }).url).toBe('/d?f=../../etc/passwd\ufffd');
    expect(out.events.map((e) => [e.data.hostname, e.data.http_user_agent])).toEqual([['a\ufffd.example', 'x\ufffd\ufffd\ufffdy']]);
  });

  it('inspects pathological 60 KB values in linear time (no quadratic rescans)', async () => {
    const inst = await waf({ body_depth: 65536, stream_depth: 1 << 20, max_header_bytes: 65536 });
    const form = (v: string) => request('POST', '/f', { 'Content-Type': 'application/x-www-form-urlencoded' }, 'v=' + encodeURIComponent(v));
    const cases = [
      '${'.repeat(30000), "<a x='".repeat(10000), ';'.repeat(60000), '<a '.repeat(20000), '/*'.repeat(30000),
      "'".repeat(60000), '%25'.repeat(20000), '..%2f'.repeat(12000), '&#'.repeat(30000), '$('.repeat(30000),
      '}'.repeat(60000), '&#0'.repeat(20000), '<'.repeat(60000), 'on'.repeat(30000), '\\'.repeat(60000),
    ];
    // a linear scan of 60 KB takes well under a millisecond; a quadratic one takes seconds
    // (the 500 ms floor is for a GC pause or a descheduled test worker, not for the scan)
    const baseline = time(() => run(inst, [streamItem(700_000, 0, bytesOf(form('x'.repeat(60000))))]));
    cases.forEach((v, i) => {
      const t = time(() => run(inst, [streamItem(700_001 + i, 0, bytesOf(form(v)))]));
      expect(t, `case ${i} (${v.slice(0, 8)}...) took ${t.toFixed(1)} ms, plain text ${baseline.toFixed(1)} ms`).toBeLessThan(Math.max(500, baseline * 20));
    });
    // 5,000 harmless arguments (far past any fixed argument cap) do not hide the last one
    const padded = request('GET', '/s?' + Array.from({ length: 5000 }, (_, i) => `p${i}=1`).join('&') + '&q=%3Cscript%3E');
    expect(run(inst, [streamItem(700_100, 0, bytesOf(padded))]).alerts.map((a) => a.sigId)).toEqual([SID.XSS]);
  });

  it('keeps the cost of a head sent one byte per packet linear', async () => {
    const inst = await waf({ max_header_bytes: 65536, stream_depth: 1 << 20 });
    const head = bytesOf(`GET /?q=%3Cscript%3E HTTP/1.1\r\nHost: a\r\nX-Pad: ${'p'.repeat(20000)}\r\n\r\n`);
    const t0 = inst.stats.timeNs;
    for (let n = 1; n <= head.length; n += 64) {
      const items = [];
      for (let k = n; k < Math.min(n + 64, head.length + 1); k++) items.push(streamItem(800_000, 0, head.subarray(0, k)));
      run(inst, items);
    }
    const ms = (inst.stats.timeNs - t0) / 1e6;
    // 20,000 packets each parsing the whole 20 KB head again would be 4e8 byte steps (seconds)
    expect(ms).toBeLessThan(2000);
    expect(inst.stats.alerts).toBe(1);
  });

  // Host mode sees no responses: each request waits for one until the flow
  // ends. ~100 connections pipelining long URLs held 16 MiB of them, and
  // every later batch trapped: the WAF was off for everyone.
  it('holds at most a bounded amount of requests waiting for responses: 1,024 pipelining flows, no trap, every request reported', async () => {
    // 16 flows a batch: their 224 events stay inside the host's 256 a batch.
    const inst = await waf(undefined, undefined, { batchCapacity: 16 });
    const one = `GET /${'a'.repeat(3900)} HTTP/1.1\r\nHost: shop.example\r\nUser-Agent: ${'u'.repeat(400)}\r\n\r\n`;
    const msg = bytesOf(one.repeat(14));
    let events = 0;
    for (let base = 0; base < 1024; base += 16) {
      const r = run(inst, Array.from({ length: 16 }, (_, i) => streamItem(2_000_000 + base + i, 0, msg)));
      events += r.events.length;
    }
    expect(inst.memoryBytes).toBeLessThanOrEqual(24 * MiB);
    // The flows past the budget report their requests at once, without a status.
    expect(events).toBeGreaterThan(900 * 14);
    const ended: unknown[] = [];
    for (let i = 0; i < 1024; i++) inst.flowEnded(2_000_000 + i, (_alerts, ev) => { ended.push(...ev); });
    // Every request is reported once; a flow end carries fewer events than
    // a held flow has, and the host counts the ones over its budget.
    expect(events + ended.length + inst.outputDrops().eventsDropped).toBe(1024 * 14);
  });

  it('a flow pipelining more than 16 unanswered requests reports the oldest, not loses it', async () => {
    const inst = await waf();
    const msg = bytesOf(Array.from({ length: 20 }, (_, i) => request('GET', `/r${i}`)).join(''));
    const r = run(inst, [streamItem(3_000_000, 0, msg)]);
    expect(r.events.map((e) => e.data.url)).toEqual(['/r0', '/r1', '/r2', '/r3']);
    const ended: ModuleEvent[] = [];
    inst.flowEnded(3_000_000, (_alerts, ev) => { ended.push(...ev); });
    expect(ended.map((e) => e.data.url)).toEqual(Array.from({ length: 16 }, (_, i) => `/r${i + 4}`));
  });

  it('keeps memory flat over many flows that end (no per-flow leak)', async () => {
    const inst = await waf(undefined, undefined, { batchCapacity: 64 });
    const msg = bytesOf(request('POST', '/api', { 'Content-Type': 'application/json' }, JSON.stringify({ text: 'x'.repeat(4000) })));
    const round = (base: number) => {
      const items = Array.from({ length: 64 }, (_, i) => streamItem(base + i, 0, msg));
      run(inst, items);
      for (let i = 0; i < 64; i++) inst.flowEnded(base + i);
    };
    for (let k = 0; k < 30; k++) round(500_000 + k * 64);
    const warm = inst.memoryBytes;
    for (let k = 30; k < 200; k++) round(500_000 + k * 64);
    expect(inst.memoryBytes).toBeLessThanOrEqual(warm + 2 * MiB);
  });
});

function time(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}
