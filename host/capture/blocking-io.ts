// Reads and writes that behave as blocking ones on a pipe or socket that its
// creator left non-blocking. Node makes a piped stdout non-blocking as soon as
// process.stdout is touched, and a pipe given as stdin may be so too: readSync
// and writeSync then fail with EAGAIN (or write part of a chunk) whenever the
// other side is slower. That is not an error: wait, 1 ms at a time.
import { readSync, writeSync } from 'node:fs';

const napCell = new Int32Array(new SharedArrayBuffer(4));

function waitOrThrow(e: unknown): void {
  if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
  Atomics.wait(napCell, 0, 0, 1);
}

/** The next bytes of a file, pipe or socket into buf[at..]; 0 at its end. */
export function readBlocking(fd: number, buf: Uint8Array, at: number): number {
  for (;;) {
    try {
      return readSync(fd, buf, at, buf.length - at, null);
    } catch (e) {
      waitOrThrow(e);
    }
  }
}

/** Writes every byte of `bytes` to fd. */
export function writeBlocking(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) {
    try {
      done += writeSync(fd, bytes, done, bytes.length - done);
    } catch (e) {
      waitOrThrow(e);
    }
  }
}
