// The tunnels this VM's kernel cannot build (GRE, GRETAP, Geneve, IP in IP,
// 6in4): scapy crafts the same HTTP attack session inside each
// (tunnel-session.py, scapy's own encoders), and the built CLI inspects the
// captures with http_waf. Needs /usr/bin/python3 with scapy: under CI its
// absence fails the file, elsewhere it is skipped with the reason.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectPcap } from '../lab/inspect-cli.js';
import { SID } from './waf.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = join(import.meta.dirname, 'tunnel-session.py');
const probe = spawnSync(PYTHON, ['-c', 'import scapy.all, scapy.contrib.geneve'], { encoding: 'utf8' });
const why = probe.status === 0 ? null : `scapy is not importable by ${PYTHON} (install python3-scapy): ${probe.stderr ?? probe.error}`;
if (why !== null && (process.env.CI === 'true' || process.env.CI === '1')) throw new Error(`tunnel captures cannot be made in CI: ${why}`);
if (why !== null) console.warn(`[tunnel captures] skipping: ${why}`);

const work = mkdtempSync(join(tmpdir(), 'sfx-tunnel-pcaps-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

beforeAll(() => {
  if (why !== null) return;
  const r = spawnSync(PYTHON, [SCRIPT, work], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`tunnel-session.py failed: ${r.stderr}`);
}, 90_000);

const OUTER = { src_ip: '192.0.2.1', dest_ip: '192.0.2.2', depth: 1 };
const cases: [string, string, Record<string, unknown>][] = [
  ['gre', '10.0.0.1', { ...OUTER, proto: 'GRE', type: 'gre', key: 77 }],
  ['gretap', '10.0.0.1', { ...OUTER, proto: 'GRE', type: 'gre' }],
  ['geneve', '10.0.0.1', { ...OUTER, proto: 'UDP', type: 'geneve', vni: 99 }],
  ['ipip', '10.0.0.1', { ...OUTER, proto: 'IPIP', type: 'ipip' }],
  ['sit', 'fd00::1', { ...OUTER, proto: 'IPv6', type: 'ipip' }],
  ['vxlan', '10.0.0.1', { ...OUTER, proto: 'UDP', type: 'vxlan', vni: 4242 }],
];

describe.skipIf(why !== null)('http_waf on scapy-made tunnel captures', () => {
  it.each(cases)('%s: the inner SQL injection alerts once, on the inner flow, whose one flow record has the tunnel', (name, client, tunnel) => {
    const r = inspectPcap(join(work, `${name}.pcap`), 'http_waf', undefined, work);
    expect(r.stderr).not.toMatch(/E_MODULE|trap/i);
    const sqli = r.of('alert').filter((e) => (e.alert as { signature_id: number }).signature_id === SID.SQLI);
    expect(sqli).toHaveLength(1);
    expect(sqli[0]).toMatchObject({ src_ip: client, dest_port: 80, proto: 'TCP', tunnel });
    const flows = r.of('flow');
    expect(flows).toHaveLength(1);
    expect(flows[0]).toMatchObject({ src_ip: client, tunnel, flow: { pkts_toserver: 6, pkts_toclient: 4 } });
    expect(r.of('anomaly')).toEqual([]);
  });
});
