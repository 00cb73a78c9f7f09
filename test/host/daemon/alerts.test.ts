// Reading alerts back from an EVE file the way `secuxflow alerts` does,
// including a file that grows and one that is rotated under --follow.
import { afterAll, describe, expect, it } from 'vitest';
import { appendFileSync, mkdtempSync as mkdtempRaw, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eveTimeMs, parseAlertLine, parseSince, readLinesFrom } from '../../../host/daemon/alerts.js';
import { alertsCommand, recentAlerts } from '../../../cli/commands/alerts.js';

const made: string[] = [];
const mkdtempSync = (p: string): string => { const d = mkdtempRaw(p); made.push(d); return d; };
afterAll(() => { for (const d of made) rmSync(d, { recursive: true, force: true }); });

const alert = (ts: string, sid: number): string => JSON.stringify({
  timestamp: ts, flow_id: 1, event_type: 'alert', src_ip: '198.18.0.1', src_port: 40000, dest_ip: '198.18.1.1', dest_port: 80, proto: 'TCP',
  alert: { action: 'blocked', gid: 1, signature_id: sid, rev: 1, signature: `sig ${sid}`, category: 'x', severity: 1 },
});

describe('alerts from the EVE file', () => {
  it('parses EVE timestamps and --since forms', () => {
    expect(eveTimeMs('2026-11-22T10:00:00.123456+0000')).toBe(Date.parse('2026-11-22T10:00:00.123Z'));
    expect(parseSince('10m', 1_000_000_000)).toBe(1_000_000_000 - 600_000);
    expect(parseSince('2026-11-22T10:00:00Z')).toBe(Date.parse('2026-11-22T10:00:00Z'));
    expect(parseSince('1763805600')).toBe(1763805600 * 1000);
    expect(() => parseSince('yesterday-ish')).toThrow(/--since "yesterday-ish" is not a time/);
  });

  it('keeps alerts only, skips other events and broken lines, honours --since and --limit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sfalerts-'));
    const eve = join(dir, 'eve.json');
    writeFileSync(eve, [
      alert('2026-11-22T10:00:00.000000+0000', 1),
      JSON.stringify({ timestamp: '2026-11-22T10:00:01.000000+0000', event_type: 'flow' }),
      '{broken',
      alert('2026-11-22T10:05:00.000000+0000', 2),
      alert('2026-11-22T10:06:00.000000+0000', 3),
      '',
    ].join('\n'));
    expect(recentAlerts(eve, 0, 50).alerts.map((a) => a.record.alert)).toMatchObject([{ signature_id: 1 }, { signature_id: 2 }, { signature_id: 3 }]);
    expect(recentAlerts(eve, Date.parse('2026-11-22T10:01:00Z'), 50).alerts).toHaveLength(2);
    expect(recentAlerts(eve, 0, 1).alerts.map((a) => (a.record.alert as { signature_id: number }).signature_id)).toEqual([3]);
    expect(parseAlertLine('{"event_type":"flow"}')).toBeNull();
  });

  it('prints a table or JSON lines, and says when there is nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sfalerts-'));
    const eve = join(dir, 'eve.json');
    let out = '';
    await alertsCommand({ eve }, (s) => { out += s; });
    expect(out).toMatch(/no alerts in/);
    writeFileSync(eve, `${alert('2026-11-22T10:00:00.000000+0000', 7)}\n`);
    out = '';
    await alertsCommand({ eve }, (s) => { out += s; });
    expect(out).toMatch(/SIGNATURE/);
    expect(out).toMatch(/blocked\s+7\s+1\s+198\.18\.0\.1:40000 -> 198\.18\.1\.1:80\s+TCP\s+sig 7/);
    out = '';
    await alertsCommand({ eve, json: true }, (s) => { out += s; });
    expect(JSON.parse(out.trim())).toMatchObject({ alert: { signature_id: 7 } });
  });

  it('reads only complete lines, continues where it stopped, and starts over after truncation', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sfalerts-'));
    const eve = join(dir, 'eve.json');
    writeFileSync(eve, 'one\ntw');
    const a = readLinesFrom(eve, 0);
    expect(a.lines).toEqual(['one']);
    appendFileSync(eve, 'o\nthree\n');
    const b = readLinesFrom(eve, a.offset);
    expect(b.lines).toEqual(['two', 'three']);
    writeFileSync(eve, 'new\n');
    expect(readLinesFrom(eve, b.offset).lines).toEqual(['new']);
    expect(readLinesFrom(join(dir, 'missing.json'), 0)).toEqual({ lines: [], offset: 0 });
  });
});
