// Aho–Corasick search of modules/sdk/lib against a naive all-occurrences search.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadLibHarness, rng } from './harness.js';

let h: Awaited<ReturnType<typeof loadLibHarness>>;
beforeAll(async () => { h = await loadLibHarness(); }, 60_000);

const lower = (c: number) => (c >= 65 && c <= 90 ? c | 0x20 : c);

function naive(hay: Uint8Array, pats: Uint8Array[], noCase: boolean): string[] {
  const out: string[] = [];
  // ordered by end offset, then as the automaton reports: longer (earlier start) first is not guaranteed, so sort
  for (let end = 0; end < hay.length; end++) {
    pats.forEach((p, id) => {
      const start = end - p.length + 1;
      if (p.length === 0 || start < 0) return;
      for (let k = 0; k < p.length; k++) {
        const a = hay[start + k]!;
        const b = p[k]!;
        if (noCase ? lower(a) !== lower(b) : a !== b) return;
      }
      out.push(`${id}@${start}`);
    });
  }
  return out.sort();
}

function run(pats: Uint8Array[], hay: Uint8Array, noCase: boolean): { found: string[]; first: number; h: number } {
  const s = h.ms_new(noCase ? 1 : 0);
  pats.forEach((p, id) => { const q = h.put(p); h.ms_add(s, q, p.length, id); h.free(q); });
  h.ms_build(s);
  const p = h.put(hay);
  const n = h.ms_scan(s, p, hay.length);
  const found: string[] = [];
  for (let i = 0; i < n; i++) found.push(`${h.ms_id(i)}@${h.ms_start(i)}`);
  const first = h.ms_first(s, p, hay.length);
  h.free(p);
  return { found: found.sort(), first, h: s };
}

/** Per pattern id, the start of its first occurrence whose last byte is at or after minEnd, or -1. */
function naiveFirstOfEach(hay: Uint8Array, pats: Uint8Array[], noCase: boolean, minEnd: number): number[] {
  return pats.map((p) => {
    for (let end = Math.max(minEnd, p.length - 1); end < hay.length; end++) {
      const start = end - p.length + 1;
      let ok = true;
      for (let k = 0; k < p.length && ok; k++) ok = noCase ? lower(hay[start + k]!) === lower(p[k]!) : hay[start + k] === p[k];
      if (ok) return start;
    }
    return -1;
  });
}

/**
 * Up to 8 patterns over 4 bytes and a haystack mostly of bytes no pattern
 * holds, so the root skip runs, with pattern bytes among them.
 */
function mostlyOutside(r: () => number, maxHay: number): { noCase: boolean; pats: Uint8Array[]; hay: Uint8Array } {
  const noCase = r() < 0.5;
  const alpha = noCase ? [0x61, 0x62, 0x41, 0x42, 0x20, 0x2e, 0x7a, 0x5a] : [0x61, 0x62, 0x00, 0xff, 0x20, 0x2e, 0x7a];
  const pats: Uint8Array[] = [];
  const np = 1 + Math.floor(r() * 8);
  for (let i = 0; i < np; i++) {
    const n = 1 + Math.floor(r() * 4);
    pats.push(Uint8Array.from({ length: n }, () => alpha[Math.floor(r() * 4)]!));
  }
  const hay = Uint8Array.from({ length: Math.floor(r() * maxHay) }, () => alpha[Math.floor(r() * alpha.length)]!);
  return { noCase, pats, hay };
}

describe('MultiSearch', () => {
  // basic_inspect's search: from where a match ending at minEnd could start,
  // skipping byte pairs that begin no pattern while at the root.
  it('firstOfEach finds each pattern\'s first occurrence ending at or after minEnd, as a naive search does', () => {
    const r = rng(17);
    for (let round = 0; round < 400; round++) {
      const { noCase, pats, hay } = mostlyOutside(r, 120);
      const minEnd = Math.floor(r() * (hay.length + 2)) - 1;
      const s = h.ms_new(noCase ? 1 : 0);
      pats.forEach((p, id) => { const q = h.put(p); h.ms_add(s, q, p.length, id); h.free(q); });
      h.ms_build(s);
      const q = h.put(hay);
      const found = h.ms_first_of_each(s, q, hay.length, minEnd, pats.length);
      h.free(q);
      const got = pats.map((_, i) => h.ms_first_at(i));
      const want = naiveFirstOfEach(hay, pats, noCase, minEnd);
      expect(got, `round ${round}`).toEqual(want);
      expect(found).toBe(want.filter((x) => x >= 0).length);
    }
  });

  it('finds exactly the occurrences a naive search finds, on random small alphabets (overlaps, nesting, duplicates)', () => {
    const r = rng(9);
    for (let round = 0; round < 300; round++) {
      const noCase = r() < 0.5;
      const alpha = noCase ? [0x61, 0x62, 0x41, 0x42, 0x63] : [0x61, 0x62, 0x63, 0x00, 0xff];
      const pats: Uint8Array[] = [];
      const np = 1 + Math.floor(r() * 12);
      for (let i = 0; i < np; i++) {
        const n = 1 + Math.floor(r() * 5);
        pats.push(Uint8Array.from({ length: n }, () => alpha[Math.floor(r() * alpha.length)]!));
      }
      const hay = Uint8Array.from({ length: Math.floor(r() * 200) }, () => alpha[Math.floor(r() * alpha.length)]!);
      const want = naive(hay, pats, noCase);
      const got = run(pats, hay, noCase);
      expect(h.ms_overflow() === 1 ? 'overflow' : got.found).toEqual(want.length > 4096 ? 'overflow' : want);
      if (want.length === 0) expect(got.first).toBe(-1);
      else expect(got.first).toBeGreaterThanOrEqual(0);
    }
  });

  // http_waf's and dlp's searches: scan() and first() skip byte pairs that
  // begin no pattern while at the root, as firstOfEach does.
  it('scan() and first() agree with a naive search on text mostly outside the patterns\' bytes', () => {
    const r = rng(23);
    for (let round = 0; round < 400; round++) {
      const { noCase, pats, hay } = mostlyOutside(r, 160);
      const want = naive(hay, pats, noCase);
      const got = run(pats, hay, noCase);
      expect(got.found, `round ${round}`).toEqual(want);
      // first(): a pattern with an occurrence ending where the earliest-ending one ends.
      const ends = want.map((m) => { const [id, at] = m.split('@').map(Number); return at! + pats[id!]!.length - 1; });
      if (want.length === 0) {
        expect(got.first, `round ${round}`).toBe(-1);
      } else {
        const earliest = Math.min(...ends);
        const endsOfFirst = want.filter((m) => Number(m.split('@')[0]) === got.first).map((m) => Number(m.split('@')[1]) + pats[got.first]!.length - 1);
        expect(endsOfFirst, `round ${round}`).toContain(earliest);
      }
    }
  });

  it('finds scanner names in a user agent case-insensitively, with their start offsets', () => {
    const names = ['sqlmap', 'nikto', 'nmap scripting engine', 'masscan', 'map'];
    const enc = new TextEncoder();
    const ua = enc.encode('Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)');
    const got = run(names.map((n) => enc.encode(n)), ua, true);
    expect(got.found).toEqual(naive(ua, names.map((n) => enc.encode(n)), true));
    expect(got.found).toContain(`2@${'Mozilla/5.0 (compatible; '.length}`);
  });

  it('stays small for a realistic pattern set and finds nothing in unrelated text', () => {
    const enc = new TextEncoder();
    const r = rng(10);
    const pats: Uint8Array[] = [];
    for (let i = 0; i < 500; i++) pats.push(enc.encode(`pattern-${i}-${Math.floor(r() * 1e6)}`));
    const hay = enc.encode('nothing to see here, just an ordinary GET /index.html HTTP/1.1 request line'.repeat(50));
    const got = run(pats, hay, false);
    expect(got.found).toEqual([]);
    expect(h.ms_states(got.h)).toBeLessThan(500 * 20);
  });
});
