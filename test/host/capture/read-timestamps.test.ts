// A classic pcap record whose timestamp fraction is a second or more does not
// end the capture: it is read with the whole seconds carried over, the
// instant tshark gives it, and counted.
import { describe, expect, it } from 'vitest';
import { captureFromBytes } from '../../../host/capture/reader.js';
import { rawPcap } from './raw-pcap.js';

const T0 = 1_767_225_600;

describe('timestamp fractions of a second or more', () => {
  it.each([
    ['microsecond, little-endian', { nano: false, bigEndian: false }],
    ['microsecond, big-endian', { nano: false, bigEndian: true }],
    ['nanosecond, little-endian', { nano: true, bigEndian: false }],
    ['nanosecond, big-endian', { nano: true, bigEndian: true }],
  ])('%s: every record is read, the seconds carried over, and the odd ones counted', (_what, opts) => {
    const unit = opts.nano ? 1 : 1000;
    const limit = 1e9 / unit;
    const cap = captureFromBytes(rawPcap([
      { sec: T0, frac: 5 },
      { sec: T0, frac: limit - 1 },
      { sec: T0, frac: limit },
      { sec: T0, frac: 1.5 * limit },
      { sec: 0xffffffff, frac: 0xffffffff },
      { sec: T0 + 1, frac: 7 },
    ], opts), 'odd-ts.pcap');
    const got = [...cap.frames()].map((f) => [f.tsSec, f.tsNsec]);
    const carried = (frac: number): number[] => [Math.floor(frac * unit / 1e9), (frac * unit) % 1e9];
    expect(got).toEqual([
      [T0, 5 * unit],
      [T0, 1e9 - unit],
      [T0 + 1, 0],
      [T0 + 1, 500_000_000],
      [0xffffffff + carried(0xffffffff)[0]!, carried(0xffffffff)[1]],
      [T0 + 1, 7 * unit],
    ]);
    expect(cap.timestampsOutOfRange).toBe(3);
    // Counted per pass over the capture, not added up over passes.
    expect([...cap.frames()]).toHaveLength(6);
    expect(cap.timestampsOutOfRange).toBe(3);
  });
});
