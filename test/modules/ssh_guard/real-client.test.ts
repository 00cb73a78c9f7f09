// The OpenSSH client against a small banner server in namespaces: banners
// exchanged for real, then a burst of connections as a brute-forcer would
// open them. Recorded by tcpdump, inspected by the built CLI.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetLab } from '../../kernel/lab/netns.js';
import { moduleLabSkip } from '../lab/gate.js';
import { startCapture } from '../lab/capture.js';
import { inspectPcap } from '../lab/inspect-cli.js';
import { builtModule } from '../dns_guard/support.js';

const skip = moduleLabSkip(['ssh']);
const lab = new NetLab('shc');
const work = mkdtempSync(join(tmpdir(), 'sfx-ssh-lab-'));
const pcap = join(work, 'ssh.pcap');
const SERVER_BANNER = 'SSH-2.0-LabSSH_1.0 banner-server';
const CONNECTIONS = 12;
let clientOut = '';

afterAll(async () => { await lab.cleanup(); rmSync(work, { recursive: true, force: true }); });

// Sends its banner, waits for the client's line, then closes: enough for the exchange.
const bannerServer = (addr: string) => `
const net = require('node:net');
net.createServer((s) => {
  s.write('${SERVER_BANNER}\\r\\n');
  let got = '';
  s.on('data', (d) => { got += d.toString('latin1'); if (got.includes('\\n')) setTimeout(() => s.destroy(), 50); });
  s.on('error', () => {});
  setTimeout(() => s.destroy(), 3000);
}).listen(22, '${addr}', () => console.log('ready'));
setTimeout(() => process.exit(0), 120000);
`;

beforeAll(async () => {
  if (skip) return;
  builtModule('ssh_guard');
  const cli = await lab.addNamespace('cli');
  const srv = await lab.addNamespace('srv');
  const [c, s] = await lab.vethPair({ ns: cli, role: 'c' }, { ns: srv, role: 's' }, 33);
  await lab.spawn(srv, [process.execPath, '-e', bannerServer(s.addr)], 'ready', 10_000);
  const cap = await startCapture(cli, c.ifname, pcap);
  const ssh = ['ssh', '-v', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'ConnectTimeout=3', '-F', '/dev/null', `lab@${s.addr}`, 'true'];
  try {
    for (let i = 0; i < CONNECTIONS; i++) {
      const r = await lab.exec(cli, ssh, { timeoutMs: 10_000 });
      if (i === 0) clientOut = r.stderr;
    }
  } finally {
    await cap.stop();
  }
}, 180_000);

describe.skipIf(skip)('ssh_guard on real ssh connections', () => {
  it('ssh saw our server banner', () => {
    expect(clientOut).toContain(`Remote protocol version 2.0, remote software version LabSSH_1.0`);
  });

  it('each connection gives an ssh event with both banners', () => {
    const r = inspectPcap(pcap, 'ssh_guard', { max_connections: 0 }, work);
    expect(r.stderr).not.toMatch(/E_MODULE|trap/i);
    const ev = r.of('ssh').map((e) => e.ssh as { client: Record<string, string>; server: Record<string, string> });
    expect(ev).toHaveLength(CONNECTIONS);
    const ours = /remote software version (\S+)/.exec(clientOut);
    expect(ours).not.toBeNull();
    // the client's own version, as OpenSSH reports it in -v output ("Local version string SSH-2.0-...")
    const local = /Local version string SSH-2\.0-(\S+)/.exec(clientOut)?.[1];
    expect(ev[0]).toEqual({
      client: { proto_version: '2.0', software_version: local, ...(/Local version string SSH-2\.0-\S+ (.+)/.exec(clientOut) ? { comments: /Local version string SSH-2\.0-\S+ (.+)/.exec(clientOut)![1]!.trim() } : {}) },
      server: { proto_version: '2.0', software_version: 'LabSSH_1.0', comments: 'banner-server' },
    });
    expect(r.of('alert')).toEqual([]);
  });

  it('the burst of connections trips the brute-force window: BLOCK_SRC with the configured ttl', () => {
    const r = inspectPcap(pcap, 'ssh_guard', { max_connections: 5, window_s: 60, block_ttl: 900 }, work);
    const alerts = r.of('alert').map((e) => e.alert as { signature_id: number; action: string; metadata: Record<string, string[]> });
    expect(alerts.length).toBeGreaterThanOrEqual(1);
    expect(alerts[0]).toMatchObject({ signature_id: 1004001, action: 'blocked' });
    expect(alerts[0]!.metadata).toMatchObject({ connections: ['6'], block_ttl: ['900'], action: ['block_src'] });
    // the source is then blocked: the later connections are dropped before any module sees them
    const ssh = r.of('ssh');
    expect(ssh.length).toBe(5);
    const stats = r.of('stats')[0]!.stats as { verdicts: Record<string, number> };
    expect(stats.verdicts.block_src).toBeGreaterThanOrEqual(1);
  });
});
