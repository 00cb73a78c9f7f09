// Out-of-order segments across the stream depth: the bytes kept are exactly
// the first `depth` of the stream, whatever the arrival order, and the rest is
// counted, so the user can be told what went uninspected.
import { describe, expect, it } from 'vitest';
import { TcpStream } from '../../../host/flow/stream.js';

const enc = (s: string) => new TextEncoder().encode(s);

describe('segments across the stream depth', () => {
  it('keeps the first depth bytes and counts the rest, for segments arriving in reverse across the boundary', () => {
    const data = 'abcdefghijklmnopqrstuvwxyz0123456789';
    const s = new TcpStream(20);
    s.setInitialSeq(99);
    for (let off = 30; off >= 0; off -= 6) s.push(100 + off, enc(data.slice(off, off + 6)));
    expect(new TextDecoder().decode(s.bytes())).toBe(data.slice(0, 20));
    expect(s.stats.bytesBeyondDepth).toBe(data.length - 20);
    expect(s.full).toBe(true);
    expect(s.hasGap).toBe(false);
  });

  it('compares a retransmission straddling the depth only where it is kept', () => {
    const s = new TcpStream(20);
    s.setInitialSeq(99);
    s.push(100, enc('0123456789abcdefghij'));
    s.push(115, enc('fghijXXXXX'));
    expect(s.stats.overlapConflicts).toBe(0);
    s.push(115, enc('FGHIJ'));
    expect(s.stats.overlapConflicts).toBe(1);
  });
});
