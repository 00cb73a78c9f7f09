// Builds DNS messages byte by byte for the tests, independently of the
// module's parser: names uncompressed or pointing at an earlier name.
export const TYPES: Record<string, number> = { A: 1, NS: 2, CNAME: 5, MX: 15, TXT: 16, AAAA: 28, NULL: 10 };

export interface Rr { name: string | number; type: keyof typeof TYPES | number; ttl?: number; rdata: Uint8Array }

export function encodeName(name: string): number[] {
  const out: number[] = [];
  for (const label of name.split('.').filter((l) => l.length > 0)) {
    const b = new TextEncoder().encode(label);
    out.push(b.length, ...b);
  }
  out.push(0);
  return out;
}

function u16(n: number): number[] { return [(n >> 8) & 0xff, n & 0xff]; }
function u32(n: number): number[] { return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]; }
const typeNo = (t: string | number) => (typeof t === 'number' ? t : TYPES[t]!);

export interface MessageSpec {
  id?: number;
  response?: boolean;
  rcode?: number;
  /** Query names; a number is a raw compression pointer target. */
  questions: { name: string; type?: keyof typeof TYPES | number }[];
  answers?: Rr[];
  rd?: boolean;
}

/** A message; an answer whose name is a number is written as a pointer to that offset. */
export function dnsMessage(spec: MessageSpec): Uint8Array {
  const flags = (spec.response ? 0x8000 : 0) | (spec.rd !== false ? 0x0100 : 0) | (spec.response ? 0x0080 : 0) | (spec.rcode ?? 0);
  const out = [...u16(spec.id ?? 0x1234), ...u16(flags), ...u16(spec.questions.length), ...u16(spec.answers?.length ?? 0), 0, 0, 0, 0];
  for (const q of spec.questions) out.push(...encodeName(q.name), ...u16(typeNo(q.type ?? 'A')), ...u16(1));
  for (const a of spec.answers ?? []) {
    const name = typeof a.name === 'number' ? [0xc0 | (a.name >> 8), a.name & 0xff] : encodeName(a.name);
    out.push(...name, ...u16(typeNo(a.type)), ...u16(1), ...u32(a.ttl ?? 300), ...u16(a.rdata.length), ...a.rdata);
  }
  return Uint8Array.from(out);
}

export const ipv4 = (s: string) => Uint8Array.from(s.split('.').map(Number));
export const nameRdata = (s: string) => Uint8Array.from(encodeName(s));
export const txtRdata = (s: string) => { const b = new TextEncoder().encode(s); return Uint8Array.from([b.length, ...b]); };

/** DNS over TCP framing: a 2-byte length before each message. */
export function tcpFramed(...msgs: Uint8Array[]): Uint8Array {
  const total = msgs.reduce((n, m) => n + 2 + m.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const m of msgs) { out[o] = m.length >> 8; out[o + 1] = m.length & 0xff; out.set(m, o + 2); o += 2 + m.length; }
  return out;
}
