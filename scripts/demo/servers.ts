// The protected host's services, started with `node -e` inside its namespace.
// Each logs one line per request it actually received ("web GET /x 200"), so
// the demo can show that a blocked request never reached the server. Both
// exit by themselves after LIFETIME_S, in case cleanup itself was killed.
const LIFETIME_S = 180;

/** A small web site: a page, a /search endpoint, and a 4 MB /download for the fast path. */
export function webServerSource(addr: string, addr6: string): string {
  return `
const http = require('node:http');
const big = Buffer.alloc(4 * 1024 * 1024, 'secuxflow demo bytes\\n');
const page = '<!doctype html><title>acme shop</title><h1>acme shop</h1><form action="/search"><input name="q"></form>\\n';
const handler = (req, res) => {
  const url = new URL(req.url, 'http://x');
  let status = 200, body, type = 'text/html';
  if (url.pathname === '/') body = page;
  else if (url.pathname === '/search') { type = 'application/json'; body = JSON.stringify({ q: url.searchParams.get('q'), results: ['widget', 'gadget'] }) + '\\n'; }
  else if (url.pathname === '/download') { type = 'application/octet-stream'; body = big; }
  else { status = 404; body = 'not found\\n'; }
  console.log('web ' + req.socket.remoteAddress.replace('::ffff:', '') + ' ' + req.method + ' ' + req.url.slice(0, 120) + ' ' + status);
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
};
let up = 0;
const ready = () => { if (++up === 2) console.log('web ready'); };
http.createServer(handler).listen(80, '${addr}', ready);
http.createServer(handler).listen(80, '${addr6}', ready);
setTimeout(() => process.exit(0), ${LIFETIME_S * 1000});
`;
}

/** The lab's names and their answers; everything else is NXDOMAIN. */
export const DNS_ZONE: Record<string, { a?: string; aaaa?: string; txt?: string }> = {
  'www.acme.test': { a: '198.18.64.1', aaaa: '2001:db8:64::1' },
  'api.acme.test': { a: '198.18.64.1' },
  // answered like any name, so only secuxflow stands between the client and it
  'ads.tracker.test': { a: '198.18.64.99' },
};
/** Names under this suffix get a TXT answer: what a DNS tunnel's server would do. */
export const TUNNEL_SUFFIX = 't.exfil.test';

export function dnsServerSource(addr: string): string {
  return `
const dgram = require('node:dgram');
const zone = ${JSON.stringify(DNS_ZONE)};
function answer(q) {
  if (q.length < 12) return null;
  let p = 12; const labels = [];
  while (p < q.length && q[p] !== 0 && labels.length < 64) { labels.push(q.subarray(p + 1, p + 1 + q[p]).toString('latin1')); p += 1 + q[p]; }
  if (p + 5 > q.length) return null;
  const name = labels.join('.').toLowerCase();
  const qtype = q.readUInt16BE(p + 1);
  const entry = zone[name] || (name.endsWith('${TUNNEL_SUFFIX}') ? { txt: 'ack' } : null);
  let rdata = null;
  if (entry && qtype === 1 && entry.a) rdata = Buffer.from(entry.a.split('.').map(Number));
  if (entry && qtype === 28 && entry.aaaa) { rdata = Buffer.alloc(16); const h = entry.aaaa.split('::'); const hi = h[0].split(':'), lo = (h[1] || '').split(':').filter(Boolean); hi.forEach((x, i) => rdata.writeUInt16BE(parseInt(x, 16), i * 2)); lo.forEach((x, i) => rdata.writeUInt16BE(parseInt(x, 16), 16 - (lo.length - i) * 2)); }
  if (entry && qtype === 16 && entry.txt) rdata = Buffer.concat([Buffer.from([entry.txt.length]), Buffer.from(entry.txt)]);
  const h = Buffer.alloc(12);
  q.copy(h, 0, 0, 2);
  h.writeUInt16BE(0x8400 | (q.readUInt16BE(2) & 0x0100) | (entry ? 0 : 3), 2);
  h.writeUInt16BE(1, 4);
  h.writeUInt16BE(rdata ? 1 : 0, 6);
  const parts = [h, q.subarray(12, p + 5)];
  if (rdata) { const rr = Buffer.alloc(12); rr.writeUInt16BE(0xc00c, 0); rr.writeUInt16BE(qtype, 2); rr.writeUInt16BE(1, 4); rr.writeUInt32BE(60, 6); rr.writeUInt16BE(rdata.length, 10); parts.push(rr, rdata); }
  console.log('dns ' + (entry ? 'NOERROR ' : 'NXDOMAIN ') + name.slice(0, 80) + ' type ' + qtype);
  return Buffer.concat(parts);
}
const udp = dgram.createSocket('udp4');
udp.on('message', (m, r) => { const a = answer(m); if (a) udp.send(a, r.port, r.address); });
udp.bind(53, '${addr}', () => console.log('dns ready'));
setTimeout(() => process.exit(0), ${LIFETIME_S * 1000});
`;
}
