// DNS queries and TLS ClientHellos built byte by byte for the tests.
export function dnsQuery(name: string, id = 0x1234): Uint8Array {
  const labels = name.split('.').filter((l) => l.length > 0);
  const q: number[] = [id >> 8, id & 0xff, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
  for (const l of labels) { q.push(l.length); for (const c of Buffer.from(l)) q.push(c); }
  q.push(0, 0, 1, 0, 1);
  return Uint8Array.from(q);
}

export function clientHello(sni: string | null): Uint8Array {
  const u16 = (n: number) => [n >> 8, n & 0xff];
  const ext: number[] = [];
  // a non-SNI extension first, as real clients send several
  ext.push(...u16(0x000b), ...u16(2), 1, 0);
  if (sni !== null) {
    const name = [...Buffer.from(sni)];
    const list = [0, ...u16(name.length), ...name];
    ext.push(...u16(0), ...u16(list.length + 2), ...u16(list.length), ...list);
  }
  const body = [0x03, 0x03, ...new Array(32).fill(7), 0, ...u16(4), 0x13, 0x01, 0x13, 0x02, 1, 0, ...u16(ext.length), ...ext];
  const hs = [1, (body.length >> 16) & 0xff, ...u16(body.length & 0xffff), ...body];
  return Uint8Array.from([0x16, 0x03, 0x01, ...u16(hs.length), ...hs]);
}

/** A DNS query whose labels are given as raw bytes (DNS labels are 8-bit clean). */
export function dnsQueryLabels(labels: (string | Uint8Array)[], id = 0x1234): Uint8Array {
  const q: number[] = [id >> 8, id & 0xff, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
  for (const l of labels) { const b = typeof l === 'string' ? Buffer.from(l, 'latin1') : l; q.push(b.length, ...b); }
  q.push(0, 0, 1, 0, 1);
  return Uint8Array.from(q);
}

export interface DnsRecord { type: 'A' | 'CNAME' | 'DNAME'; owner: string; data: string }

function nameBytes(name: string): number[] {
  const out: number[] = [];
  for (const l of name.split('.').filter((x) => x.length > 0)) out.push(l.length, ...Buffer.from(l));
  out.push(0);
  return out;
}

/**
 * A DNS response to `qname` with the given answers. An owner equal to qname
 * is written as a compression pointer to the question, as resolvers do.
 */
export function dnsResponse(qname: string, answers: DnsRecord[], id = 0x1234): Uint8Array {
  const u16 = (n: number) => [n >> 8, n & 0xff];
  const m: number[] = [...u16(id), 0x81, 0x80, 0, 1, ...u16(answers.length), 0, 0, 0, 0];
  m.push(...nameBytes(qname), 0, 1, 0, 1);
  const typeCode = { A: 1, CNAME: 5, DNAME: 39 };
  for (const a of answers) {
    m.push(...(a.owner === qname ? [0xc0, 12] : nameBytes(a.owner)));
    const rdata = a.type === 'A' ? a.data.split('.').map(Number) : nameBytes(a.data);
    m.push(...u16(typeCode[a.type]), 0, 1, 0, 0, 0x0e, 0x10, ...u16(rdata.length), ...rdata);
  }
  return Uint8Array.from(m);
}

/** The handshake message of a one-record ClientHello, cut into one TLS record per piece at the given offsets. */
export function splitIntoRecords(hello: Uint8Array, cuts: number[]): Uint8Array {
  const hs = hello.subarray(5);
  const bounds = [0, ...cuts, hs.length];
  const out: number[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const piece = hs.subarray(bounds[i], bounds[i + 1]);
    out.push(0x16, 0x03, 0x01, piece.length >> 8, piece.length & 0xff, ...piece);
  }
  return Uint8Array.from(out);
}
