// Streams EVE records as JSON lines to a file or stdout, buffered so a large
// capture does not pay one write() per event.
import { openSync, closeSync, fstatSync, fsyncSync } from 'node:fs';
import { writeBlocking } from '../capture/blocking-io.js';
import { SecuxflowError } from '../errors.js';
import { printable } from '../text.js';
import type { EveRecord } from './format.js';

const FLUSH_AT = 256 * 1024;

export class EveWriter {
  private readonly fd: number;
  private readonly ownsFd: boolean;
  /** Only a file can be synced: fsync of a pipe or /dev/null fails with EINVAL. */
  private readonly syncable: boolean = false;
  private chunks: string[] = [];
  private pendingBytes = 0;
  count = 0;

  constructor(readonly target: string) {
    if (target === '-') {
      this.fd = 1;
      this.ownsFd = false;
    } else {
      try {
        this.fd = openSync(target, 'w');
      } catch (e) {
        throw new SecuxflowError('E_IO', printable(`cannot write EVE output ${target}: ${(e as Error).message}`),
          'check that the directory exists and is writable, or give --eve - for standard output');
      }
      this.ownsFd = true;
      this.syncable = fstatSync(this.fd).isFile();
    }
  }

  /** The first write error: later records are dropped, and close() throws it, so the run itself goes on. */
  private failed: SecuxflowError | null = null;

  write(rec: EveRecord): void {
    if (this.failed !== null) return;
    const line = JSON.stringify(rec) + '\n';
    this.chunks.push(line);
    this.pendingBytes += line.length;
    this.count++;
    if (this.pendingBytes >= FLUSH_AT) {
      try {
        this.flush();
      } catch (e) {
        this.failed = e as SecuxflowError;
      }
    }
  }

  flush(): void {
    if (this.failed !== null) throw this.failed;
    if (this.chunks.length === 0) return;
    const data = this.chunks.join('');
    this.chunks = [];
    this.pendingBytes = 0;
    this.guard(() => writeBlocking(this.fd, Buffer.from(data, 'utf8')));
  }

  close(): void {
    try {
      this.flush();
      if (this.syncable) this.guard(() => fsyncSync(this.fd));
    } finally {
      if (this.ownsFd) closeSync(this.fd);
    }
  }

  /** A full disk or a closed pipe is the user's to fix: name the output, not an internal error. */
  private guard(io: () => void): void {
    try {
      io();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new SecuxflowError('E_IO', printable(`cannot write EVE output ${this.target === '-' ? '(stdout)' : this.target}: ${code ?? (e as Error).message}`),
        code === 'ENOSPC' ? 'free some space, or write the EVE output elsewhere' : 'check that the output is writable');
    }
  }
}
