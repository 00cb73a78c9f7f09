// Streams EVE records as JSON lines to a file or stdout, buffered so a large
// capture does not pay one write() per event.
import { openSync, writeSync, closeSync, fsyncSync } from 'node:fs';
import { SecuxflowError } from '../errors.js';
import type { EveRecord } from './format.js';

const FLUSH_AT = 256 * 1024;

export class EveWriter {
  private readonly fd: number;
  private readonly ownsFd: boolean;
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
        throw new SecuxflowError('E_IO', `cannot write EVE output ${target}: ${(e as Error).message}`);
      }
      this.ownsFd = true;
    }
  }

  write(rec: EveRecord): void {
    const line = JSON.stringify(rec) + '\n';
    this.chunks.push(line);
    this.pendingBytes += line.length;
    this.count++;
    if (this.pendingBytes >= FLUSH_AT) this.flush();
  }

  flush(): void {
    if (this.chunks.length === 0) return;
    const data = this.chunks.join('');
    this.chunks = [];
    this.pendingBytes = 0;
    writeSync(this.fd, data);
  }

  close(): void {
    this.flush();
    if (this.ownsFd) {
      fsyncSync(this.fd);
      closeSync(this.fd);
    }
  }
}
