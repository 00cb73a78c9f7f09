// Reads a file the user named as input (a module, a module's config) only if
// it is a regular file of bounded size. A size check by stat() alone lets
// devices and pipes through (their size is 0): /dev/zero grew the daemon to
// 1.5 GB, and a FIFO blocked its main thread until a writer came.
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';

export class NotARegularFile extends Error {
  readonly kind: string;
  constructor(readonly path: string, readonly stats: Stats) {
    const kind = kindOf(stats);
    super(`${path} is ${kind}, not a regular file`);
    this.kind = kind;
  }
}

export class FileTooLarge extends Error {
  /** exact: size is the file's; otherwise it grew while read and is at least size. */
  constructor(readonly path: string, readonly size: number, readonly maxBytes: number, readonly exact = true) {
    super(`${path} is ${exact ? '' : 'at least '}${size} bytes, above the limit of ${maxBytes}`);
  }
}

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a named pipe';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * An open descriptor of a regular file, or NotARegularFile (the descriptor
 * closed); system errors (ENOENT, EACCES...) are thrown as they come.
 * O_NONBLOCK keeps the open of a FIFO from waiting for a writer; it does not
 * change reads of a regular file.
 */
export function openRegularFile(path: string): { fd: number; stats: Stats } {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new NotARegularFile(path, stats);
    return { fd, stats };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/** The whole file, or NotARegularFile / FileTooLarge / a system error. */
export function readRegularFile(path: string, maxBytes: number): Buffer {
  const { fd, stats: st } = openRegularFile(path);
  try {
    if (st.size > maxBytes) throw new FileTooLarge(path, st.size, maxBytes);
    // Read to the end, not to st.size: a file that grows meanwhile is still bounded.
    const buf = Buffer.allocUnsafe(Math.min(maxBytes, st.size) + 1);
    let got = 0;
    for (;;) {
      const n = readSync(fd, buf, got, buf.length - got, null);
      if (n === 0) break;
      got += n;
      if (got === buf.length) {
        if (got > maxBytes) throw new FileTooLarge(path, got, maxBytes, false);
        break;
      }
    }
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}
