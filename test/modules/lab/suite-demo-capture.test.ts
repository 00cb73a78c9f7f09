// The three protocol modules together on the shipped demo capture, through
// the built CLI: each reports its protocol's flows, none raises an alert on
// this benign traffic, and the TLS fingerprint agrees with tshark.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../host/wasm/helpers.js';
import { SKIP_TSHARK, tsharkFields } from '../../host/capture/tshark.js';
import { builtModule } from '../dns_guard/support.js';
import { CLI, type Eve } from './inspect-cli.js';

const DEMO = join(repoRoot, 'samples', 'demo.pcap');
const work = mkdtempSync(join(tmpdir(), 'sfx-suite-demo-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function runSuite(): { status: number; eve: Eve[]; stdout: string; stderr: string } {
  for (const f of [CLI, DEMO]) if (!existsSync(f)) throw new Error(`${f} is missing: run npm run build first (npm test does it)`);
  const args = [CLI, 'inspect', '--pcap', DEMO, '--no-progress', '--eve', join(work, 'eve.json')];
  for (const m of ['dns_guard', 'tls_inspect', 'ssh_guard']) args.push('--module', builtModule(m));
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 120_000, env: { ...process.env, SECUXFLOW_STATE_DIR: join(work, 'state') } });
  const eve = readFileSync(join(work, 'eve.json'), 'utf8').split('\n').filter((l) => l).map((l) => JSON.parse(l) as Eve);
  return { status: r.status ?? -1, eve, stdout: r.stdout, stderr: r.stderr };
}

describe('dns_guard + tls_inspect + ssh_guard on the demo capture', () => {
  let r: ReturnType<typeof runSuite>;
  beforeAll(() => { r = runSuite(); }, 180_000);
  const of = (t: string) => r.eve.filter((e) => e.event_type === t);

  it('runs clean: no module error, no alert from these modules', () => {
    expect(r.status).toBe(0);
    expect(r.stderr).not.toMatch(/E_MODULE|trap/i);
    const ours = of('alert').filter((e) => /^100[234]\d{4}$/.test(String((e.alert as { signature_id: number }).signature_id)));
    expect(ours).toEqual([]);
  });

  it('dns events for every demo query and answer, IPv6 included', () => {
    const answers = of('dns').map((e) => e.dns as { type: string; rrname: string; rrtype: string; answers?: { rdata: string }[] }).filter((d) => d.type === 'answer');
    expect(answers.map((d) => [d.rrname, d.rrtype, d.answers?.[0]?.rdata])).toEqual([
      ['shop.example', 'A', '198.18.0.10'],
      ['shop.example', 'AAAA', '2001:db8::10'],
      ['api.example.net', 'A', '198.18.1.20'],
      ['mail.example.org', 'AAAA', '2001:db8::25'],
    ]);
    expect(of('dns').find((e) => (e.dns as { rrname: string }).rrname === 'mail.example.org')!.src_ip).toBe('2001:db8::1');
  });

  it('a tls event with the SNI and fingerprints, and an ssh event with both banners', () => {
    const tls = of('tls').map((e) => e.tls as { sni: string; ja4: string; ja3: { hash: string } });
    expect(tls).toHaveLength(1);
    expect(tls[0]!.sni).toBe('secure.example.com');
    expect(tls[0]!.ja4.startsWith('t13d0706h2_')).toBe(true);
    if (!SKIP_TSHARK) {
      const [[ja3]] = tsharkFields(DEMO, ['tls.handshake.ja3'], ['-Y', 'tls.handshake.type == 1']) as [[string]];
      expect(tls[0]!.ja3.hash).toBe(ja3);
    }
    expect(of('ssh').map((e) => e.ssh)).toEqual([{
      client: { proto_version: '2.0', software_version: 'OpenSSH_9.6p1', comments: 'Ubuntu-3ubuntu13' },
      server: { proto_version: '2.0', software_version: 'OpenSSH_9.2p1', comments: 'Debian-2+deb12u3' },
    }]);
  });
});
