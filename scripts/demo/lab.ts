// The demo's network: a client namespace and the protected host's namespace,
// joined by one veth pair on 198.18.64.0/24 and 2001:db8:64::/64.
//
//   client ns                               host ns (the protected host)
//   alice   198.18.64.2   ┐                ┌ 198.18.64.1  web :80, DNS :53
//   mallory 198.18.64.66  ┴─ <tag>c ══ <tag>h ┘  secuxflow on <tag>h (host mode)
//
// Host mode means what it says: secuxflow protects the machine it runs on, so
// the web and DNS servers listen in the same namespace as the interface the
// XDP program and the daemon sit on; a packet that passes goes to that
// namespace's own stack. Every name carries a random tag, so two demos (or a
// demo and a test) never collide, and everything is registered for cleanup.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import type { Cleanup } from './cleanup.js';
import { runOk } from './proc.js';

export interface Lab {
  tag: string;
  clientNs: string;
  hostNs: string;
  /** The protected host's interface: where XDP and the daemon sit. */
  hostIf: string;
  clientIf: string;
  hostAddr: string;
  hostAddr6: string;
  /** The benign client. */
  alice: string;
  alice6: string;
  /** The attacker, a second address in the client namespace. */
  mallory: string;
  /** Scratch directory: state dir, captures, logs. Removed at cleanup. */
  work: string;
  stateDir: string;
  /** SECUXFLOW_BPFFS_ROOT for every secuxflow command of the demo. */
  bpffsRoot: string;
  /** Paths still under the bpffs root, listed just before it is unmounted. */
  leftoverPins(): string[];
  /** What leftoverPins() said during cleanup, after detach and before the unmount (null until then). */
  pinsAtTeardown: string[] | null;
}

const SUBNET = '198.18.64';
const SUBNET6 = '2001:db8:64';

export async function buildLab(cleanup: Cleanup, opts: { bpffsRoot?: string } = {}): Promise<Lab> {
  const tag = randomBytes(2).toString('hex');
  const name = `sfdemo-${tag}`;
  const lab: Lab = {
    tag: name,
    clientNs: `${name}-client`,
    hostNs: `${name}-host`,
    hostIf: `sfd${tag}h`,
    clientIf: `sfd${tag}c`,
    hostAddr: `${SUBNET}.1`,
    hostAddr6: `${SUBNET6}::1`,
    alice: `${SUBNET}.2`,
    alice6: `${SUBNET6}::2`,
    mallory: `${SUBNET}.66`,
    work: join('/tmp', name),
    stateDir: join('/tmp', name, 'state'),
    bpffsRoot: '',
    leftoverPins: () => [],
    pinsAtTeardown: null,
  };

  mkdirSync(lab.stateDir, { recursive: true, mode: 0o700 });
  cleanup.add(`remove ${lab.work}`, () => rmSync(lab.work, { recursive: true, force: true }));

  // A private bpffs outside /sys: `ip netns exec` remounts /sys (hiding
  // /sys/fs/bpf), and a private instance lets us prove nothing stays pinned.
  if (opts.bpffsRoot) {
    lab.bpffsRoot = opts.bpffsRoot;
  } else {
    const mount = join('/run', name, 'bpffs');
    mkdirSync(mount, { recursive: true, mode: 0o700 });
    cleanup.add(`remove /run/${name}`, () => rmSync(join('/run', name), { recursive: true, force: true }));
    await runOk(['mount', '-t', 'bpf', 'bpf', mount]);
    cleanup.add(`unmount ${mount}`, () => {
      execFileSync('umount', ['-l', mount], { stdio: 'ignore', timeout: 10_000 });
      rmdirSync(mount);
    });
    lab.bpffsRoot = join(mount, 'secuxflow');
  }
  lab.leftoverPins = () => walk(lab.bpffsRoot, '');
  // Runs after every later step (detach, namespaces) and before the unmount.
  cleanup.add('list leftover pins', () => {
    lab.pinsAtTeardown = lab.leftoverPins();
  });

  for (const ns of [lab.clientNs, lab.hostNs]) {
    await runOk(['ip', 'netns', 'add', ns]);
    cleanup.add(`delete namespace ${ns}`, () => execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore', timeout: 10_000 }));
    await runOk(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  }
  await runOk(['ip', 'link', 'add', lab.clientIf, 'netns', lab.clientNs, 'type', 'veth', 'peer', 'name', lab.hostIf, 'netns', lab.hostNs]);
  // Deleting a namespace deletes its veth end and so the pair; this is for a namespace that refuses to go.
  cleanup.add(`delete link ${lab.hostIf}`, () => execFileSync('ip', ['-n', lab.hostNs, 'link', 'del', lab.hostIf], { stdio: 'ignore', timeout: 10_000 }));

  const addrs: [string, string, string][] = [
    [lab.hostNs, lab.hostIf, `${lab.hostAddr}/24`],
    [lab.hostNs, lab.hostIf, `${lab.hostAddr6}/64`],
    [lab.clientNs, lab.clientIf, `${lab.alice}/24`],
    [lab.clientNs, lab.clientIf, `${lab.mallory}/24`],
    [lab.clientNs, lab.clientIf, `${lab.alice6}/64`],
  ];
  for (const [ns, dev, addr] of addrs) {
    // nodad: IPv6 addresses are usable at once instead of after duplicate detection
    await runOk(['ip', '-n', ns, 'addr', 'add', addr, 'dev', dev, ...(addr.includes(':') ? ['nodad'] : [])]);
  }
  for (const [ns, dev] of [[lab.hostNs, lab.hostIf], [lab.clientNs, lab.clientIf]] as const) {
    await runOk(['ip', '-n', ns, 'link', 'set', dev, 'up']);
  }
  return lab;
}

/** argv that runs `argv` inside a namespace. */
export function inNs(ns: string, argv: readonly string[]): string[] {
  return ['ip', 'netns', 'exec', ns, ...argv];
}

function walk(base: string, rel: string): string[] {
  let names: string[];
  try {
    names = readdirSync(rel ? join(base, rel) : base).sort();
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const n of names) {
    const p = rel ? `${rel}/${n}` : n;
    out.push(p, ...walk(base, p));
  }
  return out;
}
