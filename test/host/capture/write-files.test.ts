// Writers: file output equals memory output byte for byte, and bad input is refused.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { captureFromBytes } from '../../../host/capture/reader.js';
import { PcapWriter, PcapngWriter } from '../../../host/capture/writer.js';
import { SecuxflowError } from '../../../host/errors.js';
import { LinkType } from '../../../host/packet/types.js';

const dir = mkdtempSync(join(tmpdir(), 'sf-write-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const frame = (i: number): Uint8Array => new Uint8Array(60 + (i % 1400)).fill(i & 0xff);

describe('capture writers', () => {
  it('a file written frame by frame equals the in-memory bytes (pcap and pcapng)', () => {
    const mem = new PcapWriter({ nanosecond: true });
    const file = new PcapWriter({ nanosecond: true, path: join(dir, 'a.pcap') });
    const memNg = new PcapngWriter({ interfaces: [{ linkType: LinkType.ETHERNET }, { linkType: LinkType.RAW, tsresol: 9 }] });
    const fileNg = new PcapngWriter({ path: join(dir, 'a.pcapng'), interfaces: [{ linkType: LinkType.ETHERNET }, { linkType: LinkType.RAW, tsresol: 9 }] });
    for (let i = 0; i < 1000; i++) {
      const f = { data: frame(i), tsSec: 1767225600 + i, tsNsec: i * 999, iface: i % 2 };
      mem.write(f); file.write(f); memNg.write(f); fileNg.write(f);
    }
    file.close();
    fileNg.close();
    expect(Buffer.compare(readFileSync(join(dir, 'a.pcap')), Buffer.from(mem.toBytes()))).toBe(0);
    expect(Buffer.compare(readFileSync(join(dir, 'a.pcapng')), Buffer.from(memNg.toBytes()))).toBe(0);
    expect(statSync(join(dir, 'a.pcap')).size).toBe(file.bytesWritten);
    // Record layout from the format, not from our reader: 24 + sum(16 + len).
    let expected = 24;
    for (let i = 0; i < 1000; i++) expected += 16 + frame(i).length;
    expect(file.bytesWritten).toBe(expected);
  });

  it('flush() makes written frames visible before close', () => {
    const path = join(dir, 'flush.pcap');
    const w = new PcapWriter({ path });
    w.write({ data: frame(1), tsSec: 1, tsNsec: 0 });
    w.flush();
    expect(statSync(path).size).toBe(24 + 16 + frame(1).length);
    w.close();
    expect(() => w.write({ data: frame(2), tsSec: 2, tsNsec: 0 })).toThrow(SecuxflowError);
  });

  it('cuts frames to the snaplen and keeps the wire length', () => {
    const w = new PcapWriter({ snaplen: 64 });
    w.write({ data: frame(500), tsSec: 1, tsNsec: 0 });
    const [f] = [...captureFromBytes(w.toBytes()).frames()];
    expect(f!.data.length).toBe(64);
    expect(f!.wireLen).toBe(560);
  });

  it('refuses bad timestamps, unknown interfaces and unwritable paths', () => {
    const w = new PcapWriter();
    expect(() => w.write({ data: frame(0), tsSec: 1, tsNsec: 1e9 })).toThrow(/timestamp/);
    expect(() => w.write({ data: frame(0), tsSec: -1, tsNsec: 0 })).toThrow(/timestamp/);
    const ng = new PcapngWriter();
    expect(() => ng.write({ data: frame(0), tsSec: 1, tsNsec: 0, iface: 2 })).toThrow(/interface 2, only 1 defined/);
    let err: unknown;
    try { new PcapWriter({ path: join(dir, 'no-such-dir', 'x.pcap') }); } catch (e) { err = e; }
    expect((err as SecuxflowError).code).toBe('E_IO');
  });
});
