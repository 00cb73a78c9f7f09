// Builds ClientHello/ServerHello messages for the tests, field by field, so
// the expected fingerprints can be derived from the same lists by the spec.
export interface Ext { type: number; data: Uint8Array }

export interface ClientHelloSpec {
  version?: number;
  ciphers: number[];
  /** Extensions in wire order; sni/alpn/versions/sigalgs/groups/points fill in the data of those types when listed. */
  extensions: number[];
  sni?: string;
  alpn?: string[];
  versions?: number[];
  sigAlgs?: number[];
  groups?: number[];
  points?: number[];
  /** Raw data for other extension types (default empty). */
  raw?: Record<number, Uint8Array>;
  dtls?: boolean;
}

const u16 = (n: number) => [(n >> 8) & 0xff, n & 0xff];
const u24 = (n: number) => [(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
const enc = (s: string) => Array.from(new TextEncoder().encode(s));
const list16 = (xs: number[]) => xs.flatMap(u16);

export function extensionData(spec: ClientHelloSpec, type: number): number[] {
  switch (type) {
    case 0x0000: { const n = enc(spec.sni ?? 'example.com'); return [...u16(n.length + 3), 0, ...u16(n.length), ...n]; }
    case 0x0010: { const l = (spec.alpn ?? ['h2']).flatMap((p) => [enc(p).length, ...enc(p)]); return [...u16(l.length), ...l]; }
    case 0x002b: { const v = list16(spec.versions ?? [0x0304, 0x0303]); return [v.length, ...v]; }
    case 0x000d: { const v = list16(spec.sigAlgs ?? [0x0403]); return [...u16(v.length), ...v]; }
    case 0x000a: { const v = list16(spec.groups ?? [0x001d]); return [...u16(v.length), ...v]; }
    case 0x000b: { const p = spec.points ?? [0]; return [p.length, ...p]; }
  }
  return Array.from(spec.raw?.[type] ?? []);
}

/** The ClientHello handshake message (type 1 header included). */
export function clientHello(spec: ClientHelloSpec): Uint8Array {
  const body = [
    ...u16(spec.version ?? (spec.dtls ? 0xfefd : 0x0303)), ...new Array(32).fill(7), 32, ...new Array(32).fill(9),
    ...(spec.dtls ? [0] : []),
    ...u16(spec.ciphers.length * 2), ...list16(spec.ciphers), 1, 0,
  ];
  const exts = spec.extensions.flatMap((t) => { const d = extensionData(spec, t); return [...u16(t), ...u16(d.length), ...d]; });
  body.push(...u16(exts.length), ...exts);
  if (spec.dtls) return Uint8Array.from([1, ...u24(body.length), 0, 0, ...u24(0), ...u24(body.length), ...body]);
  return Uint8Array.from([1, ...u24(body.length), ...body]);
}

/** The random of a HelloRetryRequest: SHA-256 of "HelloRetryRequest" (RFC 8446 4.1.3). */
export const HRR_RANDOM = Uint8Array.from([
  0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
  0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
]);

export function serverHello(opts: { version?: number; cipher: number; extensions?: Ext[]; random?: Uint8Array }): Uint8Array {
  const exts = (opts.extensions ?? []).flatMap((e) => [...u16(e.type), ...u16(e.data.length), ...e.data]);
  const random = opts.random ? Array.from(opts.random) : new Array(32).fill(5);
  const body = [...u16(opts.version ?? 0x0303), ...random, 0, ...u16(opts.cipher), 0, ...u16(exts.length), ...exts];
  return Uint8Array.from([2, ...u24(body.length), ...body]);
}

/** Handshake bytes in TLS records of at most `max` bytes each. */
export function records(handshake: Uint8Array, max = 16384, version = 0x0301): Uint8Array {
  const out: number[] = [];
  for (let o = 0; o < handshake.length; o += max) {
    const part = handshake.subarray(o, Math.min(o + max, handshake.length));
    out.push(22, ...u16(version), ...u16(part.length), ...part);
  }
  return Uint8Array.from(out);
}

/** One TLS record of any content type (20 change_cipher_spec, 21 alert, 22 handshake, 23 application data). */
export function record(type: number, content: ArrayLike<number>, version = 0x0303): Uint8Array {
  return Uint8Array.from([type, ...u16(version), ...u16(content.length), ...Array.from(content)]);
}

/** The arrays joined, as one stream. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

export function dtlsRecord(handshake: Uint8Array, version = 0xfefd): Uint8Array {
  return Uint8Array.from([22, ...u16(version), 0, 0, 0, 0, 0, 0, 0, 0, ...u16(handshake.length), ...handshake]);
}

export const isGrease = (v: number) => (v & 0x0f0f) === 0x0a0a && (v >> 8) === (v & 0xff);

/** The FoxIO JA4 documentation's example ClientHello (technical_details/JA4.md). */
export const FOXIO_EXAMPLE: ClientHelloSpec = {
  ciphers: [0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035],
  extensions: [0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005, 0x0023, 0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015],
  sigAlgs: [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601],
  alpn: ['h2', 'http/1.1'],
  versions: [0x0304, 0x0303],
  sni: 'www.example.com',
  groups: [0x001d, 0x0017, 0x0018],
  points: [0],
};
