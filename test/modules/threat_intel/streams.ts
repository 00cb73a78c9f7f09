// Client streams handed to one threat_intel instance as the host hands them
// over (the whole direction so far on every packet that adds to it), and DNS
// messages framed for TCP.
import type { InspectItem } from '../../../host/wasm/types.js';
import { item, packet } from '../../host/wasm/helpers.js';
import { enc } from '../dlp/support.js';

export const bytesOf = (s: string | Uint8Array): Uint8Array => (typeof s === 'string' ? enc(s) : s);

export function concat(parts: (string | Uint8Array)[]): Uint8Array {
  const chunks = parts.map(bytesOf);
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) { out.set(c, o); o += c.length; }
  return out;
}

/** One packet per segment of the client stream of flow `flowId`; `lastFlags` goes on the last one (e.g. STREAM_GAP). */
export function clientStream(flowId: number, segments: (string | Uint8Array)[], lastFlags = 0): InspectItem[] {
  const out: InspectItem[] = [];
  let sent: Uint8Array = new Uint8Array(0);
  segments.forEach((seg, i) => {
    const b = bytesOf(seg);
    sent = concat([sent, b]);
    const pkt = packet({ src: '198.18.0.1', dst: '198.18.0.2', proto: 'tcp', srcPort: 40000 + (flowId % 20000), dstPort: 80, payload: b });
    out.push(item(pkt, { flowId, stream: sent, streamNew: b.length, flags: i === segments.length - 1 ? lastFlags : 0 }));
  });
  return out;
}

/** A DNS message with its two-byte length prefix (RFC 1035 4.2.2). */
export function overTcp(msg: Uint8Array): Uint8Array {
  return concat([Uint8Array.from([msg.length >> 8, msg.length & 0xff]), msg]);
}

/** `data` cut at the given offsets. */
export function cut(data: string | Uint8Array, at: number[]): Uint8Array[] {
  const b = bytesOf(data);
  const bounds = [0, ...at, b.length];
  return bounds.slice(1).map((end, i) => b.subarray(bounds[i], end));
}
