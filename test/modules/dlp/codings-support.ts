// Building chunked HTTP bodies and quoted-printable mail for the dlp tests
// of DLP-5 (transfer and content codings that split a value), and running a
// stream through the module as the host hands it over: each segment's new
// bytes with the whole stream so far.
import type { InspectItem } from '../../../host/wasm/types.js';
import { item, packet } from '../../host/wasm/helpers.js';
import type { RawFrame } from '../../../host/capture/types.js';
import { enc, frame, instance } from './support.js';
import { compareCost } from '../cost.js';

/** A chunked body whose chunk boundaries fall at `cuts` (offsets into data), with an optional extension on every size line. */
export function chunked(data: string, cuts: number[], ext = ''): string {
  const b = [0, ...[...new Set(cuts)].filter((c) => c > 0 && c < data.length).sort((x, y) => x - y), data.length];
  let out = '';
  for (let i = 1; i < b.length; i++) {
    const part = data.slice(b[i - 1], b[i]);
    out += `${part.length.toString(16)}${ext}\r\n${part}\r\n`;
  }
  return `${out}0\r\n\r\n`;
}

/** Every byte its own chunk. */
export function oneByteChunks(data: string): string {
  return chunked(data, Array.from({ length: data.length }, (_, i) => i));
}

export function chunkedRequest(body: string, path = '/upload'): string {
  return `POST ${path} HTTP/1.1\r\nHost: app.example\r\nTransfer-Encoding: chunked\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n${body}`;
}

export function chunkedResponse(body: string): string {
  return `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n${body}`;
}

/** Items of one TCP direction (flow 1 unless told) cut at the given stream offsets, as the host releases them in order. */
export function streamItems(stream: string | Uint8Array, cuts: number[] = [], opts: { flowId?: number; direction?: 0 | 1 } = {}): InspectItem[] {
  const bytes = typeof stream === 'string' ? enc(stream) : stream;
  const b = [0, ...[...new Set(cuts)].filter((c) => c > 0 && c < bytes.length).sort((x, y) => x - y), bytes.length];
  const out: InspectItem[] = [];
  for (let i = 1; i < b.length; i++) {
    const it = item(packet({ proto: 'tcp', dstPort: 80, payload: bytes.subarray(b[i - 1], b[i]) }), { flowId: opts.flowId ?? 1, stream: bytes.subarray(0, b[i]), streamNew: b[i]! - b[i - 1]! });
    if (opts.direction !== undefined) it.direction = opts.direction;
    out.push(it);
  }
  return out;
}

/** Cuts every `size` bytes. */
export function every(size: number, length: number): number[] {
  return Array.from({ length: Math.ceil(length / size) }, (_, i) => i * size);
}

/**
 * Quoted-printable as an encoder that wraps at `width` writes it: =XX for
 * '=' and bytes outside printable ASCII (and for `alsoEscape`), a soft
 * break "=\r\n" before a line would pass the width.
 */
export function quotedPrintable(text: string, width = 76, alsoEscape = ''): string {
  let out = '';
  let line = '';
  for (const ch of text) {
    const code = ch.charCodeAt(0);
    if (ch === '\n') { out += `${line}\r\n`; line = ''; continue; }
    const tok = ch === '=' || code > 126 || (code < 32 && ch !== '\t') || alsoEscape.includes(ch) ? `=${code.toString(16).toUpperCase().padStart(2, '0')}` : ch;
    if (line.length + tok.length > width - 1) { out += `${line}=\r\n`; line = ''; }
    line += tok;
  }
  return out + line;
}

/** Values each detector flags, as the evasion tests write them split. */
export const CARD = '4111111111111111';
export const SSN = '219-09-9999';
export const AWS_ID = 'AKIAIOSFODNN7EXAMPLE';
export const AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
export const JWT = `${Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url')}.${Buffer.from('{"sub":"42"}').toString('base64url')}.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c`;

/** How large the crafted streams of the cost tests are. */
export const COST_SIZE = 48 * 1024;

/** A plain POST of n body bytes: what a crafted stream's cost is compared with. */
function plainRequest(n: number): string {
  const body = 'the quick brown fox jumps over the lazy dog '.repeat(Math.ceil(n / 44)).slice(0, n);
  return `POST /upload HTTP/1.1\r\nHost: app.example\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
}

/** The cost of `crafted` against a plain body of its size, both in 1448-byte segments (test/modules/cost.ts). */
export async function costAgainstPlain(crafted: string): Promise<ReturnType<typeof compareCost>> {
  const inst = await instance('dlp', { max_alerts_per_flow: 1 });
  let flow = 0;
  const round = (text: string) => () => streamItems(text, every(1448, text.length), { flowId: ++flow });
  return compareCost(inst, round(plainRequest(crafted.length)), round(crafted), 5);
}

/**
 * A connection 198.18.0.1:40000 -> 198.18.0.2:80 through its handshake, then
 * each [offset into the client stream, bytes, time] segment: how the drop
 * tests replay a sender resending what a module dropped.
 */
export function clientSegmentsAfterHandshake(segments: [number, string, number][]): RawFrame[] {
  const c = (flags: number, seq: number, payload?: string): Parameters<typeof frame>[0] =>
    ({ src: '198.18.0.1', dst: '198.18.0.2', proto: 'tcp', srcPort: 40000, dstPort: 80, tcpFlags: flags, seq, ack: 5001, ...(payload !== undefined ? { payload } : {}) });
  return [
    frame(c(0x02, 1000), 0),
    frame({ src: '198.18.0.2', dst: '198.18.0.1', proto: 'tcp', srcPort: 80, dstPort: 40000, tcpFlags: 0x12, seq: 5000, ack: 1001 }, 0.001),
    frame(c(0x10, 1001), 0.002),
    ...segments.map(([offset, bytes, at]) => frame(c(0x18, 1001 + offset, bytes), at)),
  ];
}
