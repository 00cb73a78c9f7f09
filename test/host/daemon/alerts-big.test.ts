// A big EVE file read in-process: recent alerts come from its end and the
// forward reader (--follow, after a truncation) streams it, both in bounded
// memory. The old reader built one string of the whole file and failed past
// 512 MiB with E_INTERNAL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readLinesFrom, recentAlerts } from '../../../host/daemon/alerts.js';

const MB = 1 << 20;
const SIZE_MB = 100;
const PARTIAL = 120;
let dir = '';
let eve = '';
let size = 0;

const flowLine = (i: number): string => `${JSON.stringify({
  timestamp: '2026-11-22T09:00:00.000000+0000', flow_id: i, event_type: 'flow', src_ip: '198.18.0.1', src_port: 40000,
  dest_ip: '198.18.1.1', dest_port: 80, proto: 'TCP', flow: { pkts_toserver: 3, bytes_toserver: 180 },
})}\n`;
const alertLine = (min: number, sid: number): string => `${JSON.stringify({
  timestamp: `2026-11-22T10:${String(min).padStart(2, '0')}:00.000000+0000`, event_type: 'alert', src_ip: '198.18.0.1', dest_ip: '198.18.1.1',
  proto: 'TCP', alert: { action: 'blocked', signature_id: sid, severity: 1, signature: `big ${sid}` },
})}\n`;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sfalerts-big-'));
  eve = join(dir, 'eve.json');
  let block = '';
  for (let i = 0; block.length < MB; i++) block += flowLine(i);
  const bytes = Buffer.from(block);
  const fd = openSync(eve, 'w');
  try {
    // One early alert, so a scan that reaches the start has something to find.
    size += writeSync(fd, alertLine(0, 1));
    while (size < SIZE_MB * MB) size += writeSync(fd, bytes);
    for (let k = 1; k <= 3; k++) size += writeSync(fd, alertLine(k, 100 + k));
    size += writeSync(fd, flowLine(7).slice(0, PARTIAL)); // the daemon mid-line
  } finally {
    closeSync(fd);
  }
});
afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

const sids = (list: { record: Record<string, unknown> }[]): number[] => list.map((a) => (a.record.alert as { signature_id: number }).signature_id);

describe(`alerts from a ${SIZE_MB} MB EVE file`, () => {
  it('finds the last alerts from the end without reading the rest', () => {
    const t0 = performance.now();
    const r = recentAlerts(eve, 0, 3);
    expect(sids(r.alerts)).toEqual([101, 102, 103]);
    expect(r.position.offset).toBe(size - PARTIAL);
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it('scans the whole file in bounded heap when fewer alerts match than the limit', () => {
    const before = process.memoryUsage().heapUsed;
    const all = recentAlerts(eve, 0, 50);
    expect(sids(all.alerts)).toEqual([1, 101, 102, 103]);
    const since = recentAlerts(eve, Date.parse('2026-11-22T10:02:00Z'), 50);
    expect(sids(since.alerts)).toEqual([102, 103]);
    // Only a peak measurement is conclusive (the CLI test takes the child's
    // max RSS); this catches a reader that keeps what it read.
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(64 * MB);
  });

  it('streams the file forwards with heap growth under 64 MB', () => {
    const before = process.memoryUsage().heapUsed;
    let peak = before;
    let lines = 0;
    let alerts = 0;
    const pos = readLinesFrom(eve, { offset: 0, ino: 0 }, (line) => {
      if (++lines % 5000 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed);
      if (line.includes('"event_type":"alert"')) alerts++;
    });
    expect(alerts).toBe(4);
    expect(pos.offset).toBe(size - PARTIAL);
    expect(lines).toBeGreaterThan(300_000);
    expect(peak - before).toBeLessThan(64 * MB);
  });
});
