// Hostile captures built byte by byte: fields at their limits must give a
// CaptureError naming the block, or a frame, never a crash later on.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CaptureError, captureFromBytes, openCapture } from '../../../host/capture/reader.js';
import type { RawFrame } from '../../../host/capture/types.js';
import { FileWindow } from '../../../host/capture/window.js';

const u16 = (v: number): Buffer => { const b = Buffer.alloc(2); b.writeUInt16LE(v); return b; };
const u32 = (v: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32LE(v >>> 0); return b; };

function block(type: number, body: Buffer): Buffer {
  const padded = Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]);
  return Buffer.concat([u32(type), u32(12 + padded.length), padded, u32(12 + padded.length)]);
}
const SHB = block(0x0a0d0d0a, Buffer.concat([u32(0x1a2b3c4d), u16(1), u16(0), u32(0xffffffff), u32(0xffffffff)]));
function option(code: number, value: Buffer): Buffer {
  return Buffer.concat([u16(code), u16(value.length), value, Buffer.alloc((4 - (value.length % 4)) % 4)]);
}
const idb = (options: Buffer): Buffer => block(1, Buffer.concat([u16(1), u16(0), u32(0), options]));
function epb(tsHigh: number, tsLow: number, data = Buffer.alloc(20)): Buffer {
  return block(6, Buffer.concat([u32(0), u32(tsHigh), u32(tsLow), u32(data.length), u32(data.length), data]));
}

function drain(bytes: Buffer): { got: RawFrame[]; err: CaptureError | null } {
  const got: RawFrame[] = [];
  try {
    for (const f of captureFromBytes(bytes, 'hostile.pcapng').frames()) got.push(f);
  } catch (e) {
    expect(e).toBeInstanceOf(CaptureError);
    return { got, err: e as CaptureError };
  }
  return { got, err: null };
}

describe('pcapng timestamps out of range', () => {
  it('an if_tsoffset near 2^63 s: E_CAPTURE at the packet block naming the interface\'s clock, not a crash in the EVE output', () => {
    const offset = Buffer.from('ffffffffffffff7f', 'hex'); // 2^63 - 1, little-endian
    const iface = idb(option(14, offset));
    const bytes = Buffer.concat([SHB, iface, epb(0, 1)]);
    const { got, err } = drain(bytes);
    expect(got.length).toBe(0);
    expect(err?.code).toBe('E_CAPTURE');
    expect(err?.offset).toBe(SHB.length + iface.length);
    expect(err?.message).toMatch(/packet timestamp \d+ s is outside the years 1970\.\.9999 \(interface 0: if_tsresol 10\^-6 s, if_tsoffset \d+ s\)/);
    expect(err?.hint).toContain('if_tsoffset');
  });

  it('if_tsresol of whole seconds with a 2^64 - 1 timestamp: E_CAPTURE naming the resolution', () => {
    const iface = idb(option(9, Buffer.from([0])));
    const { err } = drain(Buffer.concat([SHB, iface, epb(0xffffffff, 0xffffffff)]));
    expect(err?.message).toContain('if_tsresol 10^-0 s');
    expect(err?.offset).toBe(SHB.length + iface.length);
  });

  it('a timestamp in year 10000 (whole-second resolution): E_CAPTURE, where EVE wrote "+010000-01-01T00:00.000000"', () => {
    const { got, err } = drain(Buffer.concat([SHB, idb(option(9, Buffer.from([0]))), epb(58, 4_294_197_632), epb(0, 1)]));
    // 58 * 2^32 + 4294197632 = 253402300800 s, 10000-01-01T00:00:00Z.
    expect(got.length).toBe(0);
    expect(err?.message).toContain('packet timestamp 253402300800 s is outside the years 1970..9999');
  });

  it('a negative if_tsoffset (a signed count of seconds) moves timestamps back', () => {
    const minus100 = Buffer.alloc(8);
    minus100.writeBigInt64LE(-100n);
    // Whole-second resolution, so the timestamp fits the block's low word.
    const { got, err } = drain(Buffer.concat([SHB, idb(Buffer.concat([option(9, Buffer.from([0])), option(14, minus100)])), epb(0, 1_767_225_700)]));
    expect(err).toBeNull();
    expect(got[0]!.tsSec).toBe(1_767_225_600);
  });
});

describe('length fields claiming more than the source holds', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sf-read-hostile-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // A pcap record header claiming 200 MiB, in a file of 58 bytes.
  const header = Buffer.concat([u32(0xa1b2c3d4), u16(2), u16(4), u32(0), u32(0), u32(0xffffffff), u32(1)]);
  const bytes = Buffer.concat([header, u32(1), u32(0), u32(200 << 20), u32(200 << 20), Buffer.alloc(18)]);

  it('a pcap record claiming 200 MiB in a small file: E_CAPTURE at the record, and the read buffer stays a chunk', () => {
    const path = join(dir, 'claim.pcap');
    writeFileSync(path, bytes);
    const w = new FileWindow(path, bytes.length);
    w.start = 0;
    expect(w.ensure(24 + 16 + (200 << 20))).toBe(false);
    expect(w.buf.length).toBeLessThanOrEqual(256 << 10);
    w.close();
    const { err } = drainFile(path);
    expect(err?.offset).toBe(24);
    expect(err?.message).toContain('header says 209715200 bytes, 18 remain');
  });

  it('the same claim read from a pipe: the buffer grows with what arrives, not with the claim', () => {
    const path = join(dir, 'claim.fifo');
    const file = join(dir, 'claim-for-pipe.pcap');
    writeFileSync(file, bytes);
    expect(spawnSync('mkfifo', [path]).status).toBe(0);
    // Another process feeds the pipe on its own, since this one reads it synchronously.
    const writer = spawn('sh', ['-c', `cat '${file}' > '${path}'`], { stdio: 'ignore' });
    const w = new FileWindow(path, 0, true);
    expect(w.ensure(24 + 16 + (200 << 20))).toBe(false);
    expect(w.buf.length).toBeLessThanOrEqual(256 << 10);
    w.close();
    writer.kill();
  });
});

function drainFile(path: string): { err: CaptureError | null } {
  try {
    for (const _ of openCapture(path).frames()) { /* frames before the fault */ }
  } catch (e) {
    expect(e).toBeInstanceOf(CaptureError);
    return { err: e as CaptureError };
  }
  return { err: null };
}

describe('every capture error says how to go on', () => {
  it.each([
    ['a pcap file of 10 bytes (inside its header)', Buffer.from('d4c3b2a1020004000000', 'hex'), /cut short, or is not a capture/],
    ['a pcapng EPB naming an interface with no IDB', Buffer.concat([SHB, epb(0, 0)]), /after the interface description block it names/],
    ['a pcapng IDB option running past its block', Buffer.concat([SHB, idb(Buffer.concat([u16(2), u16(500), Buffer.alloc(4)]))]), /damaged at byte 44: every frame before it was read/],
  ])('%s: E_CAPTURE with a hint', (_what, bytes, hint) => {
    const { err } = drain(bytes);
    expect(err?.code).toBe('E_CAPTURE');
    expect(err?.hint).toMatch(hint);
  });
});

describe('pcapng section headers', () => {
  const shbOf = (body: Buffer): Buffer => block(0x0a0d0d0a, body);
  const frameAfter = (shb: Buffer): Buffer => Buffer.concat([shb, idb(Buffer.alloc(0)), epb(0, 0)]);

  it('a section of major version 2: E_CAPTURE at the section naming the version, no frames read as 1.x garbage', () => {
    const v2 = shbOf(Buffer.concat([u32(0x1a2b3c4d), u16(2), u16(0), u32(0xffffffff), u32(0xffffffff)]));
    const { got, err } = drain(Buffer.concat([frameAfter(SHB), frameAfter(v2)]));
    expect(got.length).toBe(1);
    expect(err?.offset).toBe(SHB.length + 20 + 52);
    expect(err?.message).toContain('pcapng section version 2.0 is not supported');
  });

  it('a section header block too short to hold its version: E_CAPTURE at byte 0', () => {
    const { got, err } = drain(frameAfter(shbOf(u32(0x1a2b3c4d))));
    expect(got.length).toBe(0);
    expect(err?.offset).toBe(0);
    expect(err?.message).toContain('section header block body 4 < 16 bytes');
  });
});

describe('pcapng simple packet blocks', () => {
  it('an SPB claiming 1000 bytes with 42 in the block, interface snaplen 0: E_CAPTURE at the block, not a frame of data plus padding', () => {
    const spb = block(3, Buffer.concat([u32(1000), Buffer.alloc(42, 7)]));
    const iface = idb(Buffer.alloc(0));
    const { got, err } = drain(Buffer.concat([SHB, iface, spb]));
    expect(got.length).toBe(0);
    expect(err?.offset).toBe(SHB.length + iface.length);
    expect(err?.message).toContain('simple packet block needs 1000 bytes, 44 in the block');
  });
});
