// TLS 1.3 HelloRetryRequest exchanges and DNS queries with several
// questions, built byte by byte, and a TCP conversation whose client and
// server segments interleave (tcpSession sends all of the client's first).
import type { RawFrame } from '../../../host/capture/types.js';
import { frame } from '../dlp/support.js';
import { bytesOf } from './streams.js';

const u16 = (n: number) => [n >> 8, n & 0xff];

/** SHA-256 of "HelloRetryRequest": the random that makes a ServerHello a retry request (RFC 8446 4.1.3). */
export const RETRY_RANDOM = Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex');

/** A HelloRetryRequest asking for a P-256 key share, in one handshake record. */
export function helloRetryRequest(): Uint8Array {
  const ext = [...u16(43), ...u16(2), 0x03, 0x04, ...u16(51), ...u16(2), 0x00, 0x17];
  const body = [0x03, 0x03, ...RETRY_RANDOM, 0, 0x13, 0x01, 0, ...u16(ext.length), ...ext];
  const hs = [2, 0, ...u16(body.length), ...body];
  return Uint8Array.from([0x16, 0x03, 0x03, ...u16(hs.length), ...hs]);
}

/** The dummy change_cipher_spec record of middlebox compatibility mode (RFC 8446 D.4). */
export const changeCipherSpec = (): Uint8Array => Uint8Array.from([0x14, 0x03, 0x03, 0x00, 0x01, 0x01]);

/** An application_data record (a TLS 1.3 client's encrypted Finished looks like this). */
export const applicationData = (n = 40): Uint8Array => Uint8Array.from([0x17, 0x03, 0x03, ...u16(n), ...new Array(n).fill(0xa5)]);

/** The handshake messages of one-record hellos, put together into a single record. */
export function oneRecord(...hellos: Uint8Array[]): Uint8Array {
  const content = hellos.flatMap((h) => [...h.subarray(5)]);
  return Uint8Array.from([0x16, 0x03, 0x01, ...u16(content.length), ...content]);
}

function nameBytes(name: string): number[] {
  const out: number[] = [];
  for (const l of name.split('.').filter((x) => x.length > 0)) out.push(l.length, ...Buffer.from(l, 'latin1'));
  out.push(0);
  return out;
}

/**
 * A DNS query with one question per entry (a string is a name, an array of
 * numbers the raw bytes of one, e.g. with a compression pointer), and
 * QDCOUNT as given or the number of questions.
 */
export function dnsQueryQuestions(questions: (string | number[])[], qdcount = questions.length, id = 0x4242): Uint8Array {
  const m: number[] = [...u16(id), 0x01, 0x00, ...u16(qdcount), 0, 0, 0, 0, 0, 0];
  for (const q of questions) m.push(...(typeof q === 'string' ? nameBytes(q) : q), 0, 1, 0, 1);
  return Uint8Array.from(m);
}

export type Turn = { c: string | Uint8Array } | { s: string | Uint8Array };

/** One TCP connection (handshake, the turns in order with ACKs and sequence numbers, FIN) from 198.18.0.1:clientPort to 198.18.0.2:serverPort. */
export function conversation(turns: Turn[], clientPort = 41000, serverPort = 443, at = 0): RawFrame[] {
  const out: RawFrame[] = [];
  let t = at;
  let cseq = 1000;
  let sseq = 5000;
  const c2s = (flags: number, payload?: Uint8Array) => out.push(frame({ src: '198.18.0.1', dst: '198.18.0.2', proto: 'tcp', srcPort: clientPort, dstPort: serverPort, tcpFlags: flags, seq: cseq, ack: sseq, ...(payload ? { payload } : {}) }, t += 0.001));
  const s2c = (flags: number, payload?: Uint8Array) => out.push(frame({ src: '198.18.0.2', dst: '198.18.0.1', proto: 'tcp', srcPort: serverPort, dstPort: clientPort, tcpFlags: flags, seq: sseq, ack: cseq, ...(payload ? { payload } : {}) }, t += 0.001));
  c2s(0x02); cseq++;
  s2c(0x12); sseq++;
  c2s(0x10);
  for (const turn of turns) {
    if ('c' in turn) { const b = bytesOf(turn.c); c2s(0x18, b); cseq += b.length; } else { const b = bytesOf(turn.s); s2c(0x18, b); sseq += b.length; }
  }
  c2s(0x11); cseq++;
  s2c(0x11); sseq++;
  c2s(0x10);
  return out;
}
