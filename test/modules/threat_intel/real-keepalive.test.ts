// Real clients reusing one connection: curl sends several requests (bodies
// by Content-Length and chunked, with request lines naming a listed decoy in
// them) to a Python HTTP/1.1 server, and through it as a forward proxy; dig
// +keepopen sends several queries over one TCP connection to dnsmasq, whose
// answer to one of them is a CNAME to a listed name. The listed name is never
// in the first request or message. The capture is run through the engine
// with the module under test.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { alertsOf, compiledModule, engineRun } from '../dlp/support.js';
import { capture, makePair, readFrames, type Pair } from '../scan_flood/lab.js';
import { moduleLabSkip } from '../lab/gate.js';

const skip = moduleLabSkip(['curl', 'dig', 'dnsmasq', 'python3']);
let pair: Pair;
let pcap: string;
const curlStatus: number[] = [];
let digOut = '';

// An HTTP/1.1 server that reads each body by its framing and keeps the connection open.
const SERVER = `
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def read_body(self):
        if 'chunked' in self.headers.get('Transfer-Encoding', '').lower():
            while True:
                size = int(self.rfile.readline().split(b';')[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b'\\r\\n', b'\\n', b''): pass
                    return
                self.rfile.read(size + 2)
        self.rfile.read(int(self.headers.get('Content-Length', 0)))
    def reply(self):
        self.read_body()
        data = b'ok\\n'
        self.send_response(200)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    do_GET = do_POST = do_PUT = reply
    def log_message(self, *a): pass
s = http.server.ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), H)
print('ready', flush=True)
s.serve_forever()
`;

const LIST = 'evil.example\n';

beforeAll(async () => {
  await compiledModule('threat_intel');
  if (skip) return;
  pair = await makePair('tik', 65);
  const srv = pair.server.addr;
  const script = join(pair.dir, 'server.py');
  writeFileSync(script, SERVER);
  const body = join(pair.dir, 'body.txt');
  writeFileSync(body, 'GET http://body.evil.example/ HTTP/1.1\r\nHost: body.evil.example\r\n\r\n'.repeat(3));
  await pair.lab.spawn(pair.serverNs, ['python3', script, srv, '8080'], 'ready', 15_000);
  await pair.lab.spawn(pair.serverNs, ['sh', '-c', [
    'exec dnsmasq -k --conf-file=/dev/null --no-resolv --no-hosts --bind-interfaces', `--listen-address=${srv}`, '--port=53',
    '--user=root --pid-file= --log-facility=-',
    '--host-record=www.good.example,192.0.2.1 --host-record=t.evil.example,192.0.2.80',
    '--cname=metrics.shop.example,t.evil.example --address=/c2.evil.example/192.0.2.66 2>&1',
  ].join(' ')], 'started, version', 15_000);
  pcap = await capture(pair, 'keepalive', async () => {
    const curl = async (args: string[]) => {
      const r = await pair.lab.exec(pair.clientNs, ['curl', '--max-time', '5', ...args], { timeoutMs: 10_000 });
      curlStatus.push(r.code);
    };
    const url = (path: string) => `http://${srv}:8080${path}`;
    const quiet = ['-s', '-o', '/dev/null'];
    // 1: GET, POST by Content-Length, POST chunked (both bodies full of the decoy), then the listed Host
    await curl([...quiet, '-H', 'Host: www.good.example', url('/a'),
      '--next', ...quiet, '-H', 'Host: www.good.example', '--data-binary', `@${body}`, url('/b'),
      '--next', ...quiet, '-H', 'Host: www.good.example', '-H', 'Transfer-Encoding: chunked', '--data-binary', `@${body}`, url('/c'),
      '--next', ...quiet, '-H', 'Host: beacon.evil.example', url('/d')]);
    // 2: through the server as a forward proxy: absolute-form targets, the listed one second
    await curl([...quiet, '-o', '/dev/null', '-x', url(''), 'http://www.good.example/', 'http://c2.evil.example/gate']);
    // 3: a clean keep-alive connection
    await curl([...quiet, '-o', '/dev/null', '-o', '/dev/null', '-H', 'Host: www.good.example', url('/1'), url('/2'), url('/3')]);
    // 4: one TCP connection, three queries; the second is answered with a CNAME to a listed name, the third is listed
    const dig = await pair.lab.exec(pair.clientNs, ['dig', `@${srv}`, '+tcp', '+keepopen', '+tries=1', '+time=3', 'www.good.example', 'A', 'metrics.shop.example', 'A', 'c2.evil.example', 'A'], { timeoutMs: 15_000 });
    digOut = dig.stdout;
  });
}, 120_000);

afterAll(() => { pair?.lab.cleanupSync(); });

describe.skipIf(skip)('threat_intel on real keep-alive HTTP and DNS-over-TCP connections', () => {
  it('each client reused one connection for all its requests and queries', async () => {
    expect(curlStatus).toEqual([0, 0, 0]);
    expect(digOut).toMatch(/metrics\.shop\.example\.\s+\d+\s+IN\s+CNAME\s+t\.evil\.example\./);
    expect(digOut).toMatch(/c2\.evil\.example\.\s+\d+\s+IN\s+A\s+192\.0\.2\.66/);
    // SYNs (without ACK) per server port: one connection per curl run, one for dig
    const { decisions } = await engineRun(readFrames(pcap), []);
    const syns = decisions.filter((d) => (d.pkt.tcpFlags & 0x12) === 0x02).map((d) => d.pkt.dstPort);
    expect(syns).toEqual([8080, 8080, 8080, 53]);
  });

  it('the listed name of a later request or message is flagged; the decoys in bodies and the clean connection are not', async () => {
    const frames = readFrames(pcap);
    const { decisions } = await engineRun(frames, [{ name: 'threat_intel', config: LIST }]);
    const alerts = alertsOf(decisions, 'threat_intel').map((a) => {
      const p = decisions[a.frame]!.pkt;
      const serverPort = Math.min(p.srcPort, p.dstPort);
      return [serverPort, a.sigId, a.metadata!.seen_in, a.metadata!.name];
    });
    // dns_answer: the first hit on the DNS connection ends it (block_flow), so the listed third query is not reached
    expect(alerts).toEqual([
      [8080, 1008005, 'http', 'beacon.evil.example'],
      [8080, 1008005, 'http_target', 'c2.evil.example'],
      [53, 1008003, 'dns_answer', 't.evil.example'],
    ]);
  });
});
