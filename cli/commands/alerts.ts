// `secuxflow alerts`: recent alerts from the daemon's EVE file, as a table or
// JSON lines; --follow keeps printing new ones as the daemon writes them.
import type { Command } from 'commander';
import { join } from 'node:path';
import { action } from '../action.js';
import { table } from '../format.js';
import { SecuxflowError } from '../../host/errors.js';
import { parseAlertLine, parseSince, readLinesFrom, type AlertLine } from '../../host/daemon/alerts.js';
import { resolveStateDir } from '../../host/state/store.js';

export interface AlertsCommandOptions {
  follow?: boolean;
  json?: boolean;
  since?: string;
  limit?: string;
  eve?: string;
  stateDir?: string;
}

function row(a: AlertLine): string[] {
  const r = a.record;
  const al = (r.alert ?? {}) as Record<string, unknown>;
  const ep = (ip: unknown, port: unknown): string => (port === undefined ? String(ip ?? '?') : `${String(ip)}:${String(port)}`);
  return [a.timestamp.slice(0, 23).replace('T', ' '), String(al.action ?? ''), String(al.signature_id ?? ''), String(al.severity ?? ''),
    `${ep(r.src_ip, r.src_port)} -> ${ep(r.dest_ip, r.dest_port)}`, String(r.proto ?? ''), String(al.signature ?? '')];
}

const HEADER = ['TIME', 'ACTION', 'SID', 'SEV', 'FLOW', 'PROTO', 'SIGNATURE'];

export function recentAlerts(path: string, sinceMs: number, limit: number): { alerts: AlertLine[]; offset: number } {
  const { lines, offset } = readLinesFrom(path, 0);
  const alerts = lines.map(parseAlertLine).filter((a): a is AlertLine => a !== null && a.timeMs >= sinceMs);
  return { alerts: alerts.slice(-limit), offset };
}

export async function alertsCommand(o: AlertsCommandOptions, write: (s: string) => void = (s) => process.stdout.write(s)): Promise<void> {
  const path = o.eve ?? join(resolveStateDir(o.stateDir), 'eve.json');
  const sinceMs = o.since !== undefined ? parseSince(o.since) : 0;
  const limit = o.limit !== undefined ? Number(o.limit) : 50;
  if (!Number.isInteger(limit) || limit < 1) throw new SecuxflowError('E_USAGE', `--limit ${JSON.stringify(o.limit)} must be a positive integer`);
  const { alerts, offset } = recentAlerts(path, sinceMs, limit);
  const print = (list: AlertLine[], header: boolean): void => {
    if (list.length === 0) return;
    if (o.json) write(list.map((a) => `${JSON.stringify(a.record)}\n`).join(''));
    else write(`${table(header ? [HEADER, ...list.map(row)] : list.map(row), '')}\n`);
  };
  if (alerts.length === 0 && !o.follow && !o.json) write(`no alerts in ${path}${o.since ? ` since ${o.since}` : ''}\n`);
  print(alerts, true);
  if (!o.follow) return;
  let pos = offset;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const r = readLinesFrom(path, pos);
      pos = r.offset;
      print(r.lines.map(parseAlertLine).filter((a): a is AlertLine => a !== null && a.timeMs >= sinceMs), false);
    }, 250);
    const stop = (): void => { clearInterval(timer); resolve(); };
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
    .option('--since <time>', 'only alerts at or after: ISO time, epoch seconds, or an age like 10m, 2h')
    .option('--limit <n>', 'at most this many recent alerts (default 50)')
    .option('--eve <file>', 'EVE file to read (default <state-dir>/eve.json)')
    .option('--state-dir <dir>', 'state directory (default $SECUXFLOW_STATE_DIR or /var/lib/secuxflow)')
    .action(action('alerts', (o: AlertsCommandOptions) => alertsCommand(o)));
}
