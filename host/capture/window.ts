// A sliding byte window over a capture: the whole file never has to sit in
// memory, yet a record can be read with plain indexing once `ensure` says
// its bytes are present.
import { closeSync, openSync, readSync } from 'node:fs';
import { readBlocking } from './blocking-io.js';

// Each refill starts a new chunk (see FileWindow): small enough that a frame
// kept for long pins little memory, large enough that reads stay few.
const CHUNK = 256 << 10;

export interface ByteWindow {
  /** Backing buffer; valid bytes are buf[start, end). */
  readonly buf: Uint8Array;
  /** Index in buf of the current position. */
  start: number;
  readonly end: number;
  /** Absolute file offset of the current position. */
  readonly offset: number;
  readonly totalBytes: number;
  /** Makes at least n bytes available from the current position; false at end of data. */
  ensure(n: number): boolean;
  /** Bytes left in the whole source from the current position. */
  remaining(): number;
  /** Whether views into buf stay valid after the window moves on. */
  readonly stableViews: boolean;
  close(): void;
}

export class MemoryWindow implements ByteWindow {
  start = 0;
  readonly end: number;
  readonly totalBytes: number;
  readonly stableViews = true;
  constructor(readonly buf: Uint8Array) {
    this.end = buf.length;
    this.totalBytes = buf.length;
  }
  get offset(): number { return this.start; }
  ensure(n: number): boolean { return this.end - this.start >= n; }
  remaining(): number { return this.end - this.start; }
  close(): void {}
}

/**
 * Reads the file chunk by chunk. A chunk is never rewritten: moving on copies
 * the unread tail into a fresh chunk, so frames can be handed out as views
 * into it instead of copies (a copy costs an ArrayBuffer per frame, which
 * was most of the reader's time). A view kept after the window moved on
 * keeps its whole chunk alive: holders of frames for long copy them.
 */
export class FileWindow implements ByteWindow {
  buf: Uint8Array = newChunk(CHUNK);
  start = 0;
  end = 0;
  readonly stableViews = true;
  private base = 0; // file offset of buf[0]
  private fd: number | null;
  private eof = false;
  private readonly ownsFd: boolean;

  /**
   * `stream`: the source cannot seek (a pipe, stdin), so reads take what comes
   * next and the size is unknown (totalBytes 0). Reads only ever move
   * forward, so a file and a stream are read the same way otherwise.
   */
  constructor(source: string | number, readonly totalBytes: number, private readonly stream = false) {
    this.fd = typeof source === 'number' ? source : openSync(source, 'r');
    this.ownsFd = typeof source !== 'number';
  }

  get offset(): number { return this.base + this.start; }

  /** Of a stream, only known once it ended (callers ask after ensure() failed). */
  remaining(): number {
    if (!this.stream) return this.totalBytes - this.offset;
    return this.eof ? this.end - this.start : Number.POSITIVE_INFINITY;
  }

  ensure(n: number): boolean {
    if (this.end - this.start >= n) return true;
    if (this.eof || this.fd === null) return false;
    // A record's length field is read before its bytes: a chunk is sized by
    // what the source can still give, so a corrupt length claiming 256 MiB
    // does not allocate 256 MiB for a file that holds a few bytes more.
    // (A file gets a byte more than it has, so its end is met without growing the chunk.)
    const mayHave = this.stream ? 2 * (this.end - this.start) : this.totalBytes - this.offset + 1;
    if (this.start + n > this.buf.length) this.moveTo(Math.max(CHUNK, Math.min(n, mayHave)));
    while (this.end - this.start < n) {
      if (this.end === this.buf.length) this.moveTo(Math.min(n, 2 * this.buf.length));
      const got = this.stream ? readBlocking(this.fd, this.buf, this.end) : readSync(this.fd, this.buf, this.end, this.buf.length - this.end, this.base + this.end);
      if (got === 0) { this.eof = true; break; }
      this.end += got;
    }
    return this.end - this.start >= n;
  }

  /** The unread tail starts a new chunk of `size` bytes. */
  private moveTo(size: number): void {
    const next = newChunk(size);
    next.set(this.buf.subarray(this.start, this.end), 0);
    this.base += this.start;
    this.end -= this.start;
    this.start = 0;
    this.buf = next;
  }

  close(): void {
    if (this.fd !== null && this.ownsFd) closeSync(this.fd);
    this.fd = null;
  }
}

/** A chunk without zero-filling: every byte read from it was first read from the file. */
function newChunk(size: number): Uint8Array {
  const b = Buffer.allocUnsafeSlow(size);
  return new Uint8Array(b.buffer, b.byteOffset, size);
}
