// Hostile captures built byte by byte: fields at their limits must give a
// CaptureError naming the block, or a frame, never a crash later on.
import { describe, expect, it } from 'vitest';
import { CaptureError, captureFromBytes } from '../../../host/capture/reader.js';
import type { RawFrame } from '../../../host/capture/types.js';

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
    expect(err?.message).toMatch(/packet timestamp \d+ s is outside 1970\.\.275760 \(interface 0: if_tsresol 10\^-6 s, if_tsoffset \d+ s\)/);
    expect(err?.hint).toContain('if_tsoffset');
  });

  it('if_tsresol of whole seconds with a 2^64 - 1 timestamp: E_CAPTURE naming the resolution', () => {
    const iface = idb(option(9, Buffer.from([0])));
    const { err } = drain(Buffer.concat([SHB, iface, epb(0xffffffff, 0xffffffff)]));
    expect(err?.message).toContain('if_tsresol 10^-0 s');
    expect(err?.offset).toBe(SHB.length + iface.length);
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
