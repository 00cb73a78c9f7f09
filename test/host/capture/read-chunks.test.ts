// The file reader hands out frames as views into chunks it never rewrites:
// frames kept while reading goes on (through many chunks, and a record
// larger than a chunk) must still hold their own bytes afterwards.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCapture } from '../../../host/capture/reader.js';
import { PcapWriter, PcapngWriter } from '../../../host/capture/writer.js';
import type { RawFrame } from '../../../host/capture/types.js';
import { LinkType } from '../../../host/packet/types.js';

const dir = mkdtempSync(join(tmpdir(), 'sf-read-chunks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Distinct bytes per frame and per position, so a frame showing another's bytes is caught. */
function frame(i: number): Uint8Array {
  const len = i === 700 ? 600_000 : 60 + ((i * 131) % 1500);
  const b = new Uint8Array(len);
  for (let k = 0; k < len; k++) b[k] = (i * 7 + k * 13) & 0xff;
  return b;
}

describe('capture file reader chunks', () => {
  for (const format of ['pcap', 'pcapng'] as const) {
    it(`${format}: every frame kept to the end still has its bytes (about 4 MiB, one record above a chunk)`, () => {
      const path = join(dir, `chunks.${format}`);
      const w = format === 'pcap'
        ? new PcapWriter({ path, nanosecond: true, snaplen: 1 << 20 })
        : new PcapngWriter({ path, interfaces: [{ linkType: LinkType.ETHERNET }] });
      const n = 3000;
      for (let i = 0; i < n; i++) w.write({ data: frame(i), tsSec: 1_767_225_600 + i, tsNsec: 0, iface: 0 });
      w.close();
      const kept: RawFrame[] = [...openCapture(path).frames()];
      expect(kept).toHaveLength(n);
      const bad = kept.findIndex((f, i) => Buffer.compare(Buffer.from(f.data), Buffer.from(frame(i))) !== 0);
      expect(bad).toBe(-1);
    });
  }

  it('an iteration left early closes its window: bytesRead stays where it stopped, and a new iteration starts over', () => {
    const path = join(dir, 'early.pcap');
    const w = new PcapWriter({ path });
    for (let i = 0; i < 50; i++) w.write({ data: frame(i), tsSec: 1_767_225_600 + i, tsNsec: 0, iface: 0 });
    w.close();
    const reader = openCapture(path);
    const fds = (): number => readdirSync('/proc/self/fd').length;
    const fdsBefore = fds();
    let n = 0;
    for (const f of reader.frames()) {
      expect(f.data.length).toBe(frame(n).length);
      if (++n === 3) break;
    }
    expect(fds()).toBe(fdsBefore);
    const stopped = reader.bytesRead;
    expect(stopped).toBe(24 + [0, 1, 2].reduce((sum, i) => sum + 16 + frame(i).length, 0));
    expect(reader.bytesRead).toBe(stopped);
    expect([...reader.frames()]).toHaveLength(50);
    expect(reader.bytesRead).toBe(reader.totalBytes);
  });
});
