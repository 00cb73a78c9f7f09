// A TLS 1.3 client (Node script source, run in the client namespace) that
// forces a HelloRetryRequest and names a different host in its second
// ClientHello: its first offers only an X25519 key share to a server that
// takes P-256, the second the P-256 share the server asks for. Prints
// SERVER_HELLO when the server went on with the second hello, else what came.
// No Finished is sent: the server's answer is all the test needs.
export const RETRY_CLIENT = String.raw`
import net from 'node:net';
import crypto from 'node:crypto';
const [host, port, firstSni, secondSni] = process.argv.slice(2);
const u16 = (n) => [n >> 8, n & 0xff];
const ext = (type, body) => [...u16(type), ...u16(body.length), ...body];
const sessionId = [...crypto.randomBytes(32)];
function hello(sni, group, share) {
  const name = [...Buffer.from(sni)];
  const exts = [
    ...ext(0, [...u16(name.length + 3), 0, ...u16(name.length), ...name]),
    ...ext(10, [...u16(4), 0x00, 0x1d, 0x00, 0x17]),
    ...ext(13, [...u16(6), 0x04, 0x03, 0x08, 0x04, 0x08, 0x07]),
    ...ext(43, [2, 0x03, 0x04]),
    ...ext(45, [1, 1]),
    ...ext(51, [...u16(share.length + 4), ...u16(group), ...u16(share.length), ...share]),
  ];
  const body = [3, 3, ...crypto.randomBytes(32), 32, ...sessionId, ...u16(2), 0x13, 0x01, 1, 0, ...u16(exts.length), ...exts];
  return [1, 0, ...u16(body.length), ...body];
}
const record = (type, content) => Buffer.from([type, 3, 3, ...u16(content.length), ...content]);
const x25519 = [...crypto.generateKeyPairSync('x25519').publicKey.export({ format: 'der', type: 'spki' }).subarray(-32)];
const p256 = crypto.createECDH('prime256v1');
p256.generateKeys();
const RETRY = 'cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c';
const sock = net.connect(Number(port), host, () => sock.write(record(22, hello(firstSni, 0x1d, x25519))));
let buf = Buffer.alloc(0);
let retried = false;
const finish = (what) => { console.log(what); sock.destroy(); process.exit(0); };
sock.on('data', (d) => {
  buf = Buffer.concat([buf, d]);
  while (buf.length >= 5 && buf.length >= 5 + buf.readUInt16BE(3)) {
    const type = buf[0];
    const content = buf.subarray(5, 5 + buf.readUInt16BE(3));
    buf = buf.subarray(5 + content.length);
    if (type === 20) continue;
    if (type === 21) finish('ALERT ' + content[1]);
    if (type !== 22 || content[0] !== 2) finish('UNEXPECTED ' + type);
    const isRetry = content.subarray(6, 38).toString('hex') === RETRY;
    if (isRetry && !retried) {
      retried = true;
      sock.write(Buffer.concat([record(20, [1]), record(22, hello(secondSni, 0x17, [...p256.getPublicKey()]))]));
    } else {
      finish(isRetry ? 'SECOND_RETRY' : retried ? 'SERVER_HELLO' : 'NO_RETRY');
    }
  }
});
sock.on('close', () => finish('CLOSED'));
setTimeout(() => finish('TIMEOUT'), 5000);
`;
