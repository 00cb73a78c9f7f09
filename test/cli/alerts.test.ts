// `secuxflow alerts` as a user runs it (the built CLI): bad --eve paths give
// E_IO naming the file, a big file stays in bounded memory, and --follow
// keeps going through copytruncate and rotation.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, closeSync, mkdirSync, openSync, renameSync, rmSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CLI, cli, requireBuilt, tempDir } from './support.js';
import { fakeDaemon } from '../host/control/fake-daemon.js';
import { runCliAsync } from '../host/state/helpers.js';
import { childEnded } from '../support/child-exit.js';

const MB = 1 << 20;
beforeAll(() => requireBuilt());

const alertLine = (min: number, sid: number): string => `${JSON.stringify({
  timestamp: `2026-11-22T10:${String(min).padStart(2, '0')}:00.000000+0000`, event_type: 'alert', src_ip: '198.18.0.1', src_port: 40000,
  dest_ip: '198.18.1.1', dest_port: 80, proto: 'TCP', alert: { action: 'blocked', signature_id: sid, severity: 1, signature: `sig ${sid}` },
})}\n`;
const sidsOf = (stdout: string): number[] => stdout.trim().split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { alert: { signature_id: number } }).alert.signature_id);

/** Runs the CLI in a child that reports its own peak RSS on exit. */
function cliMaxRss(dir: string, args: string[]): { status: number; stdout: string; stderr: string; maxRssMb: number } {
  const wrapper = join(dir, 'maxrss.mjs');
  writeFileSync(wrapper, [
    "process.on('exit', () => process.stderr.write(`\\nmaxrss_kb=${process.resourceUsage().maxRSS}\\n`));",
    `process.argv[1] = ${JSON.stringify(CLI)};`,
    `await import(${JSON.stringify(pathToFileURL(CLI).href)});`,
  ].join('\n'));
  const r = spawnSync(process.execPath, [wrapper, ...args], { encoding: 'utf8', timeout: 120_000 });
  const kb = /maxrss_kb=(\d+)/.exec(r.stderr);
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr.replace(/\nmaxrss_kb=\d+\n$/, ''), maxRssMb: kb ? Number(kb[1]) / 1024 : Infinity };
}

describe('secuxflow alerts with a daemon running', () => {
  it('reads the EVE file the daemon says it writes, which --eve put outside the state directory', async () => {
    const state = tempDir('alerts-state');
    const elsewhere = join(tempDir('alerts-eve'), 'custom-eve.json');
    writeFileSync(elsewhere, alertLine(1, 4242));
    const fake = await fakeDaemon(state, (req) => JSON.stringify({ id: req.id, ok: true, result: { daemon: { running: true, eve: elsewhere } } }));
    try {
      const r = await runCliAsync(['alerts', '--json', '--state-dir', state]);
      expect(r.code, r.stderr).toBe(0);
      expect(sidsOf(r.stdout)).toEqual([4242]);
      expect(fake.methods).toEqual(['status']);
    } finally {
      await fake.close();
    }
    // no daemon: the state directory's own file, which does not exist yet
    const none = cli(['alerts', '--state-dir', state]);
    expect(none.status).toBe(0);
    expect(none.stdout).toMatch(/no alerts: .*eve\.json does not exist yet/);
  });
});

describe('secuxflow alerts (built CLI)', () => {
  it('E_IO names a missing --eve file or a directory, with a hint and no stack', () => {
    const dir = tempDir('alerts');
    const missing = join(dir, 'typo', 'eve.json');
    const a = cli(['alerts', '--eve', missing]);
    expect(a.status).toBe(1);
    expect(a.stdout).toBe('');
    expect(a.stderr).toMatch(new RegExp(`^secuxflow alerts: error\\[E_IO\\]: the EVE file ${missing} does not exist\\n  hint: .*secuxflow run --eve`));
    const d = cli(['alerts', '--eve', dir]);
    expect(d.status).toBe(1);
    expect(d.stderr).toBe(`secuxflow alerts: error[E_IO]: the EVE file ${dir} is a directory\n  hint: point --eve at the file itself: the daemon appends to the file given to \`secuxflow run --eve\` (default <state-dir>/eve.json); \`secuxflow status\` shows it while the daemon runs, and \`secuxflow alerts\` without --eve reads it\n`);
    for (const r of [a, d]) expect(r.stderr).not.toMatch(/E_INTERNAL|\n\s+at .*:\d+/);
    // No --eve and no daemon yet: said plainly, exit 0.
    const none = cli(['alerts', '--state-dir', dir]);
    expect(none.status).toBe(0);
    expect(none.stdout).toMatch(/^no alerts: .*eve\.json does not exist yet/);
  });

  it('--limit and --since together', () => {
    const dir = tempDir('alerts');
    const eve = join(dir, 'eve.json');
    writeFileSync(eve, [1, 5, 2, 6, 7, 3, 8].map((m) => alertLine(m, m)).join(''));
    const r = cli(['alerts', '--eve', eve, '--json', '--since', '2026-11-22T10:05:00Z', '--limit', '3']);
    expect(r.status).toBe(0);
    expect(sidsOf(r.stdout)).toEqual([6, 7, 8]);
    expect(cli(['alerts', '--eve', eve, '--limit', 'lots']).stderr).toMatch(/error\[E_USAGE\]: --limit "lots" is not a number of alerts from 1 to 1000000/);
  });

  it('--limit takes decimal digits only, as every other count', () => {
    const eve = join(tempDir('alerts-limit'), 'eve.json');
    writeFileSync(eve, [1, 2, 3, 4].map((m) => alertLine(m, m)).join(''));
    expect(sidsOf(cli(['alerts', '--eve', eve, '--json', '--limit', '2']).stdout)).toEqual([3, 4]);
    for (const bad of ['1e3', '0x2', '0b11', ' 3', '3 ', '+2', '0', '-1', '2.5', '99999999999999999999', '']) {
      const r = cli(['alerts', '--eve', eve, '--limit', bad]);
      expect(r.status, bad).toBe(2);
      expect(r.stdout, bad).toBe('');
      expect(r.stderr, bad).toContain(`error[E_USAGE]: --limit ${JSON.stringify(bad)} is not a number of alerts`);
    }
  });

  it('--since refuses a date that does not exist, and forms it would have to guess at', () => {
    const eve = join(tempDir('alerts-since-strict'), 'eve.json');
    writeFileSync(eve, alertLine(1, 1));
    const refused: [string, RegExp][] = [
      ['2026-02-30T00:00:00', /is not a date and time that exists/],
      ['2026-02-29', /is not a date and time that exists/],
      ['2026-11-22T24:00', /is not a date and time that exists/],
      ['2026-1-1', /is not a time/],
      ['2026/11/22', /is not a time/],
      ['Nov 22 2026', /is not a time/],
      ['20260101', /is ambiguous: a date without its dashes.*\n  hint: write the date as 2026-01-01/],
      ['1767225600000', /looks like epoch milliseconds\n  hint: give epoch seconds: 1767225600/],
    ];
    for (const [since, why] of refused) {
      const r = cli(['alerts', '--eve', eve, '--since', since]);
      expect(r.status, since).toBe(2);
      expect(r.stderr, since).toMatch(new RegExp(`error\\[E_USAGE\\]: --since ${JSON.stringify(since).replace(/[/\\^$.*+?()[\]{}|]/g, '\\$&')} ${why.source}`));
    }
    // The forms it documents still work: a leap day that exists, epoch seconds, an age.
    for (const since of ['2024-02-29', '2026-11-22', '1763805600', '100000d']) {
      expect(sidsOf(cli(['alerts', '--eve', eve, '--json', '--since', since]).stdout), since).toEqual([1]);
    }
    expect(cli(['alerts', '--eve', eve, '--json', '--since', '2026-11-22T10:01:00.001Z']).stdout).toBe('');
  });

  it('an IPv6 endpoint is bracketed, so its port cannot read as part of the address', () => {
    const eve = join(tempDir('alerts-v6'), 'eve.json');
    const line = JSON.parse(alertLine(1, 1)) as Record<string, unknown>;
    writeFileSync(eve, `${JSON.stringify({ ...line, src_ip: '2001:db8::1', dest_ip: '2001:db8::2', dest_port: 23 })}\n`);
    const r = cli(['alerts', '--eve', eve]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('[2001:db8::1]:40000 -> [2001:db8::2]:23');
    expect(cli(['alerts', '--eve', eve.replace('eve.json', 'none.json')]).status).toBe(1);
  });

  it('damaged lines are skipped and counted on stderr, not passed over in silence', () => {
    const dir = tempDir('alerts-damaged');
    const eve = join(dir, 'eve.json');
    writeFileSync(eve, `garbage\n${alertLine(1, 1)}\ufeff${alertLine(2, 2)}${alertLine(3, 3).slice(0, 40)}\n\n${alertLine(4, 4)}`);
    const r = cli(['alerts', '--eve', eve, '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(sidsOf(r.stdout)).toEqual([1, 4]);
    expect(r.stderr).toBe(`secuxflow alerts: skipped 3 lines of ${eve} that are not an EVE record (not a JSON object, or over 16 MiB)\n`);
    const all = join(dir, 'garbage.json');
    writeFileSync(all, 'not\nan eve\nfile\n');
    const g = cli(['alerts', '--eve', all]);
    expect(g.stdout).toBe(`no alerts in ${all}\n`);
    expect(g.stderr).toMatch(/skipped 3 lines/);
    // A clean file says nothing of the kind.
    writeFileSync(all, alertLine(1, 1));
    expect(cli(['alerts', '--eve', all]).stderr).toBe('');
  });

  it('--since with no zone is UTC, the clock of the TIME column, whatever the local zone', () => {
    const dir = tempDir('alerts-since-zone');
    const eve = join(dir, 'eve.json');
    writeFileSync(eve, [1, 5, 8].map((m) => alertLine(m, m)).join(''));
    const table = cli(['alerts', '--eve', eve], { TZ: 'America/New_York' });
    expect(table.stdout).toContain('2026-11-22 10:05:00.000');
    for (const since of ['2026-11-22 10:05:00.000', '2026-11-22T10:05', '2026-11-22T10:05:00Z']) {
      for (const TZ of ['America/New_York', 'Asia/Tokyo']) {
        const r = cli(['alerts', '--eve', eve, '--json', '--since', since], { TZ });
        expect(sidsOf(r.stdout), `${since} in ${TZ}`).toEqual([5, 8]);
      }
    }
    // A zone given is kept: 05:05 in New York is 10:05 UTC.
    expect(sidsOf(cli(['alerts', '--eve', eve, '--json', '--since', '2026-11-22T05:05:00-05:00']).stdout)).toEqual([5, 8]);
  });

  it('a signature made of terminal escapes (a custom module wrote it): the table shows it escaped, with no escape and no forged row', () => {
    const dir = tempDir('alerts-hostile');
    const eve = join(dir, 'eve.json');
    writeFileSync(eve, `${JSON.stringify({
      timestamp: '2026-11-22T10:01:00.000000+0000', event_type: 'alert', src_ip: '198.18.0.1\u001b[2J', src_port: 40000,
      dest_ip: '198.18.1.1', dest_port: 80, proto: 'TCP',
      alert: { action: 'allowed', signature_id: 4242, severity: 1, signature: '\u001b[31mEVIL\u001b]0;pwned\u0007\n2026-11-22 10:02:00.000  blocked  1  1  forged' },
    })}\n`);
    const r = cli(['alerts', '--eve', eve]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f]/);
    expect(r.stdout).toContain('198.18.0.1\\x1b[2J:40000');
    expect(r.stdout).toContain('\\x1b[31mEVIL\\x1b]0;pwned\\x07\\n2026-11-22 10:02:00.000  blocked');
    // Bidirectional controls would reorder what the terminal shows: escaped too.
    writeFileSync(eve, `${JSON.stringify({ ...JSON.parse(alertLine(1, 1)), alert: { action: 'blocked', signature_id: 7, severity: 1, signature: 'abc\u202edcba\u2066x\u2069' } })}\n`);
    expect(cli(['alerts', '--eve', eve]).stdout).toContain('abc\\u202edcba\\u2066x\\u2069');
    expect(r.stdout.trim().split('\n')).toHaveLength(2);
    // --json hands the record on as JSON, where the escapes stay escaped
    expect(cli(['alerts', '--eve', eve, '--json']).stdout).not.toContain('\u001b');
  });

  it('reads a 100 MB file in bounded memory', () => {
    const dir = tempDir('alerts-big');
    const eve = join(dir, 'eve.json');
    let block = '';
    for (let i = 0; block.length < MB; i++) block += `${JSON.stringify({ timestamp: '2026-11-22T09:00:00.000000+0000', flow_id: i, event_type: 'flow', proto: 'TCP', flow: { pkts_toserver: 3 } })}\n`;
    const bytes = Buffer.from(block);
    const fd = openSync(eve, 'w');
    for (let n = 0; n < 100 * MB;) n += writeSync(fd, bytes);
    writeSync(fd, alertLine(1, 101) + alertLine(2, 102) + alertLine(3, 103));
    closeSync(fd);
    const small = join(dir, 'small.json');
    writeFileSync(small, alertLine(1, 1));
    const base = cliMaxRss(dir, ['alerts', '--eve', small, '--json']);
    expect(base.status).toBe(0);
    // --limit 50 with three alerts: the whole file is read, backwards.
    const big = cliMaxRss(dir, ['alerts', '--eve', eve, '--json']);
    expect(big.stderr).toBe('');
    expect(big.status).toBe(0);
    expect(sidsOf(big.stdout)).toEqual([101, 102, 103]);
    expect(big.maxRssMb - base.maxRssMb).toBeLessThan(64);
    const since = cliMaxRss(dir, ['alerts', '--eve', eve, '--json', '--since', '2026-11-22T10:02:00Z', '--limit', '1']);
    expect(sidsOf(since.stdout)).toEqual([103]);
  });

  /** `alerts --follow --json` on a new EVE file holding alert 1, its output gathered as it comes. */
  const follow = () => {
    const eve = join(tempDir('alerts-follow'), 'eve.json');
    writeFileSync(eve, alertLine(1, 1));
    const child = spawn(process.execPath, [CLI, 'alerts', '--eve', eve, '--follow', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const io = { out: '', err: '' };
    child.stdout.on('data', (b: Buffer) => { io.out += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { io.err += b.toString(); });
    const exited = childEnded(child).then((e) => e.code);
    /** Waits up to 10 s for exactly these alerts to have been printed. */
    const waitFor = async (want: number[]): Promise<void> => {
      for (let t = 0; t < 100 && sidsOf(io.out).join() !== want.join(); t++) await new Promise((r) => setTimeout(r, 100));
      expect(sidsOf(io.out), io.err).toEqual(want);
    };
    return { eve, child, io, exited, waitFor };
  };

  it('--follow goes on through copytruncate and rotation, and reports a bad file without a stack', async () => {
    const { eve, child, io, exited, waitFor } = follow();
    try {
      await waitFor([1]);
      appendFileSync(eve, alertLine(2, 2) + alertLine(3, 3).slice(0, 30));
      await waitFor([1, 2]);
      appendFileSync(eve, alertLine(3, 3).slice(30));
      await waitFor([1, 2, 3]);
      // logrotate copytruncate: the daemon's next writes land at the start.
      truncateSync(eve, 0);
      await new Promise((r) => setTimeout(r, 400));
      appendFileSync(eve, alertLine(4, 4));
      await waitFor([1, 2, 3, 4]);
      // Rename and a new file, already longer than where the reader was.
      renameSync(eve, `${eve}.1`);
      writeFileSync(eve, alertLine(5, 5) + alertLine(6, 6) + alertLine(7, 7));
      await waitFor([1, 2, 3, 4, 5, 6, 7]);
      rmSync(eve);
      mkdirSync(eve);
      expect(await exited).toBe(1);
      expect(io.err).toBe(`secuxflow alerts: error[E_IO]: the EVE file ${eve} is a directory\n  hint: point --eve at the file itself: the daemon appends to the file given to \`secuxflow run --eve\` (default <state-dir>/eve.json); \`secuxflow status\` shows it while the daemon runs, and \`secuxflow alerts\` without --eve reads it\n`);
    } finally {
      if (child.exitCode === null) child.kill('SIGTERM');
    }
  });

  // A daemon writing only alerts, one a while: copytruncate, then the next
  // alert, as long as the one before, lands before --follow looks again. The
  // file is as long as where the reader was, so the size showed nothing, and
  // that alert (and every one until the file outgrew the old size) was lost.
  it('--follow sees a copytruncate that the file regrew past before it looked again', async () => {
    const { eve, child, io, exited, waitFor } = follow();
    try {
      await waitFor([1]);
      // Same length as alert 1's line, written at once after the truncation.
      writeFileSync(eve, alertLine(2, 2));
      await waitFor([1, 2]);
      writeFileSync(eve, alertLine(3, 3) + alertLine(4, 4));
      await waitFor([1, 2, 3, 4]);
      appendFileSync(eve, alertLine(5, 5));
      await waitFor([1, 2, 3, 4, 5]);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(io.err).toBe('');
    } finally {
      if (child.exitCode === null) child.kill('SIGTERM');
    }
  });

  // The table's header used to come only with alerts already in the file:
  // a --follow started on a quiet file printed bare rows, under nothing.
  it('--follow in text on a file with no alerts yet says it waits, then prints the header over the first alerts', async () => {
    const eve = join(tempDir('alerts-follow-text'), 'eve.json');
    writeFileSync(eve, '');
    const child = spawn(process.execPath, [CLI, 'alerts', '--eve', eve, '--follow'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = childEnded(child).then((e) => e.code);
    let out = '';
    child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    try {
      for (let t = 0; t < 100 && !out.includes('waiting'); t++) await new Promise((r) => setTimeout(r, 100));
      expect(out).toBe(`no alerts in ${eve} yet; waiting for them (Ctrl-C stops)\n`);
      appendFileSync(eve, alertLine(7, 7));
      for (let t = 0; t < 100 && out.split('\n').length < 4; t++) await new Promise((r) => setTimeout(r, 100));
      appendFileSync(eve, alertLine(8, 8));
      for (let t = 0; t < 100 && out.split('\n').length < 5; t++) await new Promise((r) => setTimeout(r, 100));
      const lines = out.trimEnd().split('\n');
      expect(lines).toHaveLength(4);
      expect(lines[1]).toMatch(/^TIME\s+ACTION\s+SID/);
      expect(lines[2]).toMatch(/\b7\b/);
      expect(lines[3]).toMatch(/\b8\b/);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });

  it('--follow stops cleanly on SIGTERM', async () => {
    const { child, io, exited } = follow();
    for (let t = 0; t < 100 && io.out === ''; t++) await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(sidsOf(io.out)).toEqual([1]);
  });
});
