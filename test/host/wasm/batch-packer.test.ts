// The batch packer copies runs of frames that sit together in a capture's
// chunk with one copy. Modules must see exactly what one copy per frame
// gives them, and never a byte of a packet they were not given.
import { describe, expect, it } from 'vitest';
import { captureFromBytes } from '../../../host/capture/reader.js';
import { PcapWriter } from '../../../host/capture/writer.js';
import { decodePacket } from '../../../host/packet/decode.js';
import { buildPacket } from '../../../host/packet/build.js';
import { LinkType } from '../../../host/packet/types.js';
import { META, MetaFlag } from '../../../host/wasm/abi.js';
import { BatchPacker, type BatchArea } from '../../../host/wasm/batch-packer.js';
import type { InspectItem } from '../../../host/wasm/types.js';

const CAP = 64;

/** UDP frames whose payload marks them: frame i carries "pkt-<i>-" repeated. */
function captureBytes(count: number): Uint8Array {
  const w = new PcapWriter({ nanosecond: true });
  for (let i = 0; i < count; i++) {
    const data = buildPacket({ src: '198.18.0.1', dst: '198.18.0.2', proto: 'udp', srcPort: 40000 + i, dstPort: 53, payload: `pkt-${i}-`.repeat(1 + (i % 5)) });
    w.write({ data, tsSec: 1_767_225_600 + i, tsNsec: 1000 * i, iface: 0 });
  }
  return w.toBytes();
}

/** Items for the capture's frames: views into the reader's buffer, or copies of their own. */
function items(bytes: Uint8Array, own: boolean): InspectItem[] {
  return [...captureFromBytes(bytes).frames()].map((f, i) => ({
    pkt: own ? decodePacket(f.data.slice(), f.linkType, f.tsSec, f.tsNsec, f.wireLen)
      : decodePacket(f.data, f.linkType, f.tsSec, f.tsNsec, f.wireLen, f.seq, f.offset),
    flowId: 100 + i, direction: (i & 1) as 0 | 1, flags: 0, stream: null, streamNew: 0,
  }));
}

function area(dataCapacity = 1 << 16, base = 4096): BatchArea {
  const buf = new ArrayBuffer(CAP * META.SIZE + dataCapacity);
  return { u8: new Uint8Array(buf), i32: new Int32Array(buf), metaAt: 0, dataAt: CAP * META.SIZE, base, capacity: CAP, dataCapacity };
}

function record(a: BatchArea, i: number): DataView {
  return new DataView(a.u8.buffer, a.metaAt + i * META.SIZE, META.SIZE);
}

/** The bytes a module reads at PKT_PTR / PKT_LEN of record i. */
function frameAt(a: BatchArea, i: number): Uint8Array {
  const r = record(a, i);
  const at = r.getUint32(META.PKT_PTR, true) - a.base;
  return a.u8.subarray(at, at + r.getUint32(META.PKT_LEN, true));
}

function dataRegion(a: BatchArea, used: number): Buffer {
  return Buffer.from(a.u8.subarray(a.dataAt, a.dataAt + used));
}

describe('batch packer', () => {
  const bytes = captureBytes(40);

  it('frames read from a capture are copied as one run: the same records and bytes as one copy per frame', () => {
    const run = area();
    const single = area();
    const viaRun = items(bytes, false);
    const viaCopies = items(bytes, true);
    const packer = new BatchPacker();
    expect(packer.pack(run, viaRun, 0, viaRun.length)).toBe(40);
    const runUsed = packer.used;
    expect(packer.pack(single, viaCopies, 0, viaCopies.length)).toBe(40);
    for (let i = 0; i < 40; i++) {
      expect(Buffer.from(frameAt(run, i)).equals(Buffer.from(viaRun[i]!.pkt.data)), `frame ${i}`).toBe(true);
      expect(Buffer.from(frameAt(single, i)).equals(Buffer.from(viaRun[i]!.pkt.data)), `frame ${i}`).toBe(true);
      // Every field but the pointer is the same either way.
      const a = new Uint8Array(run.u8.buffer, i * META.SIZE, META.SIZE).slice();
      const b = new Uint8Array(single.u8.buffer, i * META.SIZE, META.SIZE).slice();
      a.fill(0, META.PKT_PTR, META.PKT_PTR + 4);
      b.fill(0, META.PKT_PTR, META.PKT_PTR + 4);
      expect(Buffer.from(a).equals(Buffer.from(b)), `record ${i}`).toBe(true);
    }
    // One run: each frame sits after the 16-byte pcap record header that precedes it in the file.
    for (let i = 1; i < 40; i++) {
      const prevEnd = record(run, i - 1).getUint32(META.PKT_PTR, true) + viaRun[i - 1]!.pkt.data.length;
      expect(record(run, i).getUint32(META.PKT_PTR, true) - prevEnd).toBe(16);
    }
    expect(runUsed).toBe(packer.used + 39 * 16);
  });

  it('the bytes between two frames of a run are the capture\'s record header of the second', () => {
    const a = area();
    const list = items(bytes, false);
    new BatchPacker().pack(a, list, 0, 3);
    const gapAt = record(a, 1).getUint32(META.PKT_PTR, true) - a.base - 16;
    const header = new DataView(a.u8.buffer, gapAt, 16);
    expect(header.getUint32(0, true)).toBe(list[1]!.pkt.tsSec);
    expect(header.getUint32(4, true)).toBe(list[1]!.pkt.tsNsec);
    expect(header.getUint32(8, true)).toBe(list[1]!.pkt.data.length);
  });

  it('a frame the module is not given never shows up between the frames it is given', () => {
    const a = area();
    const all = items(bytes, false);
    const given = all.filter((_, i) => i !== 7);
    const packer = new BatchPacker();
    expect(packer.pack(a, given, 0, given.length)).toBe(39);
    const region = dataRegion(a, packer.used);
    expect(region.includes(Buffer.from(all[7]!.pkt.data))).toBe(false);
    expect(region.includes(Buffer.from('pkt-7-'))).toBe(false);
    // Frame 8 opens a new run right where frame 6 ended.
    const end6 = record(a, 6).getUint32(META.PKT_PTR, true) + all[6]!.pkt.data.length;
    expect(record(a, 7).getUint32(META.PKT_PTR, true)).toBe(end6);
    expect(Buffer.from(frameAt(a, 7)).equals(Buffer.from(all[8]!.pkt.data))).toBe(true);
  });

  it('an item with stream bytes ends the run; its stream follows its frame and the next run starts after it', () => {
    const a = area();
    const list = items(bytes, false).slice(0, 6);
    const stream = new TextEncoder().encode('GET /stream HTTP/1.1\r\n');
    list[3] = { ...list[3]!, stream, streamNew: stream.length };
    const packer = new BatchPacker();
    expect(packer.pack(a, list, 0, list.length)).toBe(6);
    for (let i = 0; i < 6; i++) expect(Buffer.from(frameAt(a, i)).equals(Buffer.from(list[i]!.pkt.data)), `frame ${i}`).toBe(true);
    const r3 = record(a, 3);
    const streamPtr = r3.getUint32(META.STREAM_PTR, true);
    expect(streamPtr).toBe(r3.getUint32(META.PKT_PTR, true) + list[3]!.pkt.data.length);
    expect(Buffer.from(a.u8.subarray(streamPtr - a.base, streamPtr - a.base + stream.length)).toString()).toBe('GET /stream HTTP/1.1\r\n');
    expect(record(a, 4).getUint32(META.PKT_PTR, true)).toBe(streamPtr + stream.length);
  });

  it('a run that would overflow the data region stops the call there; the rest starts the next call', () => {
    const list = items(bytes, false);
    const sizes = list.map((x) => x.pkt.data.length);
    // Room for frames 0..4 and their headers, not for frame 5.
    const room = sizes.slice(0, 5).reduce((n, s) => n + s, 0) + 4 * 16 + 8;
    const a = area(room);
    const packer = new BatchPacker();
    expect(packer.pack(a, list, 0, list.length)).toBe(5);
    expect(packer.used).toBeLessThanOrEqual(room);
    expect(packer.pack(a, list, 5, list.length)).toBeGreaterThan(0);
    expect(Buffer.from(frameAt(a, 0)).equals(Buffer.from(list[5]!.pkt.data))).toBe(true);
  });

  it('a lone frame larger than the data region is cut and flagged, as before runs', () => {
    const list = items(bytes, false);
    const a = area(40);
    const packer = new BatchPacker();
    expect(packer.pack(a, list, 0, list.length)).toBe(1);
    const r = record(a, 0);
    expect(r.getUint32(META.PKT_LEN, true)).toBe(40);
    expect(r.getUint8(META.FLAGS) & MetaFlag.TRUNCATED).toBe(MetaFlag.TRUNCATED);
    expect(Buffer.from(frameAt(a, 0)).equals(Buffer.from(list[0]!.pkt.data.subarray(0, 40)))).toBe(true);
  });

  it('reports the newest packet time among the packets it took', () => {
    const list = items(bytes, false).slice(0, 10).reverse();
    const packer = new BatchPacker();
    packer.pack(area(), list, 0, list.length);
    expect([packer.newestSec, packer.newestNsec]).toEqual([1_767_225_609, 9000]);
  });

  it('a frame with no source position after a run gets a copy of its own, right after the run', () => {
    const list = items(bytes, false).slice(0, 2);
    const other = decodePacket(new Uint8Array(list[1]!.pkt.data), LinkType.ETHERNET, 0, 0, undefined, -1, 0);
    const mixed: InspectItem[] = [list[0]!, { ...list[1]!, pkt: other }];
    const a = area();
    new BatchPacker().pack(a, mixed, 0, 2);
    expect(Buffer.from(frameAt(a, 1)).equals(Buffer.from(list[1]!.pkt.data))).toBe(true);
    expect(record(a, 1).getUint32(META.PKT_PTR, true)).toBe(record(a, 0).getUint32(META.PKT_PTR, true) + list[0]!.pkt.data.length);
  });
});
