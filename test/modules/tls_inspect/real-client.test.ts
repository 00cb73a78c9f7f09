// openssl s_client against openssl s_server (throwaway certificate) in
// namespaces, recorded by tcpdump and inspected by the built CLI. tshark's
// dissection of the same capture is the oracle: its JA3/JA3S directly, and a
// JA4 computed here from its dissected fields by the FoxIO definition.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetLab } from '../../kernel/lab/netns.js';
import { moduleLabSkip } from '../lab/gate.js';
import { startCapture } from '../lab/capture.js';
import { inspectPcap } from '../lab/inspect-cli.js';
import { SKIP_TSHARK, TSHARK } from '../../host/capture/tshark.js';
import { builtModule } from '../dns_guard/support.js';

const skip = moduleLabSkip(['openssl']);
const lab = new NetLab('tlc');
const work = mkdtempSync(join(tmpdir(), 'sfx-tls-lab-'));
const pcap = join(work, 'openssl.pcap');
const clients: { sni: string; code: number; out: string }[] = [];

afterAll(async () => { await lab.cleanup(); rmSync(work, { recursive: true, force: true }); });

beforeAll(async () => {
  if (skip) return;
  builtModule('tls_inspect');
  const key = join(work, 'key.pem');
  const cert = join(work, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-subj', '/CN=lab.test', '-days', '1'], { stdio: 'ignore', timeout: 20_000 });
  const cli = await lab.addNamespace('cli');
  const srv = await lab.addNamespace('srv');
  const [c, s] = await lab.vethPair({ ns: cli, role: 'c' }, { ns: srv, role: 's' }, 32);
  // s_server prints ACCEPT once it listens; -www keeps it from reading its (closed) stdin
  await lab.spawn(srv, ['openssl', 's_server', '-accept', `${s.addr}:4433`, '-cert', cert, '-key', key, '-alpn', 'h2,http/1.1', '-www', '-naccept', '2'], 'ACCEPT', 10_000);
  const cap = await startCapture(cli, c.ifname, pcap);
  try {
    for (const [sni, extra] of [['secure.lab.test', ['-alpn', 'h2,http/1.1']], ['www.blocked.test', ['-tls1_2']]] as const) {
      const r = await lab.exec(cli, ['openssl', 's_client', '-connect', `${s.addr}:4433`, '-servername', sni, ...extra], { timeoutMs: 15_000, input: '' });
      clients.push({ sni, code: r.code, out: r.stdout + r.stderr });
    }
  } finally {
    await cap.stop();
  }
}, 120_000);

/** Every occurrence of each field, per frame matching the filter. */
function tsharkAll(filter: string, fields: string[]): string[][] {
  if (TSHARK === null) throw new Error('tshark is required (CI=true) but is not installed');
  const args = ['-r', pcap, '-n', '-Y', filter, '-T', 'fields', '-E', 'separator=|', '-E', 'occurrence=a', '-E', 'aggregator=,'];
  for (const f of fields) args.push('-e', f);
  return execFileSync(TSHARK, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n').filter((l) => l).map((l) => l.split('|'));
}

const isGrease = (v: number) => (v & 0x0f0f) === 0x0a0a && (v >> 8) === (v & 0xff);
const hex4 = (v: number) => v.toString(16).padStart(4, '0');
const sha12 = (s: string) => (s ? createHash('sha256').update(s).digest('hex').slice(0, 12) : '000000000000');

/** JA4 by the FoxIO definition, from tshark's dissected ClientHello fields. */
function ja4FromFields(ciphers: number[], exts: number[], sigs: number[], alpn: string, versions: number[], legacy: number, sni: boolean): string {
  const c = ciphers.filter((v) => !isGrease(v));
  const e = exts.filter((v) => !isGrease(v));
  // without supported_versions the hello's own version field counts
  const offered = versions.filter((v) => !isGrease(v));
  const top = offered.length ? Math.max(...offered) : legacy;
  const ver = ({ 0x0304: '13', 0x0303: '12', 0x0302: '11', 0x0301: '10' } as Record<number, string>)[top] ?? '00';
  const a = `t${ver}${sni ? 'd' : 'i'}${String(Math.min(c.length, 99)).padStart(2, '0')}${String(Math.min(e.length, 99)).padStart(2, '0')}${alpn ? alpn[0]! + alpn[alpn.length - 1]! : '00'}`;
  const b = sha12([...c].sort((x, y) => x - y).map(hex4).join(','));
  const extPart = e.filter((v) => v !== 0 && v !== 0x10).sort((x, y) => x - y).map(hex4).join(',');
  const sigPart = sigs.filter((v) => !isGrease(v)).map(hex4).join(',');
  return `${a}_${b}_${sha12(sigPart ? `${extPart}_${sigPart}` : extPart)}`;
}

describe.skipIf(skip)('tls_inspect on a real openssl run', () => {
  it('both handshakes completed', () => {
    for (const c of clients) expect(c.out, c.sni).toMatch(/Verify return code|SSL-Session|Cipher is/);
    expect(clients[0]!.out).toMatch(/ALPN protocol: h2/);
  });

  it('tls events carry the SNI, ALPN, negotiated version, and JA3/JA3S equal to tshark\'s', () => {
    const r = inspectPcap(pcap, 'tls_inspect', undefined, work);
    expect(r.stderr).not.toMatch(/E_MODULE|trap/i);
    const tls = r.of('tls').map((e) => e.tls as Record<string, unknown>);
    const ch = tls.filter((t) => t.handshake === 'client_hello');
    const sh = tls.filter((t) => t.handshake === 'server_hello');
    expect(ch.map((t) => t.sni)).toEqual(['secure.lab.test', 'www.blocked.test']);
    expect(ch[0]!.client_alpns).toEqual(['h2', 'http/1.1']);
    expect(sh.map((t) => t.version)).toEqual(['TLS 1.3', 'TLS 1.2']);
    expect(sh[0]!.server_alpns).toBeUndefined(); // TLS 1.3 sends ALPN in the encrypted extensions
    if (SKIP_TSHARK) return;
    const theirs = tsharkAll('tls.handshake.type == 1', ['tls.handshake.ja3', 'tls.handshake.ja3_full']);
    expect(ch.map((t) => (t.ja3 as { hash: string }).hash)).toEqual(theirs.map((x) => x[0]));
    expect(ch.map((t) => (t.ja3 as { string: string }).string)).toEqual(theirs.map((x) => x[1]));
    const theirsS = tsharkAll('tls.handshake.type == 2', ['tls.handshake.ja3s']);
    expect(sh.map((t) => (t.ja3s as { hash: string }).hash)).toEqual(theirsS.map((x) => x[0]));
  });

  it.skipIf(SKIP_TSHARK)('JA4 equals the FoxIO definition applied to tshark\'s dissection of the same ClientHellos', () => {
    const r = inspectPcap(pcap, 'tls_inspect', undefined, work);
    const ours = r.of('tls').map((e) => e.tls as Record<string, unknown>).filter((t) => t.handshake === 'client_hello').map((t) => t.ja4);
    const rows = tsharkAll('tls.handshake.type == 1', [
      'tls.handshake.ciphersuite', 'tls.handshake.extension.type', 'tls.handshake.sig_hash_alg', 'tls.handshake.extensions_alpn_str',
      'tls.handshake.extensions.supported_version', 'tls.handshake.extensions_server_name', 'tls.handshake.version',
    ]);
    const nums = (s: string | undefined) => (s ? s.split(',').map((x) => Number(x)) : []);
    const expected = rows.map(([c, e, sig, alpn, ver, sni, legacy]) => ja4FromFields(nums(c), nums(e), nums(sig), (alpn ?? '').split(',')[0] ?? '', nums(ver), Number(legacy), !!sni));
    expect(ours).toEqual(expected);
    expect(String(ours[0])).toMatch(/^t13d\d{4}h2_[0-9a-f]{12}_[0-9a-f]{12}$/);
  });

  it('the blocklisted SNI is alerted and its flow blocked', () => {
    const r = inspectPcap(pcap, 'tls_inspect', { sni_blocklist: ['blocked.test'] }, work);
    const alerts = r.of('alert').map((e) => e.alert as { signature_id: number; action: string; metadata: Record<string, string[]> });
    expect(alerts.map((a) => [a.signature_id, a.action, a.metadata.sni?.[0]])).toEqual([[1003001, 'blocked', 'www.blocked.test']]);
    const flows = r.of('flow').map((e) => e.flow as { verdict: string });
    expect(flows.filter((f) => f.verdict === 'block_flow' || f.verdict === 'drop').length).toBeGreaterThanOrEqual(1);
  });
});
