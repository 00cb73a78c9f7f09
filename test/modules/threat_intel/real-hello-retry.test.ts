// A real TLS 1.3 server forcing a HelloRetryRequest (openssl s_server taking
// only P-256): openssl s_client offering an X25519 share first, and a client
// whose second ClientHello names a listed host after a harmless first. The
// capture goes through the engine with the module under test; the server's
// answer shows whether it went on with the second hello's name.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Verdict } from '../../../host/verdict.js';
import { alertsOf, compiledModule, engineRun } from '../dlp/support.js';
import { capture, makePair, readFrames, type Pair } from '../scan_flood/lab.js';
import { moduleLabSkip } from '../lab/gate.js';
import { RETRY_CLIENT } from './retry-client.js';
import { RETRY_RANDOM } from './retry-wire.js';

const skip = moduleLabSkip(['openssl']);
let pair: Pair;
let pcap: string;
const said: string[] = [];
const PORT = 8443;

beforeAll(async () => {
  await compiledModule('threat_intel');
  if (skip) return;
  pair = await makePair('tih', 69);
  const key = join(pair.dir, 'key.pem');
  const cert = join(pair.dir, 'cert.pem');
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=test'], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(made.stderr);
  const client = join(pair.dir, 'retry-client.mjs');
  writeFileSync(client, RETRY_CLIENT);
  const srv = pair.server.addr;
  // -quiet: without it s_server shuts down when its stdin (here /dev/null) ends, -ign_eof or not; it then prints nothing
  await pair.lab.spawn(pair.serverNs, ['sh', '-c', `echo starting; exec openssl s_server -quiet -accept ${srv}:${PORT} -cert ${cert} -key ${key} -tls1_3 -groups P-256`], 'starting', 15_000);
  const up = await pair.lab.exec(pair.clientNs, ['bash', '-c', `for i in $(seq 100); do (echo > /dev/tcp/${srv}/${PORT}) 2>/dev/null && exit 0; sleep 0.1; done; exit 1`], { timeoutMs: 15_000 });
  if (up.code !== 0) throw new Error('openssl s_server did not start listening');
  pcap = await capture(pair, 'hello-retry', async () => {
    // 1: openssl s_client, a harmless name in both hellos
    const s = await pair.lab.exec(pair.clientNs, ['sh', '-c', `sleep 1 | openssl s_client -connect ${srv}:${PORT} -servername www.good.example -tls1_3 -groups X25519:P-256 </dev/null 2>&1`], { timeoutMs: 10_000 });
    said.push(/Server Temp Key: ECDH, prime256v1/.test(s.stdout) ? 'P-256' : s.stdout);
    // 2: a harmless first name, a listed second one
    const r = await pair.lab.exec(pair.clientNs, [process.execPath, client, srv, String(PORT), 'www.good.example', 'api.evil.example'], { timeoutMs: 10_000 });
    said.push(r.stdout.trim() || r.stderr);
  });
}, 120_000);

afterAll(() => { pair?.lab.cleanupSync(); });

describe.skipIf(skip)('threat_intel on a real HelloRetryRequest', () => {
  it('the server asked both clients for a retry and went on with their second hello', async () => {
    expect(said).toEqual(['P-256', 'SERVER_HELLO']);
    const { decisions } = await engineRun(readFrames(pcap), []);
    const retries = decisions.filter((d) => d.pkt.srcPort === PORT && Buffer.from(d.pkt.data.subarray(d.pkt.payloadOffset, d.pkt.payloadOffset + d.pkt.payloadLength)).includes(RETRY_RANDOM)).map((d) => d.pkt.dstPort);
    expect(retries.length).toBe(2);
    expect(new Set(retries).size).toBe(2);
  });

  it('the listed name of the second hello is flagged; the clean retry is let go after its second hello', async () => {
    const { decisions } = await engineRun(readFrames(pcap), [{ name: 'threat_intel', config: 'evil.example\n' }]);
    const alerts = alertsOf(decisions, 'threat_intel');
    expect(alerts.map((a) => [a.sigId, a.metadata!.seen_in, a.metadata!.name])).toEqual([[1008004, 'tls', 'api.evil.example']]);
    const clientPorts = [...new Set(decisions.filter((d) => d.pkt.dstPort === PORT && (d.pkt.tcpFlags & 0x12) === 0x02).map((d) => d.pkt.srcPort))];
    expect(clientPorts.length).toBe(2);
    const hellosOf = (port: number) => decisions.filter((d) => d.pkt.srcPort === port && d.pkt.dstPort === PORT && d.pkt.payloadLength > 0 && d.modules.length > 0);
    // s_client: its first hello keeps the flow watched, its second (behind a change_cipher_spec record) lets it go
    expect(hellosOf(clientPorts[0]!).slice(0, 2).map((d) => d.modules[0]!.verdict)).toEqual([Verdict.CONTINUE, Verdict.ALLOW_FLOW]);
    const second = hellosOf(clientPorts[0]!)[1]!.pkt;
    expect(second.data[second.payloadOffset]).toBe(0x14);
    expect(alerts[0]!.frame).toBe(hellosOf(clientPorts[1]!)[1]!.index);
  });
});
