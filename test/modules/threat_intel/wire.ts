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
