// The reader on captures written in every flavour, from memory and from disk.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { captureFromBytes, openCapture } from '../../../host/capture/reader.js';
import type { RawFrame } from '../../../host/capture/types.js';
import { PcapWriter, PcapngWriter } from '../../../host/capture/writer.js';
import { buildPacket, toLinkType } from '../../../host/packet/build.js';
import { LinkType } from '../../../host/packet/types.js';
import { SecuxflowError } from '../../../host/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'sf-read-formats-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const T0 = 1767225600;
function frames(n: number): { data: Uint8Array; tsSec: number; tsNsec: number }[] {
  return Array.from({ length: n }, (_, i) => ({
    data: buildPacket({ src: `198.18.0.${i + 1}`, dst: '198.18.1.1', proto: i % 2 ? 'udp' : 'tcp', srcPort: 1000 + i, payload: 'p'.repeat(i * 7) }),
    tsSec: T0 + i,
    tsNsec: i * 123_456_789 % 1_000_000_000,
  }));
}

function readAll(bytes: Uint8Array): RawFrame[] {
  return [...captureFromBytes(bytes).frames()];
}

describe('classic pcap', () => {
  for (const bigEndian of [false, true]) {
    for (const nanosecond of [false, true]) {
      it(`${bigEndian ? 'big' : 'little'}-endian, ${nanosecond ? 'nano' : 'micro'}seconds`, () => {
        const input = frames(6);
        const w = new PcapWriter({ bigEndian, nanosecond, linkType: LinkType.ETHERNET });
        for (const f of input) w.write(f);
        const bytes = w.toBytes();
        // The magic as written on disk, checked by its raw bytes.
        const magicHex = Buffer.from(bytes.subarray(0, 4)).toString('hex');
        const expectedMagic = nanosecond ? 'a1b23c4d' : 'a1b2c3d4';
        expect(magicHex).toBe(bigEndian ? expectedMagic : Buffer.from(expectedMagic, 'hex').reverse().toString('hex'));
        const r = captureFromBytes(bytes);
        expect(r.format).toBe('pcap');
        const out = [...r.frames()];
        expect(out.length).toBe(input.length);
        out.forEach((f, i) => {
          expect(Buffer.compare(Buffer.from(f.data), Buffer.from(input[i]!.data))).toBe(0);
          expect(f.linkType).toBe(LinkType.ETHERNET);
          expect(f.tsSec).toBe(input[i]!.tsSec);
          const ns = input[i]!.tsNsec;
          expect(f.tsNsec).toBe(nanosecond ? ns : Math.floor(ns / 1000) * 1000);
          expect(f.wireLen).toBe(input[i]!.data.length);
          expect(f.iface).toBe(0);
        });
      });
    }
  }

  it('ignores the FCS bits above the link type', () => {
    const w = new PcapWriter({ linkType: LinkType.ETHERNET });
    w.write({ data: new Uint8Array(60), tsSec: T0, tsNsec: 0 });
    const bytes = w.toBytes();
    new DataView(bytes.buffer).setUint32(20, 0x1000_0000 | LinkType.ETHERNET, true); // "FCS present" flag set
    expect(readAll(bytes)[0]!.linkType).toBe(LinkType.ETHERNET);
  });

  it('keeps the link type from the header and the wire length of snaplen-cut frames', () => {
    const eth = buildPacket({ src: '2001:db8::1', dst: '2001:db8::2', proto: 'udp', payload: 'x'.repeat(100) });
    const w = new PcapWriter({ linkType: LinkType.LINUX_SLL2, snaplen: 64 });
    w.write({ data: toLinkType(eth, LinkType.LINUX_SLL2), tsSec: T0, tsNsec: 0 });
    const [f] = readAll(w.toBytes());
    expect(f!.linkType).toBe(LinkType.LINUX_SLL2);
    expect(f!.data.length).toBe(64);
    expect(f!.wireLen).toBe(eth.length - 14 + 20);
  });
});

describe('pcapng', () => {
  it('two interfaces with different link types and resolutions, EPB and SPB', () => {
    const eth = buildPacket({ src: '198.18.0.1', dst: '198.18.0.2', proto: 'tcp', payload: 'eth' });
    const raw = toLinkType(buildPacket({ src: '2001:db8::1', dst: '2001:db8::2', proto: 'udp', payload: 'raw' }), LinkType.RAW);
    const w = new PcapngWriter({ interfaces: [
      { linkType: LinkType.ETHERNET, name: 'eth0' },
      { linkType: LinkType.RAW, tsresol: 9 },
    ] });
    w.write({ data: eth, tsSec: T0, tsNsec: 987_654_321 });
    w.write({ data: raw, tsSec: T0 + 1, tsNsec: 987_654_321, iface: 1 });
    w.writeSimple(eth);
    w.writeRawBlock(0x0bad, Uint8Array.of(1, 2, 3, 4, 5)); // unknown block: skipped
    w.writeRawBlock(5, new Uint8Array(16)); // interface statistics: skipped
    w.write({ data: raw, tsSec: T0 + 2, tsNsec: 5, iface: 1 });
    const r = captureFromBytes(w.toBytes(), 'two-ifaces');
    expect(r.format).toBe('pcapng');
    const out = [...r.frames()];
    expect(out.map((f) => [f.iface, f.linkType, f.data.length])).toEqual([
      [0, LinkType.ETHERNET, eth.length], [1, LinkType.RAW, raw.length], [0, LinkType.ETHERNET, eth.length], [1, LinkType.RAW, raw.length],
    ]);
    // Interface 0 has the default microsecond resolution, interface 1 nanoseconds.
    expect([out[0]!.tsSec, out[0]!.tsNsec]).toEqual([T0, 987_654_000]);
    expect([out[1]!.tsSec, out[1]!.tsNsec]).toEqual([T0 + 1, 987_654_321]);
    expect([out[2]!.tsSec, out[2]!.tsNsec]).toEqual([0, 0]);
    expect([out[3]!.tsSec, out[3]!.tsNsec]).toEqual([T0 + 2, 5]);
    expect(r.bytesRead).toBe(r.totalBytes);
  });

  it.each([
    [0x80 | 10, 'binary 2^-10'],
    [0x80 | 30, 'binary 2^-30'],
    [3, 'milliseconds'],
    [0, 'seconds'],
    [10, '10^-10 s'],
  ])('odd if_tsresol %i (%s)', (tsresol) => {
    const w = new PcapngWriter({ interfaces: [{ linkType: LinkType.ETHERNET, tsresol }] });
    const data = buildPacket({ src: '198.18.0.1', dst: '198.18.0.2', proto: 'udp' });
    w.write({ data, tsSec: T0 + 5, tsNsec: 750_000_000 });
    w.write({ data, tsSec: T0 + 6, tsNsec: 1 });
    const out = readAll(w.toBytes());
    // Expected from the resolution's definition, not from the reader: a timestamp
    // is truncated to whole units, then expressed in nanoseconds (truncating).
    const unitsPerSec = tsresol & 0x80 ? 2 ** (tsresol & 0x7f) : 10 ** tsresol;
    const expectNs = (ns: number): number => Math.floor((Math.floor((ns * unitsPerSec) / 1e9) * 1e9) / unitsPerSec);
    expect([out[0]!.tsSec, out[0]!.tsNsec]).toEqual([T0 + 5, expectNs(750_000_000)]);
    expect([out[1]!.tsSec, out[1]!.tsNsec]).toEqual([T0 + 6, expectNs(1)]);
  });

  it('big-endian sections, and several sections each with their own interfaces', () => {
    const a = new PcapngWriter({ bigEndian: true, interfaces: [{ linkType: LinkType.RAW }, { linkType: LinkType.ETHERNET }] });
    const eth = buildPacket({ src: '198.18.0.1', dst: '198.18.0.2', proto: 'udp', dstPort: 1 });
    a.write({ data: eth, tsSec: T0, tsNsec: 1000, iface: 1 });
    const b = new PcapngWriter({ interfaces: [{ linkType: LinkType.LINUX_SLL }] });
    const sll = toLinkType(eth, LinkType.LINUX_SLL);
    b.write({ data: sll, tsSec: T0 + 1, tsNsec: 2000 });
    const joined = Buffer.concat([a.toBytes(), b.toBytes()]);
    const out = readAll(joined);
    expect(out.map((f) => [f.iface, f.linkType, f.tsSec, f.tsNsec])).toEqual([
      [1, LinkType.ETHERNET, T0, 1000], [0, LinkType.LINUX_SLL, T0 + 1, 2000],
    ]);
  });

  it('the writer refuses a timestamp that overflows 64 bits at its resolution', () => {
    const w = new PcapngWriter({ interfaces: [{ linkType: LinkType.ETHERNET, tsresol: 12 }] });
    expect(() => w.write({ data: new Uint8Array(20), tsSec: T0, tsNsec: 0 })).toThrow(/does not fit 64 bits/);
  });

  it('reads the obsolete Packet Block (type 2)', () => {
    const w = new PcapngWriter({ interfaces: [{ linkType: LinkType.ETHERNET }, { linkType: LinkType.RAW }] });
    const data = Uint8Array.of(0x45, 1, 2, 3, 4, 5);
    // if(2) drops(2) ts_high(4) ts_low(4) caplen(4) len(4) data, microseconds.
    const body = new Uint8Array(20 + 8);
    const v = new DataView(body.buffer);
    const us = BigInt(T0) * 1_000_000n + 250_000n;
    v.setUint16(0, 1, true);
    v.setUint32(4, Number(us >> 32n), true);
    v.setUint32(8, Number(us & 0xffffffffn), true);
    v.setUint32(12, data.length, true);
    v.setUint32(16, 100, true);
    body.set(data, 20);
    w.writeRawBlock(2, body);
    const [f] = readAll(w.toBytes());
    expect([f!.iface, f!.linkType, f!.tsSec, f!.tsNsec, f!.wireLen]).toEqual([1, LinkType.RAW, T0, 250_000_000, 100]);
    expect([...f!.data]).toEqual([...data]);
  });

  it('if_tsoffset adds whole seconds', () => {
    const w = new PcapngWriter({ interfaces: [] });
    // IDB by hand: Ethernet, snaplen 0, if_tsoffset = 100 s, end of options.
    const body = new Uint8Array(8 + 12 + 4);
    const v = new DataView(body.buffer);
    v.setUint16(0, LinkType.ETHERNET, true);
    v.setUint16(8, 14, true); v.setUint16(10, 8, true); v.setUint32(12, 100, true);
    w.writeRawBlock(1, body);
    const bytes = Buffer.concat([w.toBytes(), (() => {
      const x = new PcapngWriter({ interfaces: [{ linkType: LinkType.ETHERNET }] });
      x.write({ data: new Uint8Array(20), tsSec: 7, tsNsec: 0 });
      const all = x.toBytes();
      return all.subarray(all.length - (20 + 32)); // just the EPB (12 + 20 + 20 data)
    })()]);
    const [f] = readAll(bytes);
    expect(f!.tsSec).toBe(107);
  });
});

describe('reading files', () => {
  it('streams a file bigger than the read chunk, including one frame bigger than a chunk', () => {
    const path = join(dir, 'big.pcapng');
    const w = new PcapngWriter({ path, interfaces: [{ linkType: LinkType.ETHERNET }] });
    const sizes: number[] = [];
    for (let i = 0; i < 2500; i++) {
      const data = new Uint8Array(1000 + (i % 500));
      data.fill(i & 0xff);
      w.write({ data, tsSec: T0 + i, tsNsec: 0 });
      sizes.push(data.length);
    }
    const huge = new Uint8Array(1_500_000).fill(0xab);
    w.write({ data: huge, tsSec: T0 + 9999, tsNsec: 0 });
    sizes.push(huge.length);
    w.close();
    const r = openCapture(path);
    expect(r.totalBytes).toBe(w.bytesWritten);
    let i = 0;
    let lastProgress = 0;
    const held: Uint8Array[] = [];
    for (const f of r.frames()) {
      expect(f.data.length).toBe(sizes[i]);
      expect(f.data[0]).toBe(i === 2500 ? 0xab : i & 0xff);
      expect(r.bytesRead).toBeGreaterThanOrEqual(lastProgress);
      lastProgress = r.bytesRead;
      if (i % 400 === 0) held.push(f.data);
      i++;
    }
    expect(i).toBe(sizes.length);
    expect(r.bytesRead).toBe(r.totalBytes);
    // Frames handed out earlier were not overwritten by later chunk reads.
    held.forEach((d, k) => expect(d[d.length - 1]).toBe((k * 400) & 0xff));
  });

  it('a missing file is an E_IO error naming it', () => {
    const missing = join(dir, 'nope.pcap');
    let err: unknown;
    try { openCapture(missing); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(SecuxflowError);
    expect((err as SecuxflowError).code).toBe('E_IO');
    expect((err as SecuxflowError).message).toContain(missing);
  });

  it('a missing file, a directory and an empty name each say what is wrong, not which syscall failed', () => {
    const cases: [string, string, RegExp, string][] = [
      [join(dir, 'nope.pcap'), 'E_IO', /^the capture .*nope\.pcap does not exist$/, 'check the path'],
      [dir, 'E_IO', /^the capture .* is a directory$/, 'give the capture file inside it'],
      ['', 'E_USAGE', /^--pcap needs a file name$/, 'give a .pcap or .pcapng file, or - to read standard input'],
    ];
    for (const [path, code, message, hint] of cases) {
      let err: unknown;
      try { openCapture(path); } catch (e) { err = e; }
      expect(err, path).toBeInstanceOf(SecuxflowError);
      const e = err as SecuxflowError;
      expect(e.code).toBe(code);
      expect(e.message).toMatch(message);
      expect(e.message).not.toMatch(/stat|illegal operation|ENOENT|EISDIR/);
      expect(e.hint).toBe(hint);
    }
  });

  it('reads the same frames from disk as from memory', () => {
    const w = new PcapWriter({ nanosecond: true });
    for (const f of frames(20)) w.write(f);
    const bytes = w.toBytes();
    const path = join(dir, 'same.pcap');
    writeFileSync(path, bytes);
    const a = [...openCapture(path).frames()];
    const b = readAll(bytes);
    expect(a.length).toBe(20);
    a.forEach((f, i) => {
      expect(Buffer.compare(Buffer.from(f.data), Buffer.from(b[i]!.data))).toBe(0);
      expect([f.tsSec, f.tsNsec]).toEqual([b[i]!.tsSec, b[i]!.tsNsec]);
    });
  });
});
