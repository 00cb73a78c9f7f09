// A tiny authoritative DNS responder for real-client tests, run with node
// inside a server namespace: UDP and TCP on port 53. Names under nx.test get
// NXDOMAIN; A, AAAA and TXT questions get fixed answers (compressed names).
export const RESPONDER_A = '198.18.99.1';
export const RESPONDER_AAAA = '2001:db8::99';
export const RESPONDER_TXT = 'hello from the lab';

export function responderSource(addr: string): string {
  return `
const dgram = require('node:dgram');
const net = require('node:net');
function answer(q) {
  if (q.length < 12) return null;
  let p = 12, labels = [];
  while (p < q.length && q[p] !== 0) { labels.push(q.subarray(p + 1, p + 1 + q[p]).toString('latin1')); p += 1 + q[p]; }
  const name = labels.join('.').toLowerCase();
  const qtype = q.readUInt16BE(p + 1);
  const question = q.subarray(12, p + 5);
  const nx = name.endsWith('nx.test');
  let rdata = null;
  if (!nx && qtype === 1) rdata = Buffer.from([${RESPONDER_A.split('.').join(', ')}]);
  if (!nx && qtype === 28) { rdata = Buffer.alloc(16); rdata.writeUInt16BE(0x2001, 0); rdata.writeUInt16BE(0x0db8, 2); rdata.writeUInt16BE(0x99, 14); }
  if (!nx && qtype === 16) { const t = Buffer.from('${RESPONDER_TXT}'); rdata = Buffer.concat([Buffer.from([t.length]), t]); }
  const h = Buffer.alloc(12);
  q.copy(h, 0, 0, 2);
  h.writeUInt16BE(0x8400 | (q.readUInt16BE(2) & 0x0100) | (nx ? 3 : 0), 2);
  h.writeUInt16BE(1, 4);
  h.writeUInt16BE(rdata ? 1 : 0, 6);
  const parts = [h, question];
  if (rdata) {
    const rr = Buffer.alloc(12);
    rr.writeUInt16BE(0xc00c, 0); rr.writeUInt16BE(qtype, 2); rr.writeUInt16BE(1, 4); rr.writeUInt32BE(120, 6); rr.writeUInt16BE(rdata.length, 10);
    parts.push(rr, rdata);
  }
  return Buffer.concat(parts);
}
const udp = dgram.createSocket('udp4');
udp.on('message', (m, r) => { const a = answer(m); if (a) udp.send(a, r.port, r.address); });
const tcp = net.createServer((s) => {
  let buf = Buffer.alloc(0);
  s.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
      const a = answer(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      buf = buf.subarray(2 + buf.readUInt16BE(0));
      if (a) { const l = Buffer.alloc(2); l.writeUInt16BE(a.length); s.write(Buffer.concat([l, a])); }
    }
  });
  s.on('error', () => {});
});
let up = 0;
const ready = () => { if (++up === 2) console.log('ready'); };
udp.bind(53, '${addr}', ready);
tcp.listen(53, '${addr}', ready);
setTimeout(() => process.exit(0), 120000);
`;
}
