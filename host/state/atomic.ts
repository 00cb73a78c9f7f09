// Crash-safe file replacement: a reader, or the next start after a crash or a
// kill -9, sees either the old complete file or the new complete file.
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { SecuxflowError } from '../errors.js';
import { stateDirHint } from './hints.js';

/** Temporary files carry the writer's pid so a later run can tell abandoned ones. */
export const TEMP_FILE_RE = /^(.+)\.(\d+)\.([0-9a-f]+)\.tmp$/;

export function tempNameFor(path: string): string {
  return join(dirname(path), `${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes to a temporary file in the same directory, fsyncs it, renames it over
 * `path` (atomic within one filesystem) and fsyncs the directory so the rename
 * itself survives a power loss.
 */
export function writeFileAtomic(path: string, data: string): void {
  const tmp = tempNameFor(path);
  let fd = -1;
  try {
    fd = openSync(tmp, 'wx', 0o644);
    const bytes = Buffer.from(data, 'utf8');
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, path);
  } catch (e) {
    if (fd >= 0) closeSync(fd);
    try { unlinkSync(tmp); } catch { /* never created, or already renamed */ }
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new SecuxflowError('E_STATE', `cannot write ${path}: ${code}`, stateDirHint(code, 'a writable directory'));
  }
  try {
    fsyncDir(dirname(path));
  } catch {
    // The rename already happened; a failed directory fsync only weakens power-loss durability.
  }
}
