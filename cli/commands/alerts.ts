// `secuxflow alerts`: recent alerts from the daemon's EVE file, as a table or
// JSON lines; --follow keeps printing new ones as the daemon writes them.
import type { Command } from 'commander';
import { join } from 'node:path';
import { action } from '../action.js';
import { table } from '../format.js';
import { SecuxflowError } from '../../host/errors.js';
import { printable } from '../../host/text.js';
import { closeSync, readSync } from 'node:fs';
import { EVE_WHERE_HINT, MAX_LINE_BYTES, alertOf, eveIoError, openEve, parseSince, readLinesFrom, recentAlerts, type AlertLine } from '../../host/daemon/alerts.js';
import { resolveStateDir } from '../../host/state/store.js';
import { requestDaemon } from '../../host/control/client.js';

export interface AlertsCommandOptions {
  follow?: boolean;
  json?: boolean;
  since?: string;
  limit?: string;
  eve?: string;
  stateDir?: string;
}

// Every cell is text from the EVE file, and a signature is whatever a module
// wrote: escaped, it can neither drive the terminal nor forge a row.
function row(a: AlertLine): string[] {
  const r = a.record;
  const al = (r.alert ?? {}) as Record<string, unknown>;
  // An IPv6 address ends in digits too: "2001:db8::1:40000" would read as an address, so it is bracketed as inspect writes it.
  const ep = (ip: unknown, port: unknown): string => {
    const addr = String(ip ?? '?');
    return port === undefined ? addr : `${addr.includes(':') ? `[${addr}]` : addr}:${String(port)}`;
  };
  return [a.timestamp.slice(0, 23).replace('T', ' '), String(al.action ?? ''), String(al.signature_id ?? ''), String(al.severity ?? ''),
    `${ep(r.src_ip, r.src_port)} -> ${ep(r.dest_ip, r.dest_port)}`, String(r.proto ?? ''), String(al.signature ?? '')].map(printable);
}

/** The most alerts one call prints: they are all held until printed. */
export const MAX_ALERTS_LIMIT = 1_000_000;

function parseLimit(text: string | undefined): number {
  if (text === undefined) return 50;
  // Decimal digits only, as every other count the CLI takes: Number() would also read 1e3, 0x2 and " 3".
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > MAX_ALERTS_LIMIT) {
    throw new SecuxflowError('E_USAGE', `--limit ${JSON.stringify(text)} is not a number of alerts from 1 to ${MAX_ALERTS_LIMIT}`, 'for example --limit 100');
  }
  return Number(text);
}

const HEADER = ['TIME', 'ACTION', 'SID', 'SEV', 'FLOW', 'PROTO', 'SIGNATURE'];

/** How many alerts --follow formats at once when a read finds many (a file read again after truncation). */
const FOLLOW_BATCH = 500;

/**
 * The EVE file a running daemon writes, which `run --eve` may have put
 * anywhere; null when no daemon answers (the state directory's file is then
 * the one a daemon would write by default).
 */
async function runningDaemonEve(stateDir: string | undefined): Promise<string | null> {
  try {
    const s = await requestDaemon(resolveStateDir(stateDir), 'status') as { daemon?: { eve?: unknown } } | null;
    return typeof s?.daemon?.eve === 'string' && s.daemon.eve !== '' ? s.daemon.eve : null;
  } catch {
    return null;
  }
}

/** The EVE file the state directory's daemon writes: the running one's, else the default <state-dir>/eve.json. */
export async function daemonEvePath(stateDir: string | undefined): Promise<string> {
  return (await runningDaemonEve(stateDir)) ?? join(resolveStateDir(stateDir), 'eve.json');
}

/** How much of the last line --follow keeps to recognise the file (a line holds its own µs timestamp). */
const LAST_LINE_BYTES = 4096;

/** `len` bytes of the EVE file ending at `end`; null when it is gone or now shorter. */
function bytesBefore(path: string, end: number, len: number): Buffer | null {
  const f = openEve(path);
  if (f === null) return null;
  try {
    const buf = Buffer.alloc(len);
    return end >= len && readSync(f.fd, buf, 0, len, end - len) === len ? buf : null;
  } finally {
    closeSync(f.fd);
  }
}

/** The last complete line before `offset` (its last LAST_LINE_BYTES, with the newline); empty at 0, null when unreadable. */
function lastLineBefore(path: string, offset: number): Buffer | null {
  if (offset === 0) return Buffer.alloc(0);
  const tail = bytesBefore(path, offset, Math.min(offset, LAST_LINE_BYTES));
  return tail === null ? null : tail.subarray(tail.lastIndexOf(0x0a, tail.length - 2) + 1);
}

export async function alertsCommand(o: AlertsCommandOptions, write: (s: string) => void = (s) => process.stdout.write(s)): Promise<void> {
  if (o.eve === '') throw new SecuxflowError('E_USAGE', '--eve needs a file name', `leave it out to read <state-dir>/eve.json; ${EVE_WHERE_HINT}`);
  const path = o.eve ?? (await daemonEvePath(o.stateDir));
  const sinceMs = o.since !== undefined ? parseSince(o.since) : 0;
  const limit = parseLimit(o.limit);
  // Without --follow a last line lacking its newline is read too: it either
  // parses (the file just ends there) or is being written and does not.
  const recent = recentAlerts(path, sinceMs, limit, { partialTail: !o.follow });
  // A file named with --eve that is not there is a typo or the wrong host,
  // and "no alerts" would hide that. The default file only appears when a
  // daemon first starts, so its absence is said plainly but is not an error.
  if (!recent.exists && o.eve !== undefined) throw eveIoError(path, { code: 'ENOENT' });
  // The header goes above the first alerts printed, also when --follow finds them only later.
  let headerShown = false;
  const print = (list: AlertLine[]): void => {
    if (list.length === 0) return;
    if (o.json) write(list.map((a) => `${JSON.stringify(a.record)}\n`).join(''));
    else write(`${table(headerShown ? list.map(row) : [HEADER, ...list.map(row)], '')}\n`);
    headerShown = true;
  };
  if (!o.json) {
    if (!recent.exists) write(`no alerts: ${printable(path)} does not exist yet${o.follow ? ', waiting for it' : ''} (a daemon creates it when it starts; if yours runs with --eve or another --state-dir, pass the same here)\n`);
    else if (recent.alerts.length === 0) write(`no alerts in ${printable(path)}${o.since ? ` since ${printable(o.since)}` : ''}${o.follow ? ' yet; waiting for them (Ctrl-C stops)' : ''}\n`);
  }
  print(recent.alerts);
  if (recent.damaged > 0) {
    // On stderr: with --json, stdout stays EVE lines only.
    process.stderr.write(`secuxflow alerts: skipped ${recent.damaged} line${recent.damaged === 1 ? '' : 's'} of ${printable(path)} that ${recent.damaged === 1 ? 'is' : 'are'} not an EVE record (not a JSON object, or over ${MAX_LINE_BYTES >> 20} MiB)\n`);
  }
  if (!o.follow) return;
  let at = recent.position;
  let last = lastLineBefore(path, at.offset);
  await new Promise<void>((resolve, reject) => {
    const end = (): void => {
      clearInterval(timer);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    };
    const stop = (): void => { end(); resolve(); };
    const timer = setInterval(() => {
      try {
        // Truncated and written again up to where the reader was between two
        // looks: the size alone does not show it, the bytes there do.
        if (last !== null && last.length > 0 && !bytesBefore(path, at.offset, last.length)?.equals(last)) at = { offset: 0, ino: 0 };
        let batch: AlertLine[] = [];
        const from = at.offset;
        at = readLinesFrom(path, at, (line) => {
          const a = alertOf(line, sinceMs);
          if (a === null) return;
          batch.push(a);
          if (batch.length >= FOLLOW_BATCH) { print(batch); batch = []; }
        });
        print(batch);
        if (at.offset !== from || last === null) last = lastLineBefore(path, at.offset);
      } catch (e) {
        // Thrown from a timer it would be an uncaught exception with a stack;
        // the caller reports it like any other error.
        end();
        reject(e);
      }
    }, 250);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

export function registerAlerts(program: Command): void {
  program
    .command('alerts')
    .description("print recent alerts from the daemon's EVE file; --follow keeps printing new ones")
    .option('--follow', 'keep printing alerts as they are written (Ctrl-C stops)')
    .option('--json', 'print EVE JSON lines')
    .option('--since <time>', 'only alerts at or after: ISO time (UTC, as TIME shows, unless it names a zone), epoch seconds, or an age like 10m, 2h')
    .option('--limit <n>', `at most this many recent alerts, 1 to ${MAX_ALERTS_LIMIT} (default 50)`)
    .option('--eve <file>', 'EVE file to read (default <state-dir>/eve.json)')
    .option('--state-dir <dir>', 'state directory (default $SECUXFLOW_STATE_DIR or /var/lib/secuxflow)')
    .action(action('alerts', (o: AlertsCommandOptions) => alertsCommand(o)));
}
