// DLP-5 on real bytes: curl uploading with Transfer-Encoding: chunked (each
// write on its stdin becomes a chunk, so a card written in two pieces
// crosses a chunk boundary) and Python's http.client sending two chunked
// POSTs on one kept-alive connection, to a Python server that answers every
// body back in 5-byte chunks. The tcpdump capture goes through the engine
// with dlp: each value is reported once per direction, redacted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertsOf, compiledModule, engineRun } from './support.js';
import { capture, makePair, readFrames, type Pair } from '../scan_flood/lab.js';
import { moduleLabSkip } from '../lab/gate.js';

const skip = moduleLabSkip(['curl', 'python3']);
let pair: Pair;

const SERVER = `
import http.server, os, sys, threading
threading.Timer(120, lambda: os._exit(0)).start()
class Echo(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def body(self):
        if self.headers.get('Transfer-Encoding', '').lower() != 'chunked':
            return self.rfile.read(int(self.headers.get('Content-Length', 0)))
        data = b''
        while True:
            size = int(self.rfile.readline().split(b';')[0].strip(), 16)
            if size == 0:
                while self.rfile.readline() not in (b'\\r\\n', b'\\n', b''):
                    pass
                return data
            data += self.rfile.read(size)
            self.rfile.readline()
    def do_POST(self):
        data = self.body()
        self.send_response(200)
        self.send_header('Content-Type', 'text/plain')
        self.send_header('Transfer-Encoding', 'chunked')
        self.end_headers()
        for i in range(0, len(data), 5):
            part = data[i:i + 5]
            self.wfile.write(b'%x\\r\\n%s\\r\\n' % (len(part), part))
        self.wfile.write(b'0\\r\\n\\r\\n')
        self.wfile.flush()
    do_PUT = do_POST
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer((sys.argv[1], 8080), Echo)
print('ready', flush=True)
server.serve_forever()
`;

const CLIENT = `
import http.client, sys
c = http.client.HTTPConnection(sys.argv[1], 8080, timeout=5)
c.request('POST', '/a', body=iter([b'card=5555555555', b'554444&x=1']), headers={'Content-Type': 'application/x-www-form-urlencoded'}, encode_chunked=True)
c.getresponse().read()
c.request('POST', '/b', body=iter([b'ssn=219-0', b'9-99', b'99&x=1']), encode_chunked=True)
c.getresponse().read()
c.close()
`;

beforeAll(async () => {
  await compiledModule('dlp');
  if (skip) return;
  pair = await makePair('dlc', 66);
  await pair.lab.spawn(pair.serverNs, ['python3', '-c', SERVER, pair.server.addr], 'ready', 20_000);
}, 300_000);

afterAll(() => { pair?.lab.cleanupSync(); });

describe.skipIf(skip)('dlp on real chunked uploads', () => {
  it('curl -T - with Transfer-Encoding: chunked and a keep-alive Python client: values split by chunk boundaries are found both ways', async () => {
    const pcap = await capture(pair, 'chunked', async () => {
      // two writes with a pause between: curl sends each as its own chunk
      await pair.lab.exec(pair.clientNs, ['sh', '-c',
        `(printf 'card=41111111'; sleep 0.3; printf '11111111&x=1') | curl -s --max-time 5 -T - -H 'Transfer-Encoding: chunked' -H 'Expect:' http://${pair.server.addr}:8080/up`], { timeoutMs: 10_000 });
      await pair.lab.exec(pair.clientNs, ['python3', '-c', CLIENT, pair.server.addr], { timeoutMs: 10_000 });
    });
    const frames = readFrames(pcap);
    // the capture really holds the split: chunks ending inside the card numbers (each in its own segment)
    const wire = Buffer.concat(frames.map((f) => Buffer.from(f.data))).toString('latin1');
    for (const piece of ['d\r\ncard=41111111\r\n', 'c\r\n11111111&x=1\r\n', 'F\r\ncard=5555555555\r\n', '9\r\nssn=219-0\r\n']) expect(wire).toContain(piece);
    const { decisions } = await engineRun(frames, [{ name: 'dlp' }]);
    const seen = alertsOf(decisions, 'dlp').map((a) => `${a.sigId} ${a.metadata!.direction} ${a.metadata!.redacted}`).sort();
    expect(seen).toEqual([
      '1005001 to_client ************1111',
      '1005001 to_client ************4444',
      '1005001 to_server ************1111',
      '1005001 to_server ************4444',
      '1005002 to_client ***-**-9999',
      '1005002 to_server ***-**-9999',
    ]);
  }, 60_000);
});
