// The benchmark's network lab: a sender namespace and a receiver namespace on
// one veth pair (198.18.60.0/24), a second pair from the receiver to a sink
// namespace (inline mode's way out: frames forwarded there are for another
// MAC, so the sink's stack drops them at once, as a wire would take them),
// a private bpffs for the pins, and a cleanup list run newest first on every
// exit path (normal end, error, Ctrl-C).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface BenchLab {
  tag: string;
  work: string;
  senderNs: string;
  receiverNs: string;
  senderIf: string;
  receiverIf: string;
  /** Inline mode: the receiver's second interface, towards the sink namespace. */
  peerIf: string;
  sinkNs: string;
  senderAddr: string;
  receiverAddr: string;
  receiverMac: string;
  /** SECUXFLOW_BPFFS_ROOT for the CLI: inside the lab's private bpffs. */
  bpffsRoot: string;
  /** Runs argv in a namespace to completion (bounded); throws with its output on failure. */
  exec(ns: string, argv: string[], opts?: { timeoutMs?: number; env?: NodeJS.ProcessEnv }): string;
  /** Starts argv in a namespace; killed at cleanup if still running. */
  spawn(ns: string, argv: string[], env?: NodeJS.ProcessEnv): ChildProcess;
  onCleanup(fn: () => void): void;
  cleanup(): void;
}

const sh = (argv: string[], timeoutMs = 20_000, env?: NodeJS.ProcessEnv): string =>
  execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: timeoutMs, env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });

export function createLab(): BenchLab {
  const tag = `sfbl${randomBytes(3).toString('hex').slice(0, 5)}`;
  const undo: Array<() => void> = [];
  const children = new Set<ChildProcess>();
  const quiet = (fn: () => void): void => {
    try {
      fn();
    } catch {
      // teardown is best effort: the object may already be gone
    }
  };
  let cleaned = false;
  const cleanup = (): void => {
    if (cleaned) return;
    cleaned = true;
    for (const c of children) quiet(() => c.kill('SIGKILL'));
    while (undo.length) quiet(undo.pop()!);
  };
  process.once('exit', cleanup);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      cleanup();
      process.exit(130);
    });
  }
  try {
    const work = mkdtempSync(join(tmpdir(), `${tag}-`));
    undo.push(() => rmSync(work, { recursive: true, force: true }));
    const mount = join(work, 'bpffs');
    sh(['mkdir', '-p', mount]);
    sh(['mount', '-t', 'bpf', 'bpf', mount]);
    undo.push(() => sh(['umount', '-l', mount]));
    const senderNs = `${tag}s`;
    const receiverNs = `${tag}r`;
    const sinkNs = `${tag}k`;
    for (const ns of [senderNs, receiverNs, sinkNs]) {
      sh(['ip', 'netns', 'add', ns]);
      undo.push(() => sh(['ip', 'netns', 'del', ns]));
      sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    }
    const senderIf = `${tag}sv`;
    const receiverIf = `${tag}rv`;
    sh(['ip', 'link', 'add', senderIf, 'netns', senderNs, 'type', 'veth', 'peer', 'name', receiverIf, 'netns', receiverNs]);
    undo.push(() => sh(['ip', '-n', senderNs, 'link', 'del', senderIf]));
    const senderAddr = '198.18.60.1';
    const receiverAddr = '198.18.60.2';
    sh(['ip', '-n', senderNs, 'addr', 'add', `${senderAddr}/24`, 'dev', senderIf]);
    sh(['ip', '-n', receiverNs, 'addr', 'add', `${receiverAddr}/24`, 'dev', receiverIf]);
    sh(['ip', '-n', senderNs, 'link', 'set', senderIf, 'up']);
    sh(['ip', '-n', receiverNs, 'link', 'set', receiverIf, 'up']);
    const peerIf = `${tag}pv`;
    const sinkIf = `${tag}kv`;
    sh(['ip', 'link', 'add', peerIf, 'netns', receiverNs, 'type', 'veth', 'peer', 'name', sinkIf, 'netns', sinkNs]);
    undo.push(() => sh(['ip', '-n', receiverNs, 'link', 'del', peerIf]));
    sh(['ip', '-n', receiverNs, 'link', 'set', peerIf, 'up']);
    sh(['ip', '-n', sinkNs, 'link', 'set', sinkIf, 'up']);
    const link = JSON.parse(sh(['ip', '-n', receiverNs, '-j', 'link', 'show', 'dev', receiverIf])) as Array<{ address: string }>;
    return {
      tag,
      work,
      senderNs,
      receiverNs,
      senderIf,
      receiverIf,
      peerIf,
      sinkNs,
      senderAddr,
      receiverAddr,
      receiverMac: link[0]!.address,
      bpffsRoot: join(mount, 'secuxflow'),
      exec: (ns, argv, opts) => sh(['ip', 'netns', 'exec', ns, ...argv], opts?.timeoutMs ?? 20_000, opts?.env),
      spawn: (ns, argv, env) => {
        const c = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
        children.add(c);
        c.once('exit', () => children.delete(c));
        return c;
      },
      onCleanup: (fn) => undo.push(fn),
      cleanup,
    };
  } catch (e) {
    cleanup();
    throw e;
  }
}
