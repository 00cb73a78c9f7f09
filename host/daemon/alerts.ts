// Reading alerts back from the daemon's EVE file: parse lines, keep alerts at
// or after a time, and tail the file as it grows (a truncated or rotated file
// is read again from its start).
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { SecuxflowError } from '../errors.js';

export interface AlertLine {
  timestamp: string;
  /** Parsed timestamp, epoch ms. */
  timeMs: number;
  record: Record<string, unknown>;
}

/** "2026-11-22T10:00:00Z", an epoch number, or a relative age like 90s, 10m, 2h, 1d. */
export function parseSince(text: string, nowMs = Date.now()): number {
  const rel = /^(\d+)(s|m|h|d)$/.exec(text.trim());
  if (rel) return nowMs - Number(rel[1]) * { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[rel[2] as 's' | 'm' | 'h' | 'd'];
  if (/^\d+(\.\d+)?$/.test(text.trim())) return Number(text) * 1000;
  const t = Date.parse(text);
  if (Number.isNaN(t)) {
    throw new SecuxflowError('E_USAGE', `--since ${JSON.stringify(text)} is not a time`, 'use an ISO time (2026-11-22T10:00:00Z), epoch seconds, or an age such as 10m, 2h, 1d');
  }
  return t;
}

/** EVE's "2026-01-01T00:00:00.123456+0000" in epoch ms. */
export function eveTimeMs(ts: string): number {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?([+-]\d{2})(\d{2})$/.exec(ts);
  const t = m ? Date.parse(`${m[1]}${m[2] ? m[2].slice(0, 4) : ''}${m[3]}:${m[4]}`) : Date.parse(ts);
  return Number.isNaN(t) ? 0 : t;
}

export function parseAlertLine(line: string): AlertLine | null {
  if (!line.startsWith('{')) return null;
  let rec: unknown;
  try {
    rec = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof rec !== 'object' || rec === null) return null;
  const r = rec as Record<string, unknown>;
  if (r.event_type !== 'alert' || typeof r.timestamp !== 'string') return null;
  return { timestamp: r.timestamp, timeMs: eveTimeMs(r.timestamp), record: r };
}

/** Reads from `offset` to the end of the file; returns complete lines and the offset after the last one. */
export function readLinesFrom(path: string, offset: number): { lines: string[]; offset: number } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { lines: [], offset: 0 };
    throw new SecuxflowError('E_IO', `cannot read the EVE file ${path}: ${code ?? String(e)}`, 'run as root, or point --eve at the daemon\'s EVE file');
  }
  try {
    const size = statSync(path).size;
    if (size < offset) offset = 0; // truncated or replaced
    const chunks: Buffer[] = [];
    const buf = Buffer.alloc(1 << 20);
    let pos = offset;
    while (pos < size) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, size - pos), pos);
      if (n <= 0) break;
      chunks.push(Buffer.from(buf.subarray(0, n)));
      pos += n;
    }
    const text = Buffer.concat(chunks).toString('utf8');
    const lastNl = text.lastIndexOf('\n');
    if (lastNl < 0) return { lines: [], offset };
    return { lines: text.slice(0, lastNl).split('\n'), offset: offset + Buffer.byteLength(text.slice(0, lastNl + 1)) };
  } finally {
    closeSync(fd);
  }
}
