// The daemon with only the capabilities packaging/secuxflow@.service leaves
// it (CapabilityBoundingSet, read from the unit), and a control_group in its
// config: the unit had no CAP_CHOWN, so giving the control socket to the
// group failed with EPERM and the service never started.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireKernel } from './support/kernel.js';
import { labSkipReason } from './lab/gate.js';
import { REPO_ROOT } from './lab/build.js';
import { childEnded } from '../support/child-exit.js';
import { cliIn } from './lab/cli-lab.js';
import { NetLab } from './lab/netns.js';
import { prepareDaemonOnVeth, type DaemonVethLab } from './daemon-support.js';

const kernel = requireKernel();
const labReason = kernel.skip ? null : labSkipReason();
const capshMissing = (() => {
  try {
    execFileSync('capsh', ['--help'], { stdio: 'ignore' });
    return false;
  } catch {
    return true;
  }
})();
const SUBNET = 86;
// Linux capability numbers 0..40 (linux/capability.h); the index is the number.
const CAPS = ['chown', 'dac_override', 'dac_read_search', 'fowner', 'fsetid', 'kill', 'setgid', 'setuid', 'setpcap', 'linux_immutable',
  'net_bind_service', 'net_broadcast', 'net_admin', 'net_raw', 'ipc_lock', 'ipc_owner', 'sys_module', 'sys_rawio', 'sys_chroot', 'sys_ptrace',
  'sys_pacct', 'sys_admin', 'sys_boot', 'sys_nice', 'sys_resource', 'sys_time', 'sys_tty_config', 'mknod', 'lease', 'audit_write',
  'audit_control', 'setfcap', 'mac_override', 'mac_admin', 'syslog', 'wake_alarm', 'block_suspend', 'audit_read', 'perfmon', 'bpf', 'checkpoint_restore'];
const GID = 1;

function unitBoundingSet(): string[] {
  const unit = readFileSync(join(REPO_ROOT, 'packaging', 'secuxflow@.service'), 'utf8');
  const line = unit.split('\n').find((l) => l.startsWith('CapabilityBoundingSet='));
  return line!.slice('CapabilityBoundingSet='.length).trim().split(/\s+/).map((c) => c.toLowerCase().replace(/^cap_/, ''));
}

describe.skipIf(kernel.skip || labReason !== null || capshMissing).sequential('the daemon with the systemd unit\'s capabilities', () => {
  const lab = new NetLab('ucp');
  let d: DaemonVethLab;

  beforeAll(async () => {
    d = await prepareDaemonOnVeth(lab, SUBNET);
    writeFileSync(d.config, `modules: [basic_inspect]\ncontrol_group: ${GID}\n`);
  }, 240_000);

  afterAll(async () => {
    await lab.cleanup();
  });

  /** Starts the daemon under capsh with `drop`; resolves when it says it started (true) or exits (false). */
  const startWithout = async (drop: string): Promise<{ started: boolean; err: () => string; stop: () => Promise<number | null> }> => {
    const run = `exec ${process.execPath} ${d.cli} run --iface ${d.end.ifname} --mode skb --config ${d.config} --state-dir ${d.stateDir}`;
    const child = spawn('ip', ['netns', 'exec', d.end.ns, 'capsh', `--drop=${drop}`, '--', '-c', run], { stdio: ['ignore', 'ignore', 'pipe'], env: d.env });
    lab.onCleanup(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
    let err = '';
    child.stderr!.on('data', (b: Buffer) => { err += b.toString(); });
    const exited = childEnded(child).then((e) => e.code);
    const started = await Promise.race([
      new Promise<boolean>((resolve) => {
        const t = setInterval(() => { if (err.includes('"daemon started"')) { clearInterval(t); resolve(true); } }, 100);
        void exited.then(() => clearInterval(t));
      }),
      exited.then(() => false),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 60_000)),
    ]);
    return { started, err: () => err, stop: async () => { child.kill('SIGTERM'); return exited; } };
  };
  const unitDrops = (): string[] => {
    const keep = unitBoundingSet();
    expect(keep).toContain('bpf');
    return CAPS.filter((c) => !keep.includes(c)).map((c) => `cap_${c}`);
  };

  it('starts with control_group set, and the socket belongs to the group', async () => {
    const daemon = await startWithout(unitDrops().join(','));
    expect(daemon.started, daemon.err()).toBe(true);
    expect(statSync(join(d.stateDir, 'control.sock')).gid).toBe(GID);
    // Its members can run status, so alerts too: the EVE file is theirs to read.
    const eve = statSync(join(d.stateDir, 'eve.json'));
    expect({ gid: eve.gid, mode: eve.mode & 0o777 }).toEqual({ gid: GID, mode: 0o640 });
    const { ok } = cliIn(lab, () => ({ ns: d.end.ns, cli: d.cli, stateDir: d.stateDir, env: d.env }));
    expect((await ok('status')).stdout).toContain('daemon: running');
    expect(await daemon.stop()).toBe(0);
  }, 120_000);

  it('without CAP_CHOWN, control_group is refused with what the service lacks', async () => {
    const daemon = await startWithout([...unitDrops(), 'cap_chown'].join(','));
    expect(daemon.started).toBe(false);
    expect(daemon.err()).toMatch(/cannot give the control socket .*control\.sock to group 1: EPERM/);
    expect(daemon.err()).toMatch(/changing its group needs CAP_CHOWN/);
  }, 120_000);
});
