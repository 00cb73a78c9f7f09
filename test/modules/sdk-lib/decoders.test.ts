// Percent and base64 decoders of modules/sdk/lib against TS references.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadLibHarness, rng } from './harness.js';

let h: Awaited<ReturnType<typeof loadLibHarness>>;
beforeAll(async () => { h = await loadLibHarness(); }, 60_000);

const enc = new TextEncoder();
const PLUS_SPACE = 1;
const U_ESCAPES = 2;
const OVERLONG = 4;

/** Reference: one percent-decoding pass, malformed escapes kept literal. */
function refPercent(b: Uint8Array, plus: boolean): Uint8Array {
  const out: number[] = [];
  const hex = (c: number | undefined) => c === undefined ? -1 : /[0-9a-f]/i.test(String.fromCharCode(c)) ? parseInt(String.fromCharCode(c), 16) : -1;
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c === 0x25 && hex(b[i + 1]) >= 0 && hex(b[i + 2]) >= 0) { out.push(hex(b[i + 1]) * 16 + hex(b[i + 2])); i += 2; continue; }
    out.push(plus && c === 0x2b ? 0x20 : c);
  }
  return Uint8Array.from(out);
}

function decode(text: string | Uint8Array, flags: number): Uint8Array {
  const b = typeof text === 'string' ? enc.encode(text) : text;
  const p = h.put(b);
  const n = h.pct(p, b.length, p, flags);
  return h.read(p, n);
}
const str = (b: Uint8Array) => Buffer.from(b).toString('latin1');

describe('percentDecode', () => {
  it('agrees with a reference on random strings over an escape-heavy alphabet', () => {
    const r = rng(3);
    const alphabet = enc.encode('%%%0123456789abcdefABCDEFgz+ /.');
    for (let i = 0; i < 5000; i++) {
      const n = Math.floor(r() * 40);
      const b = new Uint8Array(n);
      for (let j = 0; j < n; j++) b[j] = alphabet[Math.floor(r() * alphabet.length)]!;
      const plus = r() < 0.5;
      expect(str(decode(b, plus ? PLUS_SPACE : 0))).toBe(str(refPercent(b, plus)));
    }
  });

  it('agrees with decodeURIComponent on encoded random UTF-8 text', () => {
    const r = rng(4);
    for (let i = 0; i < 2000; i++) {
      let s = '';
      const n = Math.floor(r() * 20);
      for (let j = 0; j < n; j++) s += String.fromCodePoint(Math.floor(r() * 0x3000) + 1);
      expect(Buffer.from(decode(encodeURIComponent(s), 0)).toString('utf8')).toBe(s);
    }
  });

  it('decodes forms, keeps malformed escapes, and handles the end of input', () => {
    expect(str(decode('a+b%20c', PLUS_SPACE))).toBe('a b c');
    expect(str(decode('a+b', 0))).toBe('a+b');
    expect(str(decode('100%', 0))).toBe('100%');
    expect(str(decode('%4', 0))).toBe('%4');
    expect(str(decode('%zz%41', 0))).toBe('%zzA');
  });

  it('decodes %uXXXX to UTF-8 and full-width ASCII to ASCII only with U_ESCAPES', () => {
    expect(str(decode('%u002e%u002E%u2215', U_ESCAPES))).toBe('..' + Buffer.from('\u2215', 'utf8').toString('latin1'));
    expect(str(decode('%uff0e%uff0e%uff0f', U_ESCAPES))).toBe('../');
    expect(str(decode('%u002e', 0))).toBe('%u002e');
    expect(str(decode('%u00e9', U_ESCAPES))).toBe(Buffer.from('é', 'utf8').toString('latin1'));
  });

  it('collapses overlong UTF-8 for ASCII (..%c0%af, %e0%80%ae) with OVERLONG', () => {
    expect(str(decode('..%c0%af..%c1%9c', OVERLONG))).toBe('../..\\');
    expect(str(decode('%e0%80%ae%e0%80%ae/', OVERLONG))).toBe('../');
    expect(str(decode('..%c0%af', 0))).toBe('..\xc0\xaf');
    // a real two-byte character is left as it is
    expect(Buffer.from(decode('%c3%a9', OVERLONG)).toString('utf8')).toBe('é');
  });

  it('repeats decoding for double and triple encoding and counts the rounds', () => {
    const b = enc.encode('%25252e%25252e%25252f');
    const p = h.put(b);
    const n = h.pct_repeat(p, b.length, 0, 5);
    expect(str(h.read(p, n))).toBe('../');
    expect(h.pct_rounds()).toBe(3);
    const once = enc.encode('%2e%2e%2f');
    const q = h.put(once);
    expect(str(h.read(q, h.pct_repeat(q, once.length, 0, 5)))).toBe('../');
    expect(h.pct_rounds()).toBe(1);
    const plain = enc.encode('a+b');
    const s = h.put(plain);
    expect(str(h.read(s, h.pct_repeat(s, plain.length, PLUS_SPACE, 3)))).toBe('a b');
    expect(h.pct_rounds()).toBe(1);
    // the round limit bounds the work
    const deep = enc.encode('%2525252541');
    const d = h.put(deep);
    expect(str(h.read(d, h.pct_repeat(d, deep.length, 0, 2)))).toBe('%252541');
    expect(h.pct_rounds()).toBe(2);
  });
});

describe('base64Decode', () => {
  function b64(text: string, flags: number): Uint8Array | null {
    const b = enc.encode(text);
    const p = h.put(b);
    const n = h.b64(p, b.length, p, flags);
    return n < 0 ? null : h.read(p, n);
  }

  it('round-trips random bytes in both alphabets, padded and unpadded', () => {
    const r = rng(5);
    for (let i = 0; i < 3000; i++) {
      const n = Math.floor(r() * 64);
      const raw = new Uint8Array(n);
      for (let j = 0; j < n; j++) raw[j] = Math.floor(r() * 256);
      const std = Buffer.from(raw).toString('base64');
      const url = Buffer.from(raw).toString('base64url');
      expect(Buffer.from(b64(std, 0)!).equals(Buffer.from(raw))).toBe(true);
      expect(Buffer.from(b64(std.replace(/=+$/, ''), 0)!).equals(Buffer.from(raw))).toBe(true);
      expect(Buffer.from(b64(url, 1)!).equals(Buffer.from(raw))).toBe(true);
      expect(Buffer.from(b64(url, 2)!).equals(Buffer.from(raw))).toBe(true);
    }
  });

  it('refuses characters of the other alphabet, bad lengths and misplaced padding', () => {
    expect(b64('a+b/', 1)).toBeNull();
    expect(b64('a-b_', 0)).toBeNull();
    expect(b64('abcde', 0)).toBeNull();
    expect(b64('ab=c', 0)).toBeNull();
    expect(b64('abc==', 0)).toBeNull();
    expect(b64('a b=', 0)).toBeNull();
    expect(b64('', 0)!.length).toBe(0);
  });
});

describe('utf8Text', () => {
  const strict = new TextDecoder('utf-8', { fatal: true });
  function clean(b: Uint8Array, max = 1 << 20): Uint8Array {
    const p = h.put(b);
    const n = h.utf8_text(p, b.length, max);
    h.free(p);
    return h.read(h.utf8_out(), n);
  }

  it('passes valid UTF-8 through unchanged (random code points, all lengths)', () => {
    const r = rng(13);
    for (let i = 0; i < 2000; i++) {
      let s = '';
      const n = Math.floor(r() * 30);
      for (let j = 0; j < n; j++) {
        const cp = [0x7f, 0x7ff, 0xffff, 0x10ffff][Math.floor(r() * 4)]!;
        let c = Math.floor(r() * cp);
        if (c >= 0xd800 && c < 0xe000) c = 0x41;
        s += String.fromCodePoint(c);
      }
      const b = enc.encode(s);
      expect(Buffer.from(clean(b)).equals(Buffer.from(b))).toBe(true);
    }
  });

  it('always yields well-formed UTF-8 from random bytes, replacing only what a strict decoder refuses', () => {
    const r = rng(14);
    for (let i = 0; i < 3000; i++) {
      const b = Uint8Array.from({ length: Math.floor(r() * 40) }, () => Math.floor(r() * 256));
      const out = clean(b);
      const text = strict.decode(out); // throws when the module produced invalid UTF-8
      const valid = (() => { try { strict.decode(b); return true; } catch { return false; } })();
      if (valid) expect(Buffer.from(out).equals(Buffer.from(b))).toBe(true);
      else expect(text).toContain('\ufffd');
    }
  });

  it('replaces overlong forms, surrogates and cut-off sequences, and honours the byte limit', () => {
    expect(strict.decode(clean(Uint8Array.from([0x2e, 0xc0, 0xaf, 0x2e])))).toBe('.\ufffd\ufffd.');
    expect(strict.decode(clean(Uint8Array.from([0xed, 0xa0, 0x80])))).toBe('\ufffd\ufffd\ufffd');
    expect(strict.decode(clean(Uint8Array.from([0x61, 0xe2, 0x82])))).toBe('a\ufffd\ufffd');
    expect(strict.decode(clean(enc.encode('abcdef'), 3))).toBe('abc');
  });
});
