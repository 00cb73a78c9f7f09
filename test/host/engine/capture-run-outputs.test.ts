// A capture whose header is missing, cut short or wrong fails before any
// output of the run is opened: no file appears at an output path, and a file
// already there keeps its contents.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CaptureError } from '../../../host/capture/reader.js';
import { runCapture } from '../../../host/engine/capture-run.js';
import { tempDir } from '../../support/temp-dir.js';

const INSPECT_ALL = { defaultPolicy: 'inspect' as const, rules: [] };
// An SHB whose byte-order magic is garbage, and one cut off after its length field.
const shbHead = (bom: number): Buffer => {
  const b = Buffer.alloc(28);
  b.writeUInt32LE(0x0a0d0d0a, 0); b.writeUInt32LE(28, 4); b.writeUInt32LE(bom, 8);
  b.writeUInt16LE(1, 12); b.writeInt32LE(-1, 16); b.writeInt32LE(-1, 20); b.writeUInt32LE(28, 24);
  return b;
};

describe('a capture with a bad header leaves every output as it was', () => {
  it.each([
    ['a 10-byte pcap (inside its 24-byte header)', Buffer.from('d4c3b2a1020004000000', 'hex'), /truncated pcap file header: 24 bytes needed, 10 present/],
    ['wrong magic', Buffer.from('this is not a capture file at all'), /bad magic 0x74686973/],
    ['a pcapng section header cut short', shbHead(0x1a2b3c4d).subarray(0, 20), /truncated block: header says 28 bytes, 20 remain/],
    ['a pcapng section header with a bad byte-order magic', shbHead(0x01020304), /bad section byte-order magic/],
  ])('%s', async (_what, bytes, problem) => {
    const dir = tempDir('bad-header');
    const pcap = join(dir, 'bad.pcap');
    writeFileSync(pcap, bytes);
    const outputs = {
      eve: join(dir, 'eve.json'), writeDropped: join(dir, 'dropped.pcap'),
      keptEve: join(dir, 'kept.json'), keptDropped: join(dir, 'kept.pcapng'),
    };
    writeFileSync(outputs.keptEve, 'previous EVE\n');
    writeFileSync(outputs.keptDropped, 'previous capture');
    for (const [eve, writeDropped] of [[outputs.eve, outputs.writeDropped], [outputs.keptEve, outputs.keptDropped]] as const) {
      const err = await runCapture({ pcap, rules: INSPECT_ALL, modules: [], eve, writeDropped }).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(CaptureError);
      expect((err as CaptureError).code).toBe('E_CAPTURE');
      expect((err as CaptureError).message).toMatch(problem);
      expect((err as CaptureError).hint).toBeTruthy();
    }
    expect(existsSync(outputs.eve)).toBe(false);
    expect(existsSync(outputs.writeDropped)).toBe(false);
    expect(readFileSync(outputs.keptEve, 'utf8')).toBe('previous EVE\n');
    expect(readFileSync(outputs.keptDropped, 'utf8')).toBe('previous capture');
  });
});
