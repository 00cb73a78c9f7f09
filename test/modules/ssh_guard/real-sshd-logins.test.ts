// OpenSSH's client against OpenSSH's sshd in namespaces: logins with a key
// that succeed (`true`, and a 12 KB `cat`) and password logins refused until
// "Too many authentication failures". Recorded by tcpdump, inspected by the
// built CLI: only the refused sessions may count as failed logins.
import { chmodSync, mkdtempSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetLab } from '../../kernel/lab/netns.js';
import { moduleLabSkip } from '../lab/gate.js';
import { startCapture } from '../lab/capture.js';
import { inspectPcap } from '../lab/inspect-cli.js';
import { builtModule } from '../dns_guard/support.js';

const skip = moduleLabSkip(['ssh', 'sshd', 'ssh-keygen', 'unshare']);
const lab = new NetLab('shl');
const work = mkdtempSync(join(tmpdir(), 'sfx-sshd-lab-'));
const pcap = join(work, 'sshd.pcap');
const REFUSED = 5;
const results: { kind: string; code: number; stderr: string }[] = [];

afterAll(async () => { await lab.cleanup(); rmSync(work, { recursive: true, force: true }); });

beforeAll(async () => {
  if (skip) return;
  builtModule('ssh_guard');
  const cli = await lab.addNamespace('cli');
  const srv = await lab.addNamespace('srv');
  const [c, s] = await lab.vethPair({ ns: cli, role: 'c' }, { ns: srv, role: 's' }, 34);
  for (const k of ['host', 'user']) await lab.execOk(cli, ['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', join(work, k)]);
  copyFileSync(join(work, 'user.pub'), join(work, 'authorized_keys'));
  writeFileSync(join(work, 'sshd_config'), [
    `ListenAddress ${s.addr}`, `HostKey ${join(work, 'host')}`, 'PermitRootLogin yes', 'PasswordAuthentication yes',
    'KbdInteractiveAuthentication no', 'UsePAM no', `AuthorizedKeysFile ${join(work, 'authorized_keys')}`, 'StrictModes no', 'MaxAuthTries 6',
  ].join('\n') + '\n');
  const askpass = join(work, 'askpass');
  writeFileSync(askpass, '#!/bin/sh\necho not-the-password\n');
  chmodSync(askpass, 0o755);
  // sshd needs its privilege-separation directory; a private /run keeps the host's untouched.
  await lab.spawn(srv, ['unshare', '-m', 'sh', '-c', `mount -t tmpfs none /run && mkdir /run/sshd && exec /usr/sbin/sshd -D -e -f ${join(work, 'sshd_config')} 2>&1`], 'Server listening', 10_000);
  const cap = await startCapture(cli, c.ifname, pcap);
  const base = ['-F', '/dev/null', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'ConnectTimeout=3'];
  const withKey = (cmd: string[]) => ['ssh', ...base, '-i', join(work, 'user'), '-o', 'BatchMode=yes', `root@${s.addr}`, ...cmd];
  const password = ['env', `SSH_ASKPASS=${askpass}`, 'SSH_ASKPASS_REQUIRE=force', 'DISPLAY=:0', 'setsid', 'ssh', ...base,
    '-o', 'PubkeyAuthentication=no', '-o', 'PreferredAuthentications=password', '-o', 'NumberOfPasswordPrompts=10', `root@${s.addr}`, 'true'];
  const runs: [string, string[]][] = [
    ['true', withKey(['true'])], ['true', withKey(['true'])], ['cat', withKey(['cat', '/etc/services'])],
    ...Array.from({ length: REFUSED }, () => ['refused', password] as [string, string[]]),
    ['true', withKey(['true'])],
  ];
  try {
    for (const [kind, argv] of runs) {
      const r = await lab.exec(cli, argv, { timeoutMs: 15_000 });
      results.push({ kind, code: r.code ?? -1, stderr: r.stderr });
    }
  } finally {
    await cap.stop();
  }
}, 180_000);

describe.skipIf(skip)('ssh_guard failed logins on real OpenSSH sessions', () => {
  it('the key logins succeeded and the password logins were refused by sshd', () => {
    expect(results.filter((r) => r.kind !== 'refused').map((r) => r.code)).toEqual([0, 0, 0, 0]);
    for (const r of results.filter((x) => x.kind === 'refused')) expect(r.stderr).toMatch(/Too many authentication failures|Permission denied/);
  });

  it('only the refused sessions count: the connection after the fifth is flagged with 5 failed logins', () => {
    const r = inspectPcap(pcap, 'ssh_guard', { max_connections: 100, max_failed_logins: REFUSED - 1, failed_login_action: 'alert' }, work);
    expect(r.stderr).not.toMatch(/E_MODULE|trap/i);
    const alerts = r.of('alert').map((e) => e.alert as { signature_id: number; metadata: Record<string, string[]> });
    expect(alerts.map((a) => [a.signature_id, a.metadata.failed_logins])).toEqual([[1004008, ['5']]]);
    expect(r.of('ssh')).toHaveLength(results.length);
  });

  it('with the signal off (the default) nothing is flagged', () => {
    const r = inspectPcap(pcap, 'ssh_guard', { max_connections: 100 }, work);
    expect(r.of('alert')).toEqual([]);
  });
});
