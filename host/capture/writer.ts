// Writers for classic pcap and pcapng. They back the sample generator, tests
// that need captures in every flavour, and `inspect --write-dropped`.
// Frames go to memory (toBytes) or, with a path, straight to a file ('-':
// standard output).
import { closeSync, openSync } from 'node:fs';
import { writeBlocking } from './blocking-io.js';
import { SecuxflowError } from '../errors.js';
import { LinkType } from '../packet/types.js';
import type { RawFrame } from './types.js';

export interface FrameToWrite {
  data: Uint8Array;
  tsSec: number;
  tsNsec: number;
  /** Defaults to data.length. */
  wireLen?: number;
  /** pcapng interface index; ignored by PcapWriter. */
  iface?: number;
}

const FILE_BUFFER = 256 * 1024;

/**
 * Collects bytes in memory, or appends them to a file when a path is given.
 * File output is buffered so a frame costs no system call; close() flushes.
 */
class Sink {
  private readonly fd: number | null;
  private readonly ownsFd: boolean = true;
  private readonly parts: Uint8Array[] = [];
  private size = 0;
  private closed = false;
  private readonly pending: Uint8Array | null;
  private pendingLen = 0;

  constructor(readonly path?: string) {
    if (path === undefined) { this.fd = null; this.pending = null; return; }
    this.pending = new Uint8Array(FILE_BUFFER);
    if (path === '-') { this.fd = 1; this.ownsFd = false; return; }
    try {
      this.fd = openSync(path, 'w');
    } catch (e) {
      throw new SecuxflowError('E_IO', `cannot create capture file '${path}': ${(e as Error).message}`,
        'check that the directory exists and is writable');
    }
  }

  write(bytes: Uint8Array): void {
    if (this.closed) throw new SecuxflowError('E_INTERNAL', 'capture writer used after close');
    this.size += bytes.length;
    if (this.fd === null || this.pending === null) {
      this.parts.push(bytes);
      return;
    }
    if (this.pendingLen + bytes.length > this.pending.length) this.flush();
    if (bytes.length >= this.pending.length) {
      this.writeAll(bytes);
      return;
    }
    this.pending.set(bytes, this.pendingLen);
    this.pendingLen += bytes.length;
  }

  flush(): void {
    if (this.fd === null || this.pending === null || this.pendingLen === 0) return;
    const chunk = this.pending.subarray(0, this.pendingLen);
    this.pendingLen = 0;
    this.writeAll(chunk);
  }

  private writeAll(bytes: Uint8Array): void {
    try {
      writeBlocking(this.fd!, bytes);
    } catch (e) {
      throw new SecuxflowError('E_IO', `cannot write capture ${this.path === '-' ? 'to standard output' : `file '${this.path}'`}: ${(e as Error).message}`);
    }
  }

  get bytesWritten(): number { return this.size; }

  toBytes(): Uint8Array {
    if (this.fd !== null) throw new SecuxflowError('E_INTERNAL', 'toBytes() is only for in-memory writers');
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const p of this.parts) { out.set(p, at); at += p.length; }
    return out;
  }

  close(): void {
    if (this.closed) return;
    try {
      this.flush();
    } finally {
      this.closed = true;
      if (this.fd !== null && this.ownsFd) closeSync(this.fd);
    }
  }
}

function checkTimestamp(f: FrameToWrite): void {
  if (!Number.isInteger(f.tsSec) || f.tsSec < 0 || !Number.isInteger(f.tsNsec) || f.tsNsec < 0 || f.tsNsec >= 1e9) {
    throw new SecuxflowError('E_USAGE', `invalid frame timestamp ${f.tsSec}.${f.tsNsec}: seconds >= 0 and nanoseconds 0..999999999 expected`);
  }
}

export interface PcapWriterOptions {
  /** Nanosecond timestamps (magic 0xa1b23c4d) instead of microseconds. */
  nanosecond?: boolean;
  bigEndian?: boolean;
  linkType?: LinkType;
  snaplen?: number;
  /** Write to this file ('-': standard output) instead of memory. */
  path?: string;
}

/** Classic libpcap format. */
export class PcapWriter {
  private readonly sink: Sink;
  private readonly view = new DataView(new ArrayBuffer(24));
  private readonly le: boolean;
  private readonly nano: boolean;
  readonly snaplen: number;

  constructor(opts: PcapWriterOptions = {}) {
    this.le = !opts.bigEndian;
    this.nano = opts.nanosecond ?? false;
    this.snaplen = opts.snaplen ?? 262144;
    this.sink = new Sink(opts.path);
    const v = this.view;
    v.setUint32(0, this.nano ? 0xa1b23c4d : 0xa1b2c3d4, this.le);
    v.setUint16(4, 2, this.le);
    v.setUint16(6, 4, this.le);
    v.setInt32(8, 0, this.le);
    v.setUint32(12, 0, this.le);
    v.setUint32(16, this.snaplen, this.le);
    v.setUint32(20, opts.linkType ?? LinkType.ETHERNET, this.le);
    this.sink.write(new Uint8Array(v.buffer.slice(0, 24)));
  }

  /** Frames longer than the snaplen are cut to it; wireLen keeps the original length. */
  write(frame: RawFrame | FrameToWrite): void {
    checkTimestamp(frame);
    const caplen = Math.min(frame.data.length, this.snaplen);
    const v = this.view;
    v.setUint32(0, frame.tsSec, this.le);
    v.setUint32(4, this.nano ? frame.tsNsec : Math.floor(frame.tsNsec / 1000), this.le);
    v.setUint32(8, caplen, this.le);
    v.setUint32(12, frame.wireLen ?? frame.data.length, this.le);
    this.sink.write(new Uint8Array(v.buffer.slice(0, 16)));
    this.sink.write(frame.data.slice(0, caplen));
  }

  get bytesWritten(): number { return this.sink.bytesWritten; }
  toBytes(): Uint8Array { return this.sink.toBytes(); }
  /** Pushes buffered frames to the file (close() does this too). */
  flush(): void { this.sink.flush(); }
  close(): void { this.sink.close(); }
}

export interface PcapngInterface {
  linkType: LinkType;
  snaplen?: number;
  /**
   * The if_tsresol option byte: 0..127 means 10^-n seconds, 0x80|n means
   * 2^-n seconds. Default 6 (microseconds), which is then not written.
   */
  tsresol?: number;
  name?: string;
}

export interface PcapngWriterOptions {
  interfaces?: PcapngInterface[];
  bigEndian?: boolean;
  path?: string;
}

const BLOCK_SHB = 0x0a0d0d0a;
const BLOCK_IDB = 1;
const BLOCK_SPB = 3;
const BLOCK_EPB = 6;

/** pcapng with one section; EPB by default, SPB on request (interface 0 only). */
export class PcapngWriter {
  private readonly sink: Sink;
  private readonly le: boolean;
  private readonly ifaces: Required<Omit<PcapngInterface, 'name'>>[] = [];

  constructor(opts: PcapngWriterOptions = {}) {
    this.le = !opts.bigEndian;
    this.sink = new Sink(opts.path);
    const shbBody = new Uint8Array(16);
    const v = new DataView(shbBody.buffer);
    v.setUint32(0, 0x1a2b3c4d, this.le);
    v.setUint16(4, 1, this.le);
    v.setUint16(6, 0, this.le);
    v.setInt32(8, -1, this.le); // section length unknown
    v.setInt32(12, -1, this.le);
    this.block(BLOCK_SHB, shbBody);
    for (const i of opts.interfaces ?? [{ linkType: LinkType.ETHERNET }]) this.addInterface(i);
  }

  /** Adds an interface; returns its index. */
  addInterface(i: PcapngInterface): number {
    const tsresol = i.tsresol ?? 6;
    const unitsPerSec = tsresol & 0x80 ? 2 ** (tsresol & 0x7f) : 10 ** tsresol;
    if (!Number.isInteger(tsresol) || tsresol < 0 || tsresol > 0xff || unitsPerSec > 2 ** 63) {
      throw new SecuxflowError('E_USAGE', `invalid if_tsresol ${tsresol}`);
    }
    const opts: Uint8Array[] = [];
    if (i.name !== undefined) opts.push(this.option(2, new TextEncoder().encode(i.name)));
    if (tsresol !== 6) opts.push(this.option(9, Uint8Array.of(tsresol)));
    if (opts.length) opts.push(new Uint8Array(4)); // opt_endofopt
    const optLen = opts.reduce((n, o) => n + o.length, 0);
    const body = new Uint8Array(8 + optLen);
    const v = new DataView(body.buffer);
    v.setUint16(0, i.linkType, this.le);
    v.setUint32(4, i.snaplen ?? 0, this.le);
    let at = 8;
    for (const o of opts) { body.set(o, at); at += o.length; }
    this.block(BLOCK_IDB, body);
    this.ifaces.push({ linkType: i.linkType, snaplen: i.snaplen ?? 0, tsresol });
    return this.ifaces.length - 1;
  }

  /** Enhanced Packet Block on frame.iface (default 0). */
  write(frame: RawFrame | FrameToWrite): void {
    checkTimestamp(frame);
    const ifIndex = frame.iface ?? 0;
    const iface = this.ifaces[ifIndex];
    if (!iface) throw new SecuxflowError('E_USAGE', `frame references pcapng interface ${ifIndex}, only ${this.ifaces.length} defined`);
    const caplen = iface.snaplen ? Math.min(iface.snaplen, frame.data.length) : frame.data.length;
    const body = new Uint8Array(20 + pad4(caplen));
    const v = new DataView(body.buffer);
    const ts = toUnits(frame.tsSec, frame.tsNsec, iface.tsresol);
    if (ts >= 1n << 64n) {
      throw new SecuxflowError('E_USAGE', `timestamp ${frame.tsSec}.${frame.tsNsec} does not fit 64 bits at if_tsresol ${iface.tsresol} of interface ${ifIndex}`,
        'use a coarser if_tsresol');
    }
    v.setUint32(0, ifIndex, this.le);
    v.setUint32(4, Number(ts >> 32n), this.le);
    v.setUint32(8, Number(ts & 0xffffffffn), this.le);
    v.setUint32(12, caplen, this.le);
    v.setUint32(16, frame.wireLen ?? frame.data.length, this.le);
    body.set(frame.data.subarray(0, caplen), 20);
    this.block(BLOCK_EPB, body);
  }

  /** Simple Packet Block: no timestamp, always interface 0. */
  writeSimple(data: Uint8Array, wireLen = data.length): void {
    const iface = this.ifaces[0];
    if (!iface) throw new SecuxflowError('E_USAGE', 'a Simple Packet Block needs pcapng interface 0');
    const caplen = iface.snaplen ? Math.min(iface.snaplen, data.length) : data.length;
    const body = new Uint8Array(4 + pad4(caplen));
    new DataView(body.buffer).setUint32(0, wireLen, this.le);
    body.set(data.subarray(0, caplen), 4);
    this.block(BLOCK_SPB, body);
  }

  /** Any block, for tests that need unknown or custom block types. */
  writeRawBlock(type: number, body: Uint8Array): void {
    this.block(type, body);
  }

  get bytesWritten(): number { return this.sink.bytesWritten; }
  toBytes(): Uint8Array { return this.sink.toBytes(); }
  /** Pushes buffered frames to the file (close() does this too). */
  flush(): void { this.sink.flush(); }
  close(): void { this.sink.close(); }

  private option(code: number, value: Uint8Array): Uint8Array {
    const o = new Uint8Array(4 + pad4(value.length));
    const v = new DataView(o.buffer);
    v.setUint16(0, code, this.le);
    v.setUint16(2, value.length, this.le);
    o.set(value, 4);
    return o;
  }

  private block(type: number, body: Uint8Array): void {
    const padded = pad4(body.length);
    const total = 12 + padded;
    const b = new Uint8Array(total);
    const v = new DataView(b.buffer);
    v.setUint32(0, type, this.le);
    v.setUint32(4, total, this.le);
    b.set(body, 8);
    v.setUint32(total - 4, total, this.le);
    this.sink.write(b);
  }
}

function pad4(n: number): number {
  return (n + 3) & ~3;
}

/** Seconds + nanoseconds as a count of if_tsresol units (truncating). */
export function toUnits(tsSec: number, tsNsec: number, tsresol: number): bigint {
  const base = tsresol & 0x80 ? 2n : 10n;
  const per = base ** BigInt(tsresol & 0x7f);
  return BigInt(tsSec) * per + (BigInt(tsNsec) * per) / 1_000_000_000n;
}
