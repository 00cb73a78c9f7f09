// attach/detach with bad input: each case must fail with a clear error code,
// a non-zero exit, and change nothing — not the state files, not the pins,
// not what is attached to any interface.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireKernel } from './support/kernel.js';
import { labSkipReason } from './lab/gate.js';
import { setUpCliLab } from './lab/cli-lab.js';
import { NetLab, type VethEnd } from './lab/netns.js';
import { buildForeignXdp, xdpOnLink, type PrivateBpffs } from './lab/bpffs.js';
import { runOk, type RunResult } from './lab/run.js';

const kernel = requireKernel();
const labReason = kernel.skip ? null : labSkipReason();

interface Snapshot {
  state: Record<string, string>;
  pins: string[];
  links: Record<string, string>;
}

describe.skipIf(kernel.skip || labReason !== null).sequential('attach/detach bad input changes nothing', () => {
  const lab = new NetLab('bad');
  let ns = '';
  let ours: VethEnd; // secuxflow attached here before every case
  let foreign: VethEnd; // another tool's XDP program attached here
  let spare: VethEnd; // a second pair's end with nothing attached
  let foreignProg = '';
  let cli = '';
  let bpffs: PrivateBpffs;
  let stateDir = '';
  let plainDir = '';

  const run = (args: string[], opts: { env?: Record<string, string | undefined>; asNobody?: boolean } = {}): Promise<RunResult> => {
    const env: NodeJS.ProcessEnv = { ...process.env, SECUXFLOW_BPFFS_ROOT: bpffs.root };
    for (const [k, v] of Object.entries(opts.env ?? {})) {
      if (v === undefined) delete env[k];
      else env[k] = v;
    }
    const drop = opts.asNobody ? ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups'] : [];
    return lab.exec(ns, [...drop, process.execPath, cli, ...args, '--state-dir', stateDir], { env, timeoutMs: 30_000 });
  };

  const snapshot = async (): Promise<Snapshot> => {
    const state: Record<string, string> = {};
    for (const name of readdirSync(stateDir).sort()) state[name] = readFileSync(join(stateDir, name), 'utf8');
    const links: Record<string, string> = {};
    for (const end of [ours, foreign, spare]) {
      const prog = await xdpOnLink(ns, end.ifname);
      links[end.ifname] = prog ? `${prog.name}#${prog.id}/mode${prog.mode}` : 'none';
    }
    return { state, pins: bpffs.leftovers(), links };
  };

  /** Runs the command, checks the error, and checks that nothing changed. */
  const expectRefused = async (
    args: string[],
    want: { code: string; exit: number; message: RegExp; hint?: RegExp },
    opts: { env?: Record<string, string | undefined>; asNobody?: boolean } = {},
  ): Promise<void> => {
    const before = await snapshot();
    const r = await run(args, opts);
    expect(r.code, r.stderr).toBe(want.exit);
    expect(r.stderr).toContain(`error[${want.code}]`);
    expect(r.stderr).toMatch(want.message);
    if (want.hint) expect(r.stderr).toMatch(want.hint);
    expect(r.stdout).toBe('');
    expect(await snapshot()).toEqual(before);
  };

  beforeAll(async () => {
    ({ cli, stateDir, bpffs } = await setUpCliLab(lab));
    plainDir = mkdtempSync(join(tmpdir(), `sf-${lab.tag}-plain-`));
    lab.removeAtCleanup(plainDir);
    ns = await lab.addNamespace('n');
    [ours, foreign] = await lab.vethPair({ ns, role: 'o' }, { ns, role: 'f' }, 30);
    [spare] = await lab.vethPair({ ns, role: 's' }, { ns, role: 't' }, 31);

    const objDir = mkdtempSync(join(tmpdir(), `sf-${lab.tag}-obj-`));
    lab.removeAtCleanup(objDir);
    const f = await buildForeignXdp(objDir);
    foreignProg = f.progName;
    await runOk(['ip', '-n', ns, 'link', 'set', 'dev', foreign.ifname, 'xdpgeneric', 'obj', f.object, 'sec', 'xdp']);

    const r = await run(['attach', '--iface', ours.ifname, '--mode', 'skb', '--policy', 'deny']);
    expect(r.code, r.stderr).toBe(0);
  });

  afterAll(async () => {
    await lab.cleanup();
  });

  it('the baseline is in place: ours attached and pinned, the foreign program attached', async () => {
    const s = await snapshot();
    expect(s.links[ours.ifname]).toMatch(/^sf_xdp#/);
    expect(s.links[foreign.ifname]).toMatch(new RegExp(`^${foreignProg}#`));
    expect(s.links[spare.ifname]).toBe('none');
    expect(s.pins).toContain(`secuxflow/${ours.ifname}/sf_xdp`);
    expect(Object.keys(s.state)).toContain('attachments.json');
  });

  it('a missing interface: E_NO_IFACE listing the interfaces that exist', async () => {
    await expectRefused(['attach', '--iface', 'sfnosuch0'], {
      code: 'E_NO_IFACE',
      exit: 1,
      message: /"sfnosuch0" does not exist/,
      hint: new RegExp(`existing interfaces: .*${ours.ifname}`),
    });
  });

  it('a missing or malformed --iface: E_USAGE naming the flag', async () => {
    await expectRefused(['attach'], { code: 'E_USAGE', exit: 2, message: /--iface is required/ });
    await expectRefused(['attach', '--iface', '../etc'], { code: 'E_USAGE', exit: 2, message: /--iface "..\/etc" is not a valid interface name/ });
    await expectRefused(['attach', '--iface', 'a'.repeat(16)], { code: 'E_USAGE', exit: 2, message: /--iface .* is not a valid interface name/ });
    await expectRefused(['detach', '--iface', 'x y'], { code: 'E_USAGE', exit: 2, message: /--iface "x y"/ });
  });

  it('bad --mode, --policy and --fail values: E_USAGE naming the flag and the choices', async () => {
    await expectRefused(['attach', '--iface', spare.ifname, '--mode', 'turbo'], { code: 'E_USAGE', exit: 2, message: /--mode "turbo" is not one of native, skb, auto/ });
    await expectRefused(['attach', '--iface', spare.ifname, '--policy', 'maybe'], { code: 'E_USAGE', exit: 2, message: /--policy "maybe" is not one of allow, deny/ });
    await expectRefused(['attach', '--iface', ours.ifname, '--fail', 'sideways'], { code: 'E_USAGE', exit: 2, message: /--fail "sideways" is not one of open, closed/ });
  });

  it("another tool's XDP program: E_XDP_BUSY naming it and how to remove it", async () => {
    await expectRefused(['attach', '--iface', foreign.ifname], {
      code: 'E_XDP_BUSY',
      exit: 1,
      message: new RegExp(`another XDP program is attached to ${foreign.ifname}: "${foreignProg}" \\(id \\d+\\) in skb mode`),
      hint: new RegExp(`ip link set dev ${foreign.ifname} xdpgeneric off`),
    });
  });

  it('no bpffs at SECUXFLOW_BPFFS_ROOT: E_NO_BPFFS with the mount command', async () => {
    const root = join(plainDir, 'secuxflow');
    await expectRefused(['attach', '--iface', spare.ifname], {
      code: 'E_NO_BPFFS',
      exit: 1,
      message: new RegExp(`bpffs is not mounted at ${root}`),
      hint: new RegExp(`mount -t bpf bpf ${root}`),
    }, { env: { SECUXFLOW_BPFFS_ROOT: root } });
    expect(readdirSync(plainDir)).toEqual([]);
  });

  it('the default root inside ip netns exec (where /sys is remounted): E_NO_BPFFS explaining why', async () => {
    await expectRefused(['attach', '--iface', spare.ifname], {
      code: 'E_NO_BPFFS',
      exit: 1,
      message: /bpffs is not mounted at \/sys\/fs\/bpf\/secuxflow/,
      hint: /nsenter --net=\/run\/netns\/NS/,
    }, { env: { SECUXFLOW_BPFFS_ROOT: undefined } });
  });

  it('not root: E_NO_ROOT for attach and detach', async () => {
    await expectRefused(['attach', '--iface', spare.ifname], { code: 'E_NO_ROOT', exit: 1, message: /attach needs root/, hint: /sudo/ }, { asNobody: true });
    await expectRefused(['detach', '--iface', ours.ifname], { code: 'E_NO_ROOT', exit: 1, message: /detach needs root/, hint: /sudo/ }, { asNobody: true });
  });

  it('detach where secuxflow is not attached: E_NOT_ATTACHED', async () => {
    // The hint names what this state directory is attached to, so a wrong --state-dir shows.
    await expectRefused(['detach', '--iface', spare.ifname], { code: 'E_NOT_ATTACHED', exit: 1, message: new RegExp(`not attached to ${spare.ifname}`), hint: new RegExp(`hint: from .* it is attached to ${ours.ifname}; another state directory's attachments need its --state-dir`) });
    await expectRefused(['detach', '--iface', foreign.ifname], { code: 'E_NOT_ATTACHED', exit: 1, message: new RegExp(`not attached to ${foreign.ifname}`) });
  });

  it('a failure after load and pinning unwinds: native mode on lo (no driver XDP) leaves no pins behind', async () => {
    // lo has no native XDP, so this fails at the very last kernel step, after
    // the pin directory, the maps, the config and the rules were written.
    await expectRefused(['attach', '--iface', 'lo', '--mode', 'native'], { code: 'E_KERNEL', exit: 1, message: /lo cannot run XDP in native mode/, hint: /--mode skb/ });
  });

  it('an XDP object that is not built: E_NATIVE_MISSING, and the fresh pin directory is removed again', async () => {
    await expectRefused(['attach', '--iface', spare.ifname], { code: 'E_NATIVE_MISSING', exit: 1, message: /missing\.bpf\.o is not built/, hint: /build:native/ }, {
      env: { SECUXFLOW_XDP_OBJECT: join(plainDir, 'missing.bpf.o') },
    });
  });
});
