// Reading alerts back from the daemon's EVE file: parse lines, keep alerts at
// or after a time, and tail the file as it grows (a truncated or rotated file
// is read again from its start).
//
// EVE files grow without bound until logrotate runs, so nothing here holds
// more than a chunk, one line and the alerts asked for: recent alerts are read
// backwards from the end, --follow reads forwards a chunk at a time.
import { DURATION_UNITS } from '../duration.js';
import { closeSync, existsSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { SecuxflowError } from '../errors.js';
import { NotARegularFile, openRegularFile } from '../fs/read-regular.js';

export interface AlertLine {
  timestamp: string;
  /** Parsed timestamp, epoch ms. */
  timeMs: number;
  record: Record<string, unknown>;
}

const SINCE_HINT = 'use an ISO time (2026-11-22T10:00:00Z; without a zone it is UTC, as the TIME column), epoch seconds, or an age such as 10m, 2h, 1d';

function sinceError(text: string, problem: string, hint = SINCE_HINT): SecuxflowError {
  return new SecuxflowError('E_USAGE', `--since ${JSON.stringify(text)} ${problem}`, hint);
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * An ISO date, or date and time, with an optional zone (none: UTC), in epoch
 * ms; null when the text is not of that shape. Each field is checked, since
 * Date.parse rolls 2026-02-30 over into March without a word.
 */
function isoTimeMs(text: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(text);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0)) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || second > 59) {
    throw sinceError(text, 'is not a date and time that exists');
  }
  const zone = m[8] ?? 'Z';
  const offsetMin = zone === 'Z' ? 0 : (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(-2)));
  const fraction = m[7] !== undefined ? Math.floor(Number(m[7]) * 1000) : 0;
  return Date.UTC(year, month - 1, day, hour, minute, second, fraction) - offsetMin * 60_000;
}

/**
 * "2026-11-22T10:00:00Z" (no zone: UTC), epoch seconds, or an age like 90s,
 * 10m, 2h, 1d. Forms a user may mean otherwise are refused, not guessed:
 * 20260101 (a date without its dashes, not 1970) and epoch milliseconds.
 */
export function parseSince(text: string, nowMs = Date.now()): number {
  const t = text.trim();
  const rel = /^(\d+)(s|m|h|d)$/.exec(t);
  if (rel) return nowMs - Number(rel[1]) * DURATION_UNITS[rel[2] as keyof typeof DURATION_UNITS] * 1000;
  if (/^\d{8}$/.test(t)) throw sinceError(text, 'is ambiguous: a date without its dashes, or epoch seconds in 1970?', `write the date as ${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6)}, or ${SINCE_HINT}`);
  if (/^\d+(\.\d+)?$/.test(t)) {
    // Epoch seconds reach 11 digits only past the year 5000: such a number is milliseconds.
    if (/^\d{12,}/.test(t)) throw sinceError(text, 'looks like epoch milliseconds', `give epoch seconds: ${t.slice(0, -3)}`);
    return Number(t) * 1000;
  }
  const iso = isoTimeMs(t);
  if (iso === null) throw sinceError(text, 'is not a time');
  return iso;
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

/** Bytes read per readSync. */
export const CHUNK_BYTES = 1 << 20;
/**
 * A longer line is skipped without being decoded. EVE alerts are a few KiB
 * (more with a payload); a line this long is damage, and holding it would
 * break the memory bound.
 */
export const MAX_LINE_BYTES = 16 << 20;

const NL = 0x0a;
// Every alert line has "alert" in it (its event_type), so lines without it
// skip the UTF-8 decode and JSON.parse, most of the cost on a big file.
const ALERT = Buffer.from('alert');

export interface ReadOptions {
  /** For tests: a smaller chunk exercises lines that span chunks. */
  chunkBytes?: number;
  maxLineBytes?: number;
}

/** Where a reader stopped: the byte after the last complete line, and the file it was in. */
export interface EvePosition {
  offset: number;
  /** Inode of the file read; 0 when it did not exist. A new inode means the file was replaced. */
  ino: number;
}

const WHAT: Record<string, string> = {
  ENOENT: 'does not exist',
  EACCES: 'is not readable (permission denied)',
  EPERM: 'is not readable (permission denied)',
  ENOTDIR: 'cannot exist: a directory on its path is a file',
  EISDIR: 'is a directory',
  ELOOP: 'is a symlink loop',
};

export const EVE_WHERE_HINT = 'the daemon appends to the file given to `secuxflow run --eve` (default <state-dir>/eve.json); `secuxflow status` shows it while the daemon runs, and `secuxflow alerts` without --eve reads it';

export function eveIoError(path: string, e: unknown): SecuxflowError {
  if (e instanceof SecuxflowError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  const what = (code !== undefined && WHAT[code]) || `cannot be read: ${code ?? String(e)}`;
  const hint = code === 'EACCES' || code === 'EPERM'
    ? 'the daemon creates it mode 0640: run as root or as its group, or point --eve at a readable copy'
    : `check the path: ${EVE_WHERE_HINT}`;
  return new SecuxflowError('E_IO', `the EVE file ${path} ${what}`, hint);
}

/**
 * Opens the EVE file for reading. A missing file gives null (the caller
 * decides whether that is an error); anything else that cannot be read as a
 * plain file is E_IO naming the path.
 */
export function openEve(path: string): { fd: number; size: number; ino: number } | null {
  try {
    // A FIFO given as --eve is refused instead of blocking the open until something writes to it.
    const { fd, stats } = openRegularFile(path);
    return { fd, size: stats.size, ino: stats.ino };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    if (e instanceof NotARegularFile && e.stats.isDirectory()) {
      const inside = join(path, 'eve.json');
      throw new SecuxflowError('E_IO', `the EVE file ${path} is a directory`,
        existsSync(inside) ? `did you mean --eve ${inside}?` : `point --eve at the file itself: ${EVE_WHERE_HINT}`);
    }
    // Reads are by offset (backwards, and again from where --follow stopped),
    // which a pipe or a device cannot do.
    if (e instanceof NotARegularFile) {
      // A device (run --eve /dev/null) keeps nothing to copy: the alerts are only where the daemon writes a file.
      throw new SecuxflowError('E_IO', `the EVE file ${path} is not a regular file`, e.stats.isCharacterDevice() || e.stats.isBlockDevice()
        ? 'a device keeps no alerts to read: start the daemon with --eve FILE (or without --eve: <state-dir>/eve.json) and read that'
        : 'copy it to a file first and pass that to --eve');
    }
    throw eveIoError(path, e);
  }
}

function readAt(path: string, fd: number, buf: Buffer, len: number, pos: number): number {
  try {
    return readSync(fd, buf, 0, len, pos);
  } catch (e) {
    throw eveIoError(path, e);
  }
}

/** Joins the pieces of a line that spans chunks. */
function joined(pieces: Buffer[], last?: Buffer): Buffer {
  const all = last === undefined ? pieces : [...pieces, last];
  return all.length === 1 ? all[0]! : Buffer.concat(all);
}

/**
 * A line that is not a JSON object (the daemon writes one per line): damage,
 * or a file that is not EVE. Told by its first and last byte, without decoding.
 */
export function isDamagedLine(line: Buffer): boolean {
  return line.length > 0 && (line[0] !== 0x7b /* { */ || line[line.length - 1] !== 0x7d /* } */);
}

/** The alert on a raw line, if it is one at or after `sinceMs`. */
export function alertOf(line: Buffer, sinceMs: number): AlertLine | null {
  if (line.length === 0 || line[0] !== 0x7b /* { */ || line.indexOf(ALERT) < 0) return null;
  const a = parseAlertLine(line.toString('utf8'));
  return a !== null && a.timeMs >= sinceMs ? a : null;
}

/**
 * Calls `onLine` for each complete line from `from.offset` to the end of the
 * file and returns the position after the last one; a last line without its
 * newline yet is left for the next call. A file that shrank or was replaced
 * (another inode) is read from its start. A missing file reads as empty, so
 * --follow survives the moment between a rotation's rename and the new file.
 */
export function readLinesFrom(path: string, from: EvePosition, onLine: (line: Buffer) => void, opts: ReadOptions = {}): EvePosition {
  const f = openEve(path);
  if (f === null) return { offset: 0, ino: 0 };
  const maxLine = opts.maxLineBytes ?? MAX_LINE_BYTES;
  try {
    let pos = from.offset;
    if (f.size < pos || (from.ino !== 0 && from.ino !== f.ino)) pos = 0;
    const buf = Buffer.allocUnsafe(opts.chunkBytes ?? CHUNK_BYTES);
    let done = pos; // offset after the last complete line
    let carry: Buffer[] = [];
    let carried = 0;
    let oversize = false;
    while (pos < f.size) {
      const n = readAt(path, f.fd, buf, Math.min(buf.length, f.size - pos), pos);
      if (n <= 0) break;
      let start = 0;
      for (let nl = buf.indexOf(NL, 0); nl >= 0 && nl < n; nl = buf.indexOf(NL, start)) {
        if (!oversize) onLine(carried > 0 ? joined(carry, buf.subarray(start, nl)) : buf.subarray(start, nl));
        carry = [];
        carried = 0;
        oversize = false;
        start = nl + 1;
        done = pos + start;
      }
      if (start < n && !oversize) {
        carried += n - start;
        if (carried > maxLine) {
          oversize = true;
          carry = [];
        } else {
          carry.push(Buffer.from(buf.subarray(start, n))); // buf is reused
        }
      }
      pos += n;
    }
    return { offset: done, ino: f.ino };
  } finally {
    closeSync(f.fd);
  }
}

export interface RecentAlerts {
  alerts: AlertLine[];
  /** Where --follow goes on from: after the last complete line. */
  position: EvePosition;
  /** False when the file does not exist. */
  exists: boolean;
  /** Lines read that are not JSON objects, or too long to read (isDamagedLine, MAX_LINE_BYTES). */
  damaged: number;
}

/**
 * The last `limit` alerts at or after `sinceMs`, oldest first, read backwards
 * from the end so a big file costs only as much as it takes to find them.
 * Alerts are not strictly in time order in the file (queues flush in turn),
 * so --since filters each line rather than stopping at the first older one:
 * with fewer than `limit` matches the whole file is scanned, still in bounded
 * memory. A last line without its newline counts only with `partialTail`:
 * it is either a complete record (the file just ends there) or one the daemon
 * is still writing, which does not parse; --follow leaves it for later.
 */
export function recentAlerts(path: string, sinceMs: number, limit: number, opts: ReadOptions & { partialTail?: boolean } = {}): RecentAlerts {
  const f = openEve(path);
  if (f === null) return { alerts: [], position: { offset: 0, ino: 0 }, exists: false, damaged: 0 };
  const maxLine = opts.maxLineBytes ?? MAX_LINE_BYTES;
  const found: AlertLine[] = []; // newest first
  try {
    const buf = Buffer.allocUnsafe(opts.chunkBytes ?? CHUNK_BYTES);
    let end = -1; // offset after the last complete line, once its newline is seen
    let tail: Buffer[] = []; // the end of a line that began in an earlier chunk, in file order
    let tailBytes = 0;
    let oversize = false;
    let damaged = 0;
    const take = (line: Buffer): boolean => {
      if (oversize || isDamagedLine(line)) damaged++;
      const a = oversize ? null : alertOf(line, sinceMs);
      if (a !== null) found.push(a);
      return found.length >= limit;
    };
    let pos = f.size;
    scan: while (pos > 0) {
      const len = Math.min(buf.length, pos);
      pos -= len;
      const n = readAt(path, f.fd, buf, len, pos);
      if (n < len) throw new SecuxflowError('E_IO', `the EVE file ${path} shrank while being read`, 'run the command again');
      let stop = n;
      for (let nl = buf.lastIndexOf(NL, n - 1); nl >= 0; nl = nl > 0 ? buf.lastIndexOf(NL, nl - 1) : -1) {
        const piece = buf.subarray(nl + 1, stop);
        const line = tailBytes > 0 ? joined([piece, ...tail]) : piece;
        tail = [];
        tailBytes = 0;
        stop = nl;
        if (end < 0) {
          end = pos + nl + 1;
          if (opts.partialTail && take(line)) break scan;
        } else if (take(line)) {
          break scan;
        }
        oversize = false;
      }
      if (stop > 0 && !oversize) {
        tailBytes += stop;
        if (tailBytes > maxLine) {
          oversize = true;
          tail = [];
        } else {
          tail.unshift(Buffer.from(buf.subarray(0, stop))); // buf is reused
        }
      }
      if (pos === 0 && found.length < limit && (end >= 0 || opts.partialTail)) take(tailBytes > 0 ? joined(tail) : Buffer.alloc(0));
    }
    return { alerts: found.reverse(), position: { offset: Math.max(end, 0), ino: f.ino }, exists: true, damaged };
  } finally {
    closeSync(f.fd);
  }
}
