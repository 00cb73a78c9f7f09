// The live daemon with ssh_guard against a real OpenSSH server and client:
// `secuxflow run` in host mode on the server side of a veth pair, an sshd the
// test starts in the server namespace (its own config, host key and pid file
// in a temp dir), and `ssh` from the client namespace. Checks the `ssh` event
// carries the client's real banner (host mode sees ingress only, so never the
// server's) and the flow is allowed in XDP once the key exchange starts, then a
// burst of connections over max_connections: sid 1004001, the source in the
// kernel's penalty box, its new connections dropped in XDP until the ttl ends.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { requireKernel } from './support/kernel.js';
import { labSkipReason } from './lab/gate.js';
import { cliIn } from './lab/cli-lab.js';
import { NetLab } from './lab/netns.js';
import { setUpClientServerLab, type ClientServerLab } from './support/veth-labs.js';
import { runOk, type RunResult } from './lab/run.js';
import { readEve, sleep, startHostDaemon, until, type DaemonProc, type PinnedMaps } from './daemon-support.js';
import { moduleLabSkip } from '../modules/lab/gate.js';
import { SfStage, SfStat, type FlowKey } from '../../host/kernel/codec.js';
import { parseIp } from '../../host/packet/addr.js';

const kernel = requireKernel();
const labReason = kernel.skip ? null : labSkipReason();
// sshd is started by the test; under CI=true a missing one fails the file.
const sshSkip = kernel.skip || labReason !== null ? true : moduleLabSkip(['/usr/sbin/sshd', 'ssh', 'ssh-keygen']);
const SUBNET = 64;
/** A second client address for the brute force, so its penalty leaves the first test's source alone. */
const BRUTE = `198.18.${SUBNET}.5`;
const MAX_CONNECTIONS = 3;
const WINDOW_S = 10; // room for the burst of real ssh logins on a loaded machine
const BLOCK_TTL = 12; // longer than the window: once the block ends, the window has forgotten the burst

type Ev = Record<string, unknown>;
interface SshSide { proto_version?: string; software_version?: string; comments?: string }

describe.skipIf(sshSkip).sequential('secuxflow run with ssh_guard on a real sshd and ssh client', () => {
  const lab = new NetLab('dsh');
  let c: ClientServerLab;
  let sshDir = '';
  let daemon: DaemonProc;
  let maps: PinnedMaps;
  let sshd: ChildProcess | undefined;
  let sshdLog = '';

  const { ok: secuxflow } = cliIn(lab, () => ({ ...c, ns: c.server.ns }));
  const key = (src: string, sport: number): FlowKey => ({ src: parseIp(src), dst: parseIp(c.server.addr), sport, dport: 22, vlanOuter: 0, vlanInner: 0, proto: 6 });
  const eve = (): Ev[] => readEve(c.stateDir);
  const sshEvents = (src: string): Ev[] => eve().filter((e) => e.event_type === 'ssh' && e.src_ip === src);
  const common = ['-v', '-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null'];
  /** A brute-force attempt from BRUTE: no credentials, so the login fails after the banners and the key exchange. */
  const attempt = (connectTimeout: number): Promise<RunResult> =>
    lab.exec(c.client.ns, ['ssh', ...common, '-o', `ConnectTimeout=${connectTimeout}`, '-o', 'PubkeyAuthentication=no', '-o', 'PasswordAuthentication=no',
      '-o', 'KbdInteractiveAuthentication=no', '-b', BRUTE, `lab@${c.server.addr}`, 'true'], { timeoutMs: 15_000 });
  /** ssh -v says this once it has read the server's identification line. */
  const sawBanner = (r: RunResult): boolean => /remote software version OpenSSH_/.test(r.stderr);

  beforeAll(async () => {
    c = await setUpClientServerLab(lab, SUBNET, { daemon: true });
    await runOk(['ip', '-n', c.client.ns, 'addr', 'add', `${BRUTE}/24`, 'dev', c.client.ifname]);

    // sshd: its own host key, config and pid file; root may log in with the test's key only.
    sshDir = mkdtempSync(join(c.stateDir, 'sshd-'));
    await runOk(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', join(sshDir, 'host_ed25519')]);
    await runOk(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', join(sshDir, 'client_ed25519')]);
    writeFileSync(join(sshDir, 'authorized_keys'), readFileSync(join(sshDir, 'client_ed25519.pub')));
    const conf = join(sshDir, 'sshd_config');
    writeFileSync(conf, [
      `ListenAddress ${c.server.addr}`, 'Port 22',
      `HostKey ${join(sshDir, 'host_ed25519')}`, `PidFile ${join(sshDir, 'sshd.pid')}`,
      'UsePAM no', `AuthorizedKeysFile ${join(sshDir, 'authorized_keys')}`,
      // the temp dir sits under /tmp, which StrictModes would reject as group/world-writable
      'StrictModes no', 'PermitRootLogin prohibit-password', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no',
      'PrintMotd no', 'LogLevel VERBOSE', '',
    ].join('\n'));
    // The privilege-separation directory: made by the init script or systemd, neither of which runs here.
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    await lab.execOk(c.server.ns, ['/usr/sbin/sshd', '-t', '-f', conf]);
    // sshd -D -e logs to stderr; the lab waits for its ready line on stdout.
    sshd = await lab.spawn(c.server.ns, ['sh', '-c', `exec /usr/sbin/sshd -D -e -f '${conf}' 2>&1`], 'Server listening on', 10_000);
    sshd.stdout!.on('data', (b: Buffer) => { sshdLog += b.toString(); });

    const guardConfig = join(c.stateDir, 'ssh_guard.json');
    writeFileSync(guardConfig, JSON.stringify({ max_connections: MAX_CONNECTIONS, window_s: WINDOW_S, block_ttl: BLOCK_TTL }));
    const configPath = join(c.stateDir, 'daemon.yaml');
    writeFileSync(configPath, `modules:\n  - name: ssh_guard\n    config: ${guardConfig}\nexpiry_interval: 1\n`);
    await secuxflow('rule', 'add', '--action', 'inspect', '--proto', 'tcp', '--port', '22', '--module', 'ssh_guard');
    ({ daemon, maps } = await startHostDaemon(lab, c, configPath));
  }, 240_000);

  afterAll(async () => {
    if (sshd && sshd.exitCode === null && sshd.signalCode === null) {
      const gone = new Promise<void>((resolve) => sshd!.once('exit', () => resolve()));
      sshd.kill('SIGTERM');
      await Promise.race([gone, sleep(3000)]);
    }
    await lab.cleanup(); // SIGKILLs sshd and the daemon if still there, then namespaces, links, pins
  });

  it('a login over ssh: the ssh event has the client\'s real banner, and once the key exchange starts the flow is allowed in XDP', async () => {
    // The session stays open 2 s after the banners, so its later packets come after the flow was decided.
    const session = lab.exec(c.client.ns, ['ssh', ...common, '-o', 'ConnectTimeout=2', '-i', join(sshDir, 'client_ed25519'), '-o', 'IdentitiesOnly=yes',
      `root@${c.server.addr}`, 'echo sf-start; sleep 2; echo sf-end'], { timeoutMs: 20_000 });
    const event = await until(() => sshEvents(c.client.addr)[0], 5000);
    expect(event, `no ssh event; eve: ${JSON.stringify(eve())} punts=${maps.punts()} flows=${maps.flowCount()}\nsshd:\n${sshdLog}\ndaemon:\n${daemon.stderr()}`).toBeDefined();
    const sport = event!.src_port as number;
    expect(event).toMatchObject({ dest_ip: c.server.addr, dest_port: 22, proto: 'TCP' });
    const entry = await until(() => maps.flow(key(c.client.addr, sport)), 2500);
    expect(entry?.verdict).toBe(1); // SF_FLOW_ALLOW: the client's banner read and its key exchange started, the rest is encrypted
    await sleep(300);
    const punts = maps.punts();
    const packets = maps.flow(key(c.client.addr, sport))!.packets;

    const r = await session;
    expect(r.code, `ssh:\n${r.stderr}\nsshd:\n${sshdLog}`).toBe(0);
    expect(r.stdout).toBe('sf-start\nsf-end\n');
    // The rest of the session (output, channel close, FINs) went through the flow entry, none of it punted.
    expect(maps.punts()).toBe(punts);
    expect(maps.flow(key(c.client.addr, sport))!.packets).toBeGreaterThan(packets);

    // The banners as the OpenSSH client itself reports them.
    const local = /Local version string SSH-(\S+?)-(\S+)(?: (.+))?\r?$/m.exec(r.stderr);
    const remote = /Remote protocol version (\S+), remote software version (\S+)(?: (.+))?\r?$/m.exec(r.stderr);
    expect(local, r.stderr).not.toBeNull();
    expect(remote, r.stderr).not.toBeNull();
    const ssh = event!.ssh as { client: SshSide; server: SshSide };
    // Host mode inspects ingress only: the server's banner (which ssh -v saw) never reaches the module.
    expect(remote![2]).toMatch(/^OpenSSH_/);
    expect(ssh.server).toEqual({});
    expect(ssh.client.software_version).toMatch(/^OpenSSH_/);
    expect(ssh.client).toEqual({ proto_version: local![1], software_version: local![2], ...(local![3] ? { comments: local![3].trim() } : {}) });
    // Real OpenSSH banners are not odd: no alert for this source.
    expect(eve().filter((e) => e.event_type === 'alert' && e.src_ip === c.client.addr)).toEqual([]);
  });

  it(`more than ${MAX_CONNECTIONS} connections in the window: sid 1004001, the source dropped in XDP until the ttl ends, then ssh works again`, async () => {
    const started = Date.now();
    for (let i = 0; i < MAX_CONNECTIONS; i++) {
      const r = await attempt(2);
      expect(sawBanner(r), `attempt ${i + 1}:\n${r.stderr}`).toBe(true);
      expect(r.stderr).toMatch(/Permission denied/);
    }
    expect(Date.now() - started, 'the burst must fit in the window').toBeLessThan(WINDOW_S * 1000);
    expect(sshEvents(BRUTE)).toHaveLength(MAX_CONNECTIONS);
    expect(maps.penaltyCount()).toBe(0);

    // The next one trips the window: its SYN is blocked by the module, its retransmissions by the penalty box.
    const over = await attempt(1);
    expect(sawBanner(over), over.stderr).toBe(false);
    expect(over.code).toBe(255);
    expect(await until(() => maps.penaltyCount() === 1, 2500)).toBe(true);
    const alert = await until(() => eve().find((e) => e.event_type === 'alert' && e.src_ip === BRUTE), 2500);
    expect(alert).toMatchObject({ dest_port: 22, alert: { signature_id: 1004001, action: 'blocked' } });
    expect((alert!.alert as { metadata: Record<string, string[]> }).metadata).toMatchObject({ action: ['block_src'], block_ttl: [String(BLOCK_TTL)] });

    // A new connection from that source now never reaches sshd: dropped by the penalty stage, not punted.
    await sleep(200);
    const penaltyHits = maps.stat(SfStat.STAGE_BASE + SfStage.PENALTY);
    const drops = maps.stat(SfStat.DROP);
    const punts = maps.punts();
    const blocked = await attempt(1);
    expect(sawBanner(blocked), blocked.stderr).toBe(false);
    expect(blocked.stderr).toMatch(/timed out/);
    expect(maps.stat(SfStat.STAGE_BASE + SfStage.PENALTY)).toBeGreaterThan(penaltyHits);
    expect(maps.stat(SfStat.DROP)).toBeGreaterThan(drops);
    expect(maps.punts()).toBe(punts);
    expect(sshEvents(BRUTE)).toHaveLength(MAX_CONNECTIONS);

    // The first client address is not affected.
    const other = await lab.exec(c.client.ns, ['ssh', ...common, '-o', 'ConnectTimeout=2', '-o', 'PubkeyAuthentication=no', `lab@${c.server.addr}`, 'true'], { timeoutMs: 15_000 });
    expect(sawBanner(other), other.stderr).toBe(true);

    // block_ttl, then the expiry walk (every second) empties the box; the window is shorter than the ttl.
    expect(await until(() => maps.penaltyCount() === 0, (BLOCK_TTL + 4) * 1000, 200)).toBe(true);
    const back = await attempt(2);
    expect(sawBanner(back), `${back.stderr}\ndaemon:\n${daemon.stderr()}`).toBe(true);
    expect(back.stderr).toMatch(/Permission denied/);
    expect(await until(() => sshEvents(BRUTE).length === MAX_CONNECTIONS + 1, 2500)).toBe(true);
    expect(maps.penaltyCount()).toBe(0);
  });
});
