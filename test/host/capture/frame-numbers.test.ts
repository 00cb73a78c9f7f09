// Capture readers number their frames (srcSeq) so the module host can copy a
// run of them at once. Consecutive numbers must mean: same buffer, next
// frame, nothing but the file's own framing between.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { captureFromBytes, openCapture } from '../../../host/capture/reader.js';
import { PcapWriter, PcapngWriter } from '../../../host/capture/writer.js';
import type { RawFrame } from '../../../host/capture/types.js';
import { LinkType } from '../../../host/packet/types.js';

const dir = mkdtempSync(join(tmpdir(), 'sf-frame-numbers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function frame(i: number): Uint8Array {
  const b = new Uint8Array(60 + ((i * 131) % 1400));
  for (let k = 0; k < b.length; k++) b[k] = (i * 7 + k * 13) & 0xff;
  return b;
}

/** For each frame after the first: the gap to the one before when numbered consecutively, else null. */
function gaps(frames: RawFrame[]): (number | null)[] {
  return frames.slice(1).map((f, i) => {
    const prev = frames[i]!;
    if (f.seq !== prev.seq! + 1) return null;
    expect(f.data.buffer).toBe(prev.data.buffer);
    return f.offset! - (prev.offset! + prev.data.length);
  });
}

describe('frame numbers for runs', () => {
  it('pcap file: consecutive numbers within a chunk, 16 header bytes apart; each new chunk starts afresh', () => {
    const path = join(dir, 'many.pcap');
    const w = new PcapWriter({ path, nanosecond: true });
    for (let i = 0; i < 1500; i++) w.write({ data: frame(i), tsSec: 1, tsNsec: i, iface: 0 });
    w.close();
    const frames = [...openCapture(path).frames()];
    for (const f of frames) expect(f.offset).toBe(f.data.byteOffset);
    const g = gaps(frames);
    const joined = g.filter((x) => x !== null);
    expect(new Set(joined)).toEqual(new Set([16]));
    // About 1 MiB of records over 256 KiB chunks: a few breaks, and only there.
    const breaks = g.filter((x) => x === null).length;
    expect(breaks).toBeGreaterThanOrEqual(3);
    expect(breaks).toBeLessThan(10);
  });

  it('pcapng: adjacent packet blocks follow on; a block that is not a packet between them breaks the numbering', () => {
    const w = new PcapngWriter({ interfaces: [{ linkType: LinkType.ETHERNET }] });
    for (let i = 0; i < 4; i++) w.write({ data: frame(i), tsSec: 1, tsNsec: i, iface: 0 });
    const file = w.toBytes();
    const frames = [...captureFromBytes(file).frames()];
    const g = gaps(frames);
    expect(g.every((x) => x !== null && x >= 32 && x <= 64)).toBe(true);

    // The same file with a custom block (which could carry anything) between packets 2 and 3.
    const at = frames[2]!.offset! - file.byteOffset + frames[2]!.data.length;
    const epbEnd = at + ((4 - (frames[2]!.data.length % 4)) % 4) + 4; // padding, then the trailing length
    const custom = new Uint8Array(16);
    const dv = new DataView(custom.buffer);
    dv.setUint32(0, 0x40000bad, true);
    dv.setUint32(4, 16, true);
    custom.set([0x53, 0x45, 0x43, 0x52], 8); // "SECR"
    dv.setUint32(12, 16, true);
    const spliced = new Uint8Array(file.length + 16);
    spliced.set(file.subarray(0, epbEnd), 0);
    spliced.set(custom, epbEnd);
    spliced.set(file.subarray(epbEnd), epbEnd + 16);
    const again = [...captureFromBytes(spliced).frames()];
    expect(again.map((f) => Buffer.from(f.data).equals(Buffer.from(frame(again.indexOf(f)))))).toEqual([true, true, true, true]);
    const g2 = gaps(again);
    expect(g2[0]).not.toBeNull();
    expect(g2[1]).not.toBeNull();
    expect(g2[2]).toBeNull();
  });

  it('two readers never hand out numbers that follow on from each other', () => {
    const w = new PcapWriter({ nanosecond: true });
    for (let i = 0; i < 3; i++) w.write({ data: frame(i), tsSec: 1, tsNsec: i, iface: 0 });
    const bytes = w.toBytes();
    const a = captureFromBytes(bytes).frames()[Symbol.iterator]();
    const b = captureFromBytes(bytes).frames()[Symbol.iterator]();
    const seqs = [a.next().value!.seq!, b.next().value!.seq!, a.next().value!.seq!, b.next().value!.seq!];
    expect(seqs[2]).toBe(seqs[0] + 1);
    expect(seqs[3]).toBe(seqs[1] + 1);
    expect(Math.abs(seqs[1] - seqs[0])).toBeGreaterThan(1);
    expect(Math.abs(seqs[1] - seqs[2])).toBeGreaterThan(1);
  });
});
