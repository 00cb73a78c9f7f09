// Bounded child processes: every command has a time limit, and long-running
// ones (servers, the daemon, tcpdump) are tracked by the cleanup registry.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import type { Cleanup } from './cleanup.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
  timedOut: boolean;
}

export interface RunOptions {
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

let tracker: Cleanup | null = null;

/** Makes every run() child known to the cleanup registry, so Ctrl-C also stops a client mid-step. */
export function trackRuns(cleanup: Cleanup): void {
  tracker = cleanup;
}

/** Runs argv to completion; never throws on a non-zero exit. */
export function run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const [file, ...args] = argv;
  if (!file) throw new Error('run: empty argv');
  const t0 = Date.now();
  const timeout = opts.timeoutMs ?? 20_000;
  return new Promise((resolve) => {
    const child = execFile(file, args, { timeout, env: opts.env ?? process.env, maxBuffer: 32 * 1024 * 1024, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      const timedOut = !!err && (err as { killed?: boolean }).killed === true;
      const code = err ? (typeof err.code === 'number' ? err.code : timedOut ? 124 : 127) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr), ms: Date.now() - t0, timedOut });
    });
    tracker?.track(child);
    child.stdin?.end();
  });
}

export async function runOk(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await run(argv, opts);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} exited ${r.code}: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`);
  return r;
}

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  /** Resolve once this text appears on stdout or stderr; null: as soon as it is spawned. */
  ready: string | RegExp | null;
  timeoutMs?: number;
  /** Every stdout/stderr line after start (the daemon's log). */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
}

/**
 * Starts a long-running process in its own process group (so cleanup can
 * signal `ip netns exec`'s child too) and resolves when it is ready.
 */
export function spawnTracked(cleanup: Cleanup, argv: readonly string[], opts: SpawnOptions): Promise<ChildProcess> {
  const [file, ...args] = argv;
  if (!file) throw new Error('spawnTracked: empty argv');
  const timeoutMs = opts.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const child = cleanup.track(spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env, detached: true }));
    let seen = '';
    let ready = false;
    const timer = setTimeout(() => {
      if (!ready) reject(new Error(`${argv.slice(0, 6).join(' ')} was not ready within ${timeoutMs} ms: ${tail(seen)}`));
    }, timeoutMs);
    const want = opts.ready;
    const matches = (s: string): boolean => (want === null ? true : typeof want === 'string' ? s.includes(want) : want.test(s));
    if (want === null) child.once('spawn', () => {
      ready = true;
      clearTimeout(timer);
      resolve(child);
    });
    for (const stream of ['stdout', 'stderr'] as const) {
      let partial = '';
      child[stream]!.on('data', (b: Buffer) => {
        const text = b.toString();
        if (!ready) {
          seen += text;
          if (matches(seen)) {
            ready = true;
            clearTimeout(timer);
            resolve(child);
          }
        }
        if (opts.onLine) {
          partial += text;
          const lines = partial.split('\n');
          partial = lines.pop()!;
          for (const l of lines) opts.onLine(l, stream);
        }
      });
    }
    child.once('exit', (code, sig) => {
      clearTimeout(timer);
      if (!ready) reject(new Error(`${argv.slice(0, 6).join(' ')} exited (${code ?? sig}) before it was ready: ${tail(seen)}`));
    });
  });
}

function tail(s: string): string {
  return s.trim().split('\n').slice(-5).join(' | ');
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
