import { describe, expect, it } from 'vitest';
import { StreamBufferPool, TcpStream } from '../../../host/flow/stream.js';

// A small deterministic PRNG so a failing shuffle can be replayed from its seed.
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomBytes(n: number, rand: () => number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rand() * 256);
  return b;
}

interface Segment { off: number; len: number }

function cut(total: number, rand: () => number, maxSeg: number): Segment[] {
  const segs: Segment[] = [];
  for (let off = 0; off < total;) {
    const len = Math.min(total - off, 1 + Math.floor(rand() * maxSeg));
    segs.push({ off, len });
    off += len;
  }
  return segs;
}

function shuffle<T>(a: T[], rand: () => number): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

describe('TcpStream', () => {
  it('delivers in-order segments after the SYN at isn+1', () => {
    const s = new TcpStream(65536);
    s.setInitialSeq(1000);
    const msg = new TextEncoder().encode('GET / HTTP/1.1\r\nHost: example.test\r\n\r\n');
    expect(s.push(1001, msg.subarray(0, 10))).toBe(10);
    expect(s.push(1011, msg.subarray(10))).toBe(msg.length - 10);
    expect(Buffer.from(s.bytes()).equals(Buffer.from(msg))).toBe(true);
    expect(s.hasGap).toBe(false);
    expect(s.nextSeq).toBe(1001 + msg.length);
  });

  it('holds reversed segments and releases all of them when the first arrives', () => {
    const rand = rng(7);
    const data = randomBytes(3000, rand);
    const segs = cut(data.length, rand, 200).reverse();
    const s = new TcpStream(65536);
    s.setInitialSeq(5);
    let released = 0;
    for (let i = 0; i < segs.length; i++) {
      const g = segs[i]!;
      released += s.push(6 + g.off, data.subarray(g.off, g.off + g.len));
      if (i < segs.length - 1) {
        expect(s.length).toBe(0);
        expect(s.hasGap).toBe(true);
      }
    }
    expect(released).toBe(data.length);
    expect(s.hasGap).toBe(false);
    expect(Buffer.from(s.bytes()).equals(Buffer.from(data))).toBe(true);
  });

  it('rebuilds the original bytes from random shuffles with retransmits and consistent overlaps', () => {
    for (let seed = 1; seed <= 60; seed++) {
      const rand = rng(seed);
      const data = randomBytes(500 + Math.floor(rand() * 4000), rand);
      const segs = cut(data.length, rand, 300);
      // Retransmits (exact copies) and re-segmented overlaps (same bytes, other boundaries).
      const extra: Segment[] = [];
      for (let k = 0; k < 20; k++) {
        const off = Math.floor(rand() * data.length);
        extra.push({ off, len: Math.min(data.length - off, 1 + Math.floor(rand() * 400)) });
      }
      const all = shuffle([...segs, ...segs.slice(0, 5), ...extra], rand);
      const isn = Math.floor(rand() * 2 ** 32);
      const s = new TcpStream(65536);
      s.setInitialSeq(isn);
      let released = 0;
      for (const g of all) released += s.push((isn + 1 + g.off) >>> 0, data.subarray(g.off, g.off + g.len));
      expect(released, `seed ${seed}`).toBe(data.length);
      expect(Buffer.from(s.bytes()).equals(Buffer.from(data)), `seed ${seed}`).toBe(true);
      expect(s.stats.overlapConflicts, `seed ${seed}`).toBe(0);
      expect(s.hasGap).toBe(false);
    }
  });

  it('keeps the first-received bytes on a conflicting overlap and counts it', () => {
    const s = new TcpStream(1024);
    s.setInitialSeq(0);
    const enc = new TextEncoder();
    // Held out-of-order first, then a conflicting copy of the same range, then the hole.
    expect(s.push(6, enc.encode('WORLD'))).toBe(0);
    expect(s.push(6, enc.encode('EVILX'))).toBe(0);
    expect(s.stats.overlapConflicts).toBe(1);
    expect(s.push(1, enc.encode('HELLO'))).toBe(10);
    // Conflicting retransmit of in-order data.
    expect(s.push(1, enc.encode('JELLO'))).toBe(0);
    expect(s.stats.overlapConflicts).toBe(2);
    expect(new TextDecoder().decode(s.bytes())).toBe('HELLOWORLD');
    // A segment that overlaps the end and extends it: old part kept, new part appended.
    expect(s.push(9, enc.encode('LD!!'))).toBe(2);
    expect(new TextDecoder().decode(s.bytes())).toBe('HELLOWORLD!!');
    expect(s.stats.overlapConflicts).toBe(2);
  });

  it('handles sequence wraparound near 2^32', () => {
    const rand = rng(99);
    const data = randomBytes(2000, rand);
    const isn = 2 ** 32 - 700;
    const s = new TcpStream(65536);
    s.setInitialSeq(isn);
    const segs = shuffle(cut(data.length, rand, 150), rand);
    for (const g of segs) s.push((isn + 1 + g.off) >>> 0, data.subarray(g.off, g.off + g.len));
    expect(s.length).toBe(data.length);
    expect(Buffer.from(s.bytes()).equals(Buffer.from(data))).toBe(true);
    expect(s.nextSeq).toBe((isn + 1 + data.length) >>> 0);
    expect(s.nextSeq).toBeLessThan(isn);
  });

  it('caps the kept bytes at the depth and reports full', () => {
    const rand = rng(3);
    const data = randomBytes(5000, rand);
    const s = new TcpStream(1000);
    s.setInitialSeq(10);
    let released = 0;
    for (const g of cut(data.length, rand, 333)) released += s.push(11 + g.off, data.subarray(g.off, g.off + g.len));
    expect(released).toBe(1000);
    expect(s.full).toBe(true);
    expect(s.length).toBe(1000);
    expect(Buffer.from(s.bytes()).equals(Buffer.from(data.subarray(0, 1000)))).toBe(true);
    expect(s.stats.bytesBeyondDepth).toBe(4000);
    expect(s.push(11 + 5000, data.subarray(0, 10))).toBe(0);
  });

  it('does not hold data beyond the depth while a hole is open', () => {
    const s = new TcpStream(100);
    s.setInitialSeq(0);
    expect(s.push(50, new Uint8Array(200).fill(1))).toBe(0);
    expect(s.hasGap).toBe(true);
    expect(s.push(1, new Uint8Array(49).fill(2))).toBe(100);
    expect(s.full).toBe(true);
    expect(s.hasGap).toBe(false);
  });

  it('reports a gap until the hole is filled, and only then releases the held bytes', () => {
    const s = new TcpStream(4096);
    s.setInitialSeq(100);
    expect(s.push(101, new Uint8Array(10).fill(0x41))).toBe(10);
    expect(s.push(121, new Uint8Array(10).fill(0x43))).toBe(0);
    expect(s.push(141, new Uint8Array(10).fill(0x45))).toBe(0);
    expect(s.hasGap).toBe(true);
    expect(s.length).toBe(10);
    expect(s.push(111, new Uint8Array(10).fill(0x42))).toBe(20);
    expect(s.hasGap).toBe(true);
    expect(s.push(131, new Uint8Array(10).fill(0x44))).toBe(20);
    expect(s.hasGap).toBe(false);
    expect(new TextDecoder().decode(s.bytes())).toBe('A'.repeat(10) + 'B'.repeat(10) + 'C'.repeat(10) + 'D'.repeat(10) + 'E'.repeat(10));
    expect(s.stats.outOfOrder).toBe(2);
  });

  it('picks up mid-stream at the first segment when no SYN was seen, and ignores older data', () => {
    const s = new TcpStream(4096);
    expect(s.initialized).toBe(false);
    expect(s.push(0xfffffff0, new TextEncoder().encode('abcdefghijklmnopqrst'))).toBe(20);
    expect(s.push(0xffffffe0, new Uint8Array(16))).toBe(0);
    expect(s.push(4, new TextEncoder().encode('uv'))).toBe(2);
    expect(new TextDecoder().decode(s.bytes())).toBe('abcdefghijklmnopqrstuv');
    expect(s.stats.retransmits).toBe(1);
  });

  it('keeps views handed out earlier correct while the buffer grows', () => {
    const s = new TcpStream(1 << 20);
    s.setInitialSeq(0);
    const data = randomBytes(100_000, rng(12));
    const views: Uint8Array[] = [];
    for (let off = 0; off < data.length; off += 1000) {
      s.push(1 + off, data.subarray(off, off + 1000));
      views.push(s.bytes());
    }
    views.forEach((v, i) => {
      expect(v.length).toBe((i + 1) * 1000);
      expect(Buffer.from(v).equals(Buffer.from(data.subarray(0, v.length)))).toBe(true);
    });
  });

  it('returns a view that reflects later pushes without copying', () => {
    const s = new TcpStream(64);
    s.setInitialSeq(0);
    s.push(1, new Uint8Array([1, 2, 3]));
    const view = s.bytes();
    s.push(4, new Uint8Array([4]));
    expect(view.buffer).toBe(s.bytes().buffer);
    expect(Array.from(s.bytes())).toEqual([1, 2, 3, 4]);
  });
});

describe('StreamBufferPool', () => {
  it('hands out distinct buffers of its size, takes back only that size, and keeps at most maxFree', () => {
    const pool = new StreamBufferPool(64, 2);
    const taken = Array.from({ length: 40 }, () => pool.take());
    expect(taken.every((b) => b.length === 64)).toBe(true);
    // Carved from slabs: no two overlap.
    taken.forEach((b, i) => b.fill(i));
    expect(taken.every((b, i) => b.every((x) => x === i))).toBe(true);
    pool.give(new Uint8Array(65));
    expect(pool.available).toBe(0);
    pool.give(taken[0]!);
    pool.give(taken[1]!);
    pool.give(taken[2]!);
    expect(pool.available).toBe(2);
    expect([pool.take(), pool.take()]).toEqual(expect.arrayContaining([taken[0], taken[1]]));
    expect(pool.available).toBe(0);
    expect(() => new StreamBufferPool(0)).toThrow(RangeError);
    expect(() => new StreamBufferPool(8, -1)).toThrow(RangeError);
  });

  it('a stream on a recycled buffer full of old bytes behaves as on a fresh one (reordering, overlaps, growth past the pool size)', () => {
    const pool = new StreamBufferPool(256);
    for (let seed = 1; seed <= 20; seed++) {
      const rand = rng(seed);
      const data = randomBytes(200 + Math.floor(rand() * 900), rand);
      const segs = shuffle(cut(data.length, rand, 120), rand);
      const dirty = pool.take();
      dirty.fill(0xa5);
      pool.give(dirty);
      const pooled = new TcpStream(4096, pool);
      const fresh = new TcpStream(4096);
      for (const st of [pooled, fresh]) {
        st.setInitialSeq(99);
        for (const g of [...segs, segs[0]!]) st.push(100 + g.off, data.subarray(g.off, g.off + g.len));
      }
      expect(Buffer.from(pooled.bytes()).equals(Buffer.from(data))).toBe(true);
      expect(pooled.stats).toEqual(fresh.stats);
      pooled.release();
      expect(pooled.length).toBe(0);
    }
    // Streams that stayed within the pool size gave their buffer back.
    expect(pool.available).toBeGreaterThan(0);
  });
});

describe('TcpStream.rewrite (bytes a module dropped, resent with other data)', () => {
  const ascii = (s: string) => new TextEncoder().encode(s);
  const text = (t: TcpStream) => new TextDecoder().decode(t.bytes());

  it('writes only where the stream holds bytes, in order or past a hole, and adds none', () => {
    const t = new TcpStream(1024);
    t.setInitialSeq(999);
    t.push(1000, ascii('aaaaaaaaaa')); // offsets 0..9
    t.push(1015, ascii('hhhhh')); // held: offsets 15..19
    t.rewrite(3, ascii('XXX'));
    expect(text(t)).toBe('aaaXXXaaaa');
    t.rewrite(8, ascii('YYYYYYYYYYYYYYYYYYYYYYYY')); // 8..9 in order, 15..19 held, nothing in the hole or past 19
    expect(text(t)).toBe('aaaXXXaaYY');
    expect(t.length).toBe(10);
    t.push(1010, ascii('-----')); // fills the hole: the held bytes, rewritten, follow
    expect(text(t)).toBe('aaaXXXaaYY-----YYYYY');
    t.rewrite(40, ascii('ZZ')); // beyond what the stream holds: nothing
    expect(t.length).toBe(20);
  });
});
