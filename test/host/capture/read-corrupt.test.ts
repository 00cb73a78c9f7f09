// Corrupt captures: the frames before the fault come out, then a CaptureError
// names the file, the exact byte offset and the problem.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CaptureError, captureFromBytes, openCapture } from '../../../host/capture/reader.js';
import type { RawFrame } from '../../../host/capture/types.js';
import { PcapWriter, PcapngWriter } from '../../../host/capture/writer.js';
import { buildPacket } from '../../../host/packet/build.js';
import { LinkType } from '../../../host/packet/types.js';

const dir = mkdtempSync(join(tmpdir(), 'sf-read-corrupt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const frames = [0, 1, 2].map((i) => buildPacket({ src: '198.18.0.1', dst: '198.18.0.2', proto: 'udp', srcPort: 100 + i, payload: 'x'.repeat(10 + i * 5) }));
const PCAP_HEADER = 24;
const PCAP_RECORD = 16;
const SHB = 28;
const IDB = 20;
const epbSize = (n: number): number => 12 + 20 + ((n + 3) & ~3);

function drain(bytes: Uint8Array, name = 'corrupt.cap'): { got: RawFrame[]; err: CaptureError } {
  const got: RawFrame[] = [];
  try {
    for (const f of captureFromBytes(bytes, name).frames()) got.push(f);
  } catch (e) {
    expect(e).toBeInstanceOf(CaptureError);
    return { got, err: e as CaptureError };
  }
  throw new Error('expected a CaptureError');
}

function pcapOf(list: Uint8Array[], snaplen?: number): Uint8Array {
  const w = new PcapWriter(snaplen === undefined ? {} : { snaplen });
  list.forEach((data, i) => w.write({ data, tsSec: 1767225600 + i, tsNsec: 0 }));
  return w.toBytes();
}

function pcapngOf(list: Uint8Array[], snaplen?: number): Uint8Array {
  const w = new PcapngWriter({ interfaces: [snaplen === undefined ? { linkType: LinkType.ETHERNET } : { linkType: LinkType.ETHERNET, snaplen }] });
  list.forEach((data, i) => w.write({ data, tsSec: 1767225600 + i, tsNsec: 0 }));
  return w.toBytes();
}

describe('bad magic', () => {
  it('says what was found and that it is not a capture', () => {
    let err: unknown;
    try { captureFromBytes(new TextEncoder().encode('hello, world'), 'notes.txt'); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(CaptureError);
    const e = err as CaptureError;
    expect(e.code).toBe('E_CAPTURE');
    expect(e.offset).toBe(0);
    expect(e.message).toContain('notes.txt');
    expect(e.message).toContain('0x68656c6c');
    expect(e.hint).toContain('not a pcap or pcapng file');
  });

  it.each([
    ['gzip', [0x1f, 0x8b, 0x08, 0x00], 'zcat'],
    ['zstd', [0x28, 0xb5, 0x2f, 0xfd], 'zstdcat'],
    ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], 'xzcat'],
    ['bzip2', [0x42, 0x5a, 0x68, 0x39], 'bzcat'],
  ])('a %s-compressed capture is named as such, with the command that feeds it in', (what, magic, tool) => {
    let err: unknown;
    try { captureFromBytes(Uint8Array.from([...magic, 0, 0, 0, 0]), 'day.pcap.x'); } catch (e) { err = e; }
    const e = err as CaptureError;
    expect(e.message).toContain(`: a ${what}-compressed file`);
    expect(e.hint).toBe(`unpack it on the way in: ${tool} day.pcap.x | secuxflow inspect --pcap -`);
  });

  it('an empty or tiny file is refused the same way, from disk too', () => {
    const path = join(dir, 'empty.pcap');
    writeFileSync(path, new Uint8Array(0));
    expect(() => openCapture(path)).toThrow(CaptureError);
    expect(() => captureFromBytes(Uint8Array.of(0xd4, 0xc3))).toThrow(/file too short/);
  });
});

describe('classic pcap', () => {
  it('truncated record: the frames before it, then the offset and both lengths', () => {
    const whole = pcapOf(frames);
    const cut = whole.subarray(0, whole.length - 10);
    const { got, err } = drain(cut);
    expect(got.length).toBe(2);
    expect(got.map((f) => f.data.length)).toEqual([frames[0]!.length, frames[1]!.length]);
    expect(err.offset).toBe(PCAP_HEADER + 2 * PCAP_RECORD + frames[0]!.length + frames[1]!.length);
    expect(err.message).toContain(`byte offset ${err.offset}`);
    expect(err.message).toContain(`header says ${frames[2]!.length} bytes, ${frames[2]!.length - 10} remain`);
  });

  it('truncated record header', () => {
    const whole = pcapOf(frames.slice(0, 1));
    const withStub = Buffer.concat([whole, Buffer.alloc(7)]);
    const { got, err } = drain(withStub);
    expect(got.length).toBe(1);
    expect(err.offset).toBe(whole.length);
    expect(err.message).toContain('16 bytes needed, 7 remain');
  });

  it('records longer than the header\'s snaplen are read whole, as tshark reads them (a writer\'s default snaplen below its frames)', () => {
    const bytes = pcapOf(frames);
    new DataView(bytes.buffer, bytes.byteOffset).setUint32(16, 20, true);
    const got = [...captureFromBytes(bytes).frames()];
    expect(got.map((f) => Buffer.from(f.data))).toEqual(frames.map((f) => Buffer.from(f)));
    expect(got.map((f) => f.wireLen)).toEqual(frames.map((f) => f.length));
  });

  it('a record longer than 262144 bytes, libpcap\'s and Wireshark\'s largest snaplen, under a smaller one: corrupt', () => {
    const bytes = pcapOf(frames, 100);
    const second = PCAP_HEADER + PCAP_RECORD + frames[0]!.length;
    new DataView(bytes.buffer, bytes.byteOffset).setUint32(second + 8, 262145, true);
    const { got, err } = drain(bytes);
    expect(got.length).toBe(1);
    expect(err.offset).toBe(second);
    expect(err.message).toContain('captured length 262145 > 262144, the largest frame read (the file\'s snaplen is 100)');
    expect(err.hint).toContain('the record header is corrupt');
  });

  it('the same from a file read in chunks', () => {
    const many = Array.from({ length: 3000 }, (_, i) => frames[i % 3]!);
    const whole = pcapOf(many);
    const path = join(dir, 'cut.pcap');
    writeFileSync(path, whole.subarray(0, whole.length - 3));
    const got: RawFrame[] = [];
    let err: unknown;
    try { for (const f of openCapture(path).frames()) got.push(f); } catch (e) { err = e; }
    expect(got.length).toBe(2999);
    expect(err).toBeInstanceOf(CaptureError);
    expect((err as CaptureError).offset).toBe(whole.length - PCAP_RECORD - many[2999]!.length);
    expect((err as CaptureError).message).toContain(path);
  });
});

describe('pcapng', () => {
  const firstEpb = SHB + IDB;
  const afterTwo = firstEpb + epbSize(frames[0]!.length) + epbSize(frames[1]!.length);

  it('garbage where a block should start', () => {
    const bytes = Buffer.concat([pcapngOf(frames.slice(0, 2)), Buffer.from('GARBAGE! GARBAGE! GARBAGE!')]);
    const { got, err } = drain(bytes);
    expect(got.length).toBe(2);
    expect(err.offset).toBe(afterTwo);
    expect(err.message).toMatch(/invalid block length \d+/);
  });

  it('a block length over the largest block read names that bound, not only the two it meets', () => {
    const bytes = pcapngOf(frames);
    new DataView(bytes.buffer, bytes.byteOffset).setUint32(afterTwo + 4, 0x7ffffff0, true); // >= 12 and a multiple of 4
    const { got, err } = drain(bytes);
    expect(got.length).toBe(2);
    expect(err.offset).toBe(afterTwo);
    expect(err.message).toMatch(/invalid block length 2147483632 for block type 0x00000006 \(must be >= 12, a multiple of 4 and at most 268435456\)/);
  });

  it('trailing length that does not match the leading one', () => {
    const bytes = pcapngOf(frames);
    const third = afterTwo;
    const end = third + epbSize(frames[2]!.length);
    new DataView(bytes.buffer, bytes.byteOffset).setUint32(end - 4, 12345, true);
    const { got, err } = drain(bytes);
    expect(got.length).toBe(2);
    expect(err.offset).toBe(third);
    expect(err.message).toContain(`trailing length 12345 != leading length ${epbSize(frames[2]!.length)}`);
  });

  it('truncated block', () => {
    const bytes = pcapngOf(frames);
    const { got, err } = drain(bytes.subarray(0, bytes.length - 6));
    expect(got.length).toBe(2);
    expect(err.offset).toBe(afterTwo);
    expect(err.message).toContain(`header says ${epbSize(frames[2]!.length)} bytes, ${epbSize(frames[2]!.length) - 6} remain`);
  });

  /** A pcapng of frames[0] on an interface of snaplen 60, then an EPB claiming `caplen` bytes and holding them. */
  function withLongEpb(caplen: number): Uint8Array {
    const w = new PcapngWriter({ interfaces: [{ linkType: LinkType.ETHERNET, snaplen: 60 }] });
    w.write({ data: frames[0]!, tsSec: 1, tsNsec: 0 });
    const body = new Uint8Array(20 + ((caplen + 3) & ~3));
    new DataView(body.buffer).setUint32(12, caplen, true);
    new DataView(body.buffer).setUint32(16, caplen, true);
    body.fill(0xab, 20, 20 + caplen);
    w.writeRawBlock(6, body);
    return w.toBytes();
  }

  it('a packet longer than its interface\'s snaplen is read whole, as tshark reads it', () => {
    const got = [...captureFromBytes(withLongEpb(64)).frames()];
    expect(got.map((f) => f.data.length)).toEqual([frames[0]!.length, 64]);
    expect(got[1]!.data.every((b) => b === 0xab)).toBe(true);
  });

  it('a packet longer than 262144 bytes under a smaller interface snaplen: corrupt', () => {
    const { got, err } = drain(withLongEpb(262145));
    expect(got.length).toBe(1);
    expect(err.offset).toBe(firstEpb + epbSize(frames[0]!.length));
    expect(err.message).toContain('captured length 262145 > 262144, the largest frame read (interface 0\'s snaplen is 60)');
  });

  it('packet block naming an interface that was never described', () => {
    const w = new PcapngWriter({ interfaces: [{ linkType: LinkType.ETHERNET }] });
    const body = new Uint8Array(20 + 4);
    new DataView(body.buffer).setUint32(0, 3, true);
    new DataView(body.buffer).setUint32(12, 4, true);
    w.writeRawBlock(6, body);
    const { got, err } = drain(w.toBytes());
    expect(got.length).toBe(0);
    expect(err.offset).toBe(firstEpb);
    expect(err.message).toContain('references interface 3, but this section describes only 1 interface (index 0)');
  });
});
