// Network-namespace lab for kernel tests: namespaces, veth pairs with
// 198.18.0.0/15 addresses, commands run inside a namespace, and one registry
// that tears all of it down, also when a test fails or the worker exits.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { run, runOk, spawnUntil, type RunOptions, type RunResult } from './run.js';

export interface VethEnd {
  ns: string;
  ifname: string;
  /** Address without prefix length, e.g. "198.18.7.1". */
  addr: string;
}

type Undo = () => void;

// A last resort: vitest workers exit normally after afterAll, but a crash or
// a timeout must not leave namespaces behind on the machine.
const liveLabs = new Set<NetLab>();
process.once('exit', () => {
  for (const lab of liveLabs) lab.cleanupSync();
});

export class NetLab {
  /** Short random tag that makes every name this lab creates unique. */
  readonly tag: string;
  private readonly undo: Undo[] = [];
  private readonly children = new Set<ChildProcess>();

  constructor(readonly prefix: string) {
    // interface names are limited to 15 bytes: "sf" + 3-char prefix + 5 hex + 3-char role fits
    if (!/^[a-z]{1,3}$/.test(prefix)) throw new Error(`lab prefix must be 1-3 lowercase letters: ${prefix}`);
    this.tag = `${prefix}${randomBytes(3).toString('hex').slice(0, 5)}`;
    liveLabs.add(this);
  }

  /** Name for a lab object; `role` is at most 4 chars so link names stay within IFNAMSIZ. */
  name(role: string): string {
    const n = `sf${this.tag}${role}`;
    if (n.length > 15) throw new Error(`lab name too long for an interface: ${n}`);
    return n;
  }

  async addNamespace(role: string): Promise<string> {
    const ns = this.name(role);
    await runOk(['ip', 'netns', 'add', ns]);
    this.undo.push(() => ignore(() => execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore', timeout: 10_000 })));
    await runOk(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    return ns;
  }

  /**
   * Connects two namespaces with a veth pair on 198.18.<subnet>.0/24:
   * a gets .1, b gets .2. Deleting either namespace removes the pair too,
   * but the pair is also deleted on its own in case a namespace survives.
   */
  async vethPair(a: { ns: string; role: string }, b: { ns: string; role: string }, subnet: number): Promise<[VethEnd, VethEnd]> {
    if (!Number.isInteger(subnet) || subnet < 0 || subnet > 255) throw new Error(`subnet must be 0..255: ${subnet}`);
    const ifA = this.name(a.role);
    const ifB = this.name(b.role);
    await runOk(['ip', 'link', 'add', ifA, 'netns', a.ns, 'type', 'veth', 'peer', 'name', ifB, 'netns', b.ns]);
    this.undo.push(() => ignore(() => execFileSync('ip', ['-n', a.ns, 'link', 'del', ifA], { stdio: 'ignore', timeout: 10_000 })));
    const ends: [VethEnd, VethEnd] = [
      { ns: a.ns, ifname: ifA, addr: `198.18.${subnet}.1` },
      { ns: b.ns, ifname: ifB, addr: `198.18.${subnet}.2` },
    ];
    for (const end of ends) {
      await runOk(['ip', '-n', end.ns, 'addr', 'add', `${end.addr}/24`, 'dev', end.ifname]);
      await runOk(['ip', '-n', end.ns, 'link', 'set', end.ifname, 'up']);
    }
    return ends;
  }

  /** Runs argv inside a namespace; bounded by opts.timeoutMs (default 20 s). */
  exec(ns: string, argv: readonly string[], opts?: RunOptions): Promise<RunResult> {
    return run(['ip', 'netns', 'exec', ns, ...argv], opts);
  }

  execOk(ns: string, argv: readonly string[], opts?: RunOptions): Promise<RunResult> {
    return runOk(['ip', 'netns', 'exec', ns, ...argv], opts);
  }

  /** A veth end's MAC address (aa:bb:...) and MTU, as `ip -j link` reports them. */
  async link(end: VethEnd): Promise<{ address: string; mtu: number }> {
    const r = await this.execOk(end.ns, ['ip', '-j', 'link', 'show', 'dev', end.ifname]);
    return (JSON.parse(r.stdout) as Array<{ address: string; mtu: number }>)[0]!;
  }

  /** Starts a server inside a namespace; it is killed at cleanup. */
  async spawn(ns: string, argv: readonly string[], ready: string, timeoutMs?: number): Promise<ChildProcess> {
    const child = await spawnUntil(['ip', 'netns', 'exec', ns, ...argv], ready, timeoutMs);
    this.children.add(child);
    return child;
  }

  /** Registers extra teardown (a bpffs directory, a state dir...) run in reverse order. */
  onCleanup(fn: Undo): void {
    this.undo.push(() => ignore(fn));
  }

  /** Removes a directory tree at cleanup (state dirs, bpffs pin roots). */
  removeAtCleanup(path: string): void {
    this.onCleanup(() => rmSync(path, { recursive: true, force: true }));
  }

  async cleanup(): Promise<void> {
    this.cleanupSync();
  }

  cleanupSync(): void {
    for (const child of this.children) ignore(() => child.kill('SIGKILL'));
    this.children.clear();
    while (this.undo.length > 0) this.undo.pop()!();
    liveLabs.delete(this);
  }
}

function ignore(fn: () => void): void {
  try {
    fn();
  } catch {
    // teardown is best effort: the object may already be gone
  }
}
