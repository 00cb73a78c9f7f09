// Reading alerts back from an EVE file the way `secuxflow alerts` does,
// including a file that grows and one that is rotated under --follow, lines
// that span the reader's chunks, and files that are missing or not files.
import { afterAll, describe, expect, it } from 'vitest';
import { appendFileSync, mkdirSync, mkdtempSync as mkdtempRaw, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eveTimeMs, parseAlertLine, parseSince, readLinesFrom, recentAlerts, type EvePosition, type ReadOptions } from '../../../host/daemon/alerts.js';
import { alertsCommand } from '../../../cli/commands/alerts.js';
import { SecuxflowError } from '../../../host/errors.js';

const made: string[] = [];
const mkdtempSync = (p: string): string => { const d = mkdtempRaw(p); made.push(d); return d; };
afterAll(() => { for (const d of made) rmSync(d, { recursive: true, force: true }); });

const alert = (ts: string, sid: number, extra: Record<string, unknown> = {}): string => JSON.stringify({
  timestamp: ts, flow_id: 1, event_type: 'alert', src_ip: '198.18.0.1', src_port: 40000, dest_ip: '198.18.1.1', dest_port: 80, proto: 'TCP',
  alert: { action: 'blocked', gid: 1, signature_id: sid, rev: 1, signature: `sig ${sid}`, category: 'x', severity: 1 }, ...extra,
});
const at = (min: number): string => `2026-11-22T10:${String(min).padStart(2, '0')}:00.000000+0000`;
const sids = (list: { record: Record<string, unknown> }[]): number[] => list.map((a) => (a.record.alert as { signature_id: number }).signature_id);

function readAll(path: string, from: EvePosition = { offset: 0, ino: 0 }, opts?: ReadOptions): { lines: string[]; pos: EvePosition } {
  const lines: string[] = [];
  const pos = readLinesFrom(path, from, (l) => lines.push(l.toString('utf8')), opts);
  return { lines, pos };
}

async function run(o: Parameters<typeof alertsCommand>[0]): Promise<string> {
  let out = '';
  await alertsCommand(o, (s) => { out += s; });
  return out;
}

async function failure(o: Parameters<typeof alertsCommand>[0]): Promise<SecuxflowError> {
  try {
    await run(o);
  } catch (e) {
    expect(e).toBeInstanceOf(SecuxflowError);
    return e as SecuxflowError;
  }
  throw new Error('expected an error');
}

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
      alert(at(0), 1),
      JSON.stringify({ timestamp: '2026-11-22T10:00:01.000000+0000', event_type: 'flow' }),
      '{broken',
      '{"event_type":"alert","timestamp":"2026-11-22T10:0', // cut short by a crash
      'not json but says alert',
      '',
      alert(at(5), 2),
      alert(at(6), 3),
      '',
    ].join('\n'));
    expect(recentAlerts(eve, 0, 50).alerts.map((a) => a.record.alert)).toMatchObject([{ signature_id: 1 }, { signature_id: 2 }, { signature_id: 3 }]);
    expect(recentAlerts(eve, Date.parse('2026-11-22T10:01:00Z'), 50).alerts).toHaveLength(2);
    expect(sids(recentAlerts(eve, 0, 1).alerts)).toEqual([3]);
    expect(parseAlertLine('{"event_type":"flow"}')).toBeNull();
  });

  it('applies --since and --limit together: the newest N of those at or after the time', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sfalerts-'));
    const eve = join(dir, 'eve.json');
    // Queues flush in turn, so times are not strictly in order in the file.
    const mins = [1, 2, 9, 3, 10, 4, 11, 12, 5, 13];
    writeFileSync(eve, mins.map((m) => `${alert(at(m), m)}\n`).join(''));
    const since = Date.parse('2026-11-22T10:09:00Z');
    expect(sids(recentAlerts(eve, since, 3).alerts)).toEqual([11, 12, 13]);
    expect(sids(recentAlerts(eve, since, 50).alerts)).toEqual([9, 10, 11, 12, 13]);
    expect(sids(recentAlerts(eve, since, 3, { chunkBytes: 16 }).alerts)).toEqual([11, 12, 13]);
    const out = await run({ eve, since: '2026-11-22T10:09:00Z', limit: '2', json: true });
    expect(out.trim().split('\n').map((l) => (JSON.parse(l) as { alert: { signature_id: number } }).alert.signature_id)).toEqual([12, 13]);
    expect(await run({ eve, since: '2026-11-22T11:00:00Z', limit: '2' })).toMatch(/^no alerts in .*eve\.json since 2026-11-22T11:00:00Z\n$/);
    await expect(run({ eve, limit: '0' })).rejects.toMatchObject({ code: 'E_USAGE', message: expect.stringMatching(/--limit "0"/) });
  });

  it('prints a table or JSON lines, and says when there is nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sfalerts-'));
    const eve = join(dir, 'eve.json');
    writeFileSync(eve, '');
    expect(await run({ eve })).toMatch(/no alerts in/);
    writeFileSync(eve, `${alert(at(0), 7)}\n`);
    const out = await run({ eve });
    expect(out).toMatch(/SIGNATURE/);
    expect(out).toMatch(/blocked\s+7\s+1\s+198\.18\.0\.1:40000 -> 198\.18\.1\.1:80\s+TCP\s+sig 7/);
    expect(JSON.parse((await run({ eve, json: true })).trim())).toMatchObject({ alert: { signature_id: 7 } });
  });

  it('reads only complete lines, continues where it stopped, and starts over after truncation or replacement', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sfalerts-'));
    const eve = join(dir, 'eve.json');
    writeFileSync(eve, 'one\ntw');
    const a = readAll(eve);
    expect(a.lines).toEqual(['one']);
    expect(a.pos.offset).toBe(4);
    appendFileSync(eve, 'o\nthree\n');
    const b = readAll(eve, a.pos);
    expect(b.lines).toEqual(['two', 'three']);
    expect(readAll(eve, b.pos).lines).toEqual([]);
    // copytruncate: same file, shorter.
    truncateSync(eve, 0);
    appendFileSync(eve, 'new\n');
    const c = readAll(eve, b.pos);
    expect(c.lines).toEqual(['new']);
    // Replaced by another file at least as long as the old offset.
    renameSync(eve, `${eve}.1`);
    writeFileSync(eve, 'other-a\nother-b\n');
    expect(readAll(eve, c.pos).lines).toEqual(['other-a', 'other-b']);
    // Gone for a moment between a rotation's rename and the new file.
    expect(readAll(join(dir, 'missing.json'), c.pos)).toEqual({ lines: [], pos: { offset: 0, ino: 0 } });
  });

  it('joins lines that span chunks and lines longer than a chunk, in both directions', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sfalerts-'));
    const eve = join(dir, 'eve.json');
    const long = alert(at(2), 2, { payload_printable: 'x'.repeat(5000) });
    const text = [alert(at(1), 1), long, '{"event_type":"flow"}', alert(at(3), 3), long.replace('"signature_id":2', '"signature_id":4'), ''].join('\n');
    writeFileSync(eve, text);
    const want = text.split('\n').slice(0, -1);
    for (const chunkBytes of [1, 2, 7, 64, 4096, 5001, 1 << 20]) {
      expect(readAll(eve, undefined, { chunkBytes }).lines, `forward, chunk ${chunkBytes}`).toEqual(want);
      expect(sids(recentAlerts(eve, 0, 50, { chunkBytes }).alerts), `backward, chunk ${chunkBytes}`).toEqual([1, 2, 3, 4]);
      expect(sids(recentAlerts(eve, 0, 2, { chunkBytes }).alerts), `backward limit, chunk ${chunkBytes}`).toEqual([3, 4]);
      expect(recentAlerts(eve, 0, 50, { chunkBytes }).position.offset).toBe(Buffer.byteLength(text));
    }
  });

  it('matches a plain whole-file parse on many random files and chunk sizes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sfalerts-'));
    const eve = join(dir, 'eve.json');
    let seed = 42;
    const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
    for (let round = 0; round < 60; round++) {
      const parts: string[] = [];
      const count = rnd(30);
      for (let i = 0; i < count; i++) {
        const k = rnd(6);
        parts.push(k < 3 ? alert(at(rnd(60)), i, k === 2 ? { payload_printable: 'é'.repeat(rnd(300)) } : {})
          : k === 3 ? JSON.stringify({ event_type: 'flow', timestamp: at(rnd(60)) })
            : k === 4 ? '{"event_type":"alert","timest' : '');
      }
      const ends = rnd(3); // 0: newline, 1: partial alert, 2: complete alert without newline
      const text = parts.join('\n') + (ends === 0 ? '\n' : ends === 1 ? `\n{"event_type":"alert` : `\n${alert(at(59), 999)}`);
      writeFileSync(eve, text);
      const complete = text.slice(0, text.lastIndexOf('\n') + 1);
      const since = Date.parse(at(rnd(60)).replace('+0000', 'Z'));
      const limit = 1 + rnd(12);
      for (const partialTail of [false, true]) {
        const lines = (partialTail ? text : complete).split('\n');
        const naive = lines.map(parseAlertLine).filter((a) => a !== null && a.timeMs >= since).slice(-limit);
        const chunkBytes = 1 + rnd(400);
        const got = recentAlerts(eve, since, limit, { chunkBytes, partialTail });
        expect(got.alerts.map((a) => a.record), `round ${round} chunk ${chunkBytes} partialTail ${partialTail}`).toEqual(naive.map((a) => a!.record));
        expect(got.position.offset).toBe(Buffer.byteLength(complete));
      }
      expect(readAll(eve, undefined, { chunkBytes: 1 + rnd(400) }).lines).toEqual(complete.split('\n').slice(0, -1));
    }
  });

  it('skips a line past the length bound without holding it, and reads on after it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sfalerts-'));
    const eve = join(dir, 'eve.json');
    const huge = alert(at(2), 2, { payload_printable: 'y'.repeat(10_000) });
    writeFileSync(eve, [alert(at(1), 1), huge, alert(at(3), 3), ''].join('\n'));
    const opts = { chunkBytes: 256, maxLineBytes: 1024 };
    expect(sids(recentAlerts(eve, 0, 50, opts).alerts)).toEqual([1, 3]);
    expect(readAll(eve, undefined, opts).lines.map((l) => (JSON.parse(l) as { alert: { signature_id: number } }).alert.signature_id)).toEqual([1, 3]);
  });

  it('reads a last line without its newline only when not following, and never half of one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sfalerts-'));
    const eve = join(dir, 'eve.json');
    writeFileSync(eve, `${alert(at(1), 1)}\n${alert(at(2), 2)}`);
    expect(sids(recentAlerts(eve, 0, 50, { partialTail: true }).alerts)).toEqual([1, 2]);
    const following = recentAlerts(eve, 0, 50);
    expect(sids(following.alerts)).toEqual([1]);
    // --follow picks it up once its newline is written, and only then.
    appendFileSync(eve, '\n');
    expect(readAll(eve, following.position).lines.map((l) => parseAlertLine(l)?.record.alert)).toMatchObject([{ signature_id: 2 }]);
    writeFileSync(eve, `${alert(at(1), 1)}\n${alert(at(2), 2).slice(0, 40)}`);
    expect(sids(recentAlerts(eve, 0, 50, { partialTail: true }).alerts)).toEqual([1]);
    expect((await run({ eve, json: true })).trim().split('\n')).toHaveLength(1);
    writeFileSync(eve, alert(at(4), 4)); // one line, no newline at all
    expect(sids(recentAlerts(eve, 0, 50, { partialTail: true }).alerts)).toEqual([4]);
    expect(recentAlerts(eve, 0, 50).alerts).toEqual([]);
  });

  it('refuses a missing --eve file, a directory and a non-file with E_IO naming the path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sfalerts-'));
    const missing = join(dir, 'nope', 'eve.json');
    const e1 = await failure({ eve: missing });
    expect(e1.code).toBe('E_IO');
    expect(e1.message).toBe(`the EVE file ${missing} does not exist`);
    expect(e1.hint).toMatch(/secuxflow run --eve/);
    expect((await failure({ eve: missing, follow: true })).code).toBe('E_IO');

    const e2 = await failure({ eve: dir });
    expect(e2.code).toBe('E_IO');
    expect(e2.message).toBe(`the EVE file ${dir} is a directory`);
    writeFileSync(join(dir, 'eve.json'), '');
    expect((await failure({ eve: dir })).hint).toBe(`did you mean --eve ${join(dir, 'eve.json')}?`);
    expect(() => readLinesFrom(dir, { offset: 0, ino: 0 }, () => {})).toThrow(/is a directory/);

    const e3 = await failure({ eve: '/dev/null' });
    expect(e3).toMatchObject({ code: 'E_IO', message: 'the EVE file /dev/null is not a regular file' });
    // A daemon run with --eve /dev/null kept nothing: copying the device would not help.
    expect(e3.hint).toBe('a device keeps no alerts to read: start the daemon with --eve FILE (or without --eve: <state-dir>/eve.json) and read that');
    // A FIFO is refused at once rather than blocking the open for a writer.
    const fifo = join(dir, 'fifo');
    if (spawnSync('mkfifo', [fifo]).status === 0) {
      expect(await failure({ eve: fifo })).toMatchObject({ code: 'E_IO', message: `the EVE file ${fifo} is not a regular file` });
    }
    if (process.getuid?.() !== 0) {
      const locked = join(dir, 'locked.json');
      writeFileSync(locked, '', { mode: 0o000 });
      expect(await failure({ eve: locked })).toMatchObject({ code: 'E_IO', message: `the EVE file ${locked} is not readable (permission denied)` });
    }
    expect((await failure({ eve: '' })).code).toBe('E_USAGE');
  });

  it('says plainly when the default file does not exist yet, without failing', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'sfalerts-'));
    const out = await run({ stateDir });
    expect(out).toBe(`no alerts: ${join(stateDir, 'eve.json')} does not exist yet (a daemon creates it when it starts; if yours runs with --eve or another --state-dir, pass the same here)\n`);
    expect(await run({ stateDir, json: true })).toBe('');
    mkdirSync(join(stateDir, 'sub'));
    expect(await run({ stateDir: join(stateDir, 'sub') })).toMatch(/does not exist yet/);
  });
});
