// One registry of everything the demo creates (namespaces, mounts, child
// processes, temp dirs). Undo steps run in reverse order exactly once: at the
// end of a normal run, on failure, and on SIGINT/SIGTERM/SIGHUP, so Ctrl-C
// never leaves a namespace, an XDP program or a pin behind.
import { execFileSync, type ChildProcess } from 'node:child_process';

type Undo = { what: string; fn: () => void };

export class Cleanup {
  private readonly undo: Undo[] = [];
  private readonly children = new Set<ChildProcess>();
  private done = false;
  /** Problems met while undoing, reported in the summary (teardown never throws). */
  readonly problems: string[] = [];

  /** Registers a teardown step; `what` names it in problem reports. */
  add(what: string, fn: () => void): void {
    this.undo.push({ what, fn });
  }

  /** Tracks a child process: it is killed (TERM, then KILL) before the undo steps run. */
  track(child: ChildProcess): ChildProcess {
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  get finished(): boolean {
    return this.done;
  }

  /** Synchronous so it also works from signal handlers and process 'exit'. */
  runAll(): void {
    if (this.done) return;
    this.done = true;
    stopChildren([...this.children]);
    this.children.clear();
    while (this.undo.length > 0) {
      const step = this.undo.pop()!;
      try {
        step.fn();
      } catch (e) {
        this.problems.push(`${step.what}: ${(e as Error).message.split('\n')[0]}`);
      }
    }
  }

  /**
   * Runs the registry on SIGINT/SIGTERM/SIGHUP and on exit. `onSignal` gets to
   * print a line first; the process then exits with 128 + signal number.
   */
  installSignalHandlers(onSignal: (sig: NodeJS.Signals) => void): void {
    const numbers: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.on(sig, () => {
        if (this.done) return;
        onSignal(sig);
        this.runAll();
        process.exit(128 + (numbers[sig] ?? 0));
      });
    }
    process.once('exit', () => this.runAll());
  }
}

/** SIGTERM to every child's process group, a short grace, then SIGKILL. */
function stopChildren(children: ChildProcess[]): void {
  const alive = children.filter((c) => c.exitCode === null && c.signalCode === null && c.pid !== undefined);
  for (const c of alive) signal(c, 'SIGTERM');
  const deadline = Date.now() + 1500;
  while (Date.now() < deadline && alive.some((c) => isAlive(c.pid!))) sleepSync(50);
  for (const c of alive) if (isAlive(c.pid!)) signal(c, 'SIGKILL');
}

function signal(c: ChildProcess, sig: NodeJS.Signals): void {
  // Children are spawned detached (their own process group), so the group
  // takes `ip netns exec`'s grandchildren along.
  try {
    process.kill(-c.pid!, sig);
  } catch {
    try {
      c.kill(sig);
    } catch {
      // already gone
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // a zombie still "exists" until reaped; /proc tells us it is finished
    try {
      return !execFileSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' }).trim().startsWith('Z');
    } catch {
      return false;
    }
  } catch {
    return false;
  }
}

export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
