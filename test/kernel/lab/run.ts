// Bounded child processes for the kernel lab: every command has a time limit,
// so a hung tool fails a test instead of hanging the suite.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { childEnded } from '../../support/child-exit.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  input?: string;
  cwd?: string;
}

/** Runs argv to completion; never throws on a non-zero exit (callers assert on `code`). */
export function run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const [file, ...args] = argv;
  if (!file) throw new Error('run: empty argv');
  return new Promise((resolve) => {
    const child = execFile(
      file,
      args,
      { cwd: opts.cwd, timeout: opts.timeoutMs ?? 20_000, env: opts.env ?? process.env, maxBuffer: 16 * 1024 * 1024, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : err.killed ? 124 : 127) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) + (err && err.killed ? `\n[killed after ${opts.timeoutMs ?? 20_000} ms]` : '') });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

/** Like run() but throws with the command's output when it exits non-zero. */
export async function runOk(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await run(argv, opts);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** Starts a long-running process and resolves once `ready` appears on its stdout. */
export function spawnUntil(argv: readonly string[], ready: string, timeoutMs = 10_000): Promise<ChildProcess> {
  const [file, ...args] = argv;
  if (!file) throw new Error('spawnUntil: empty argv');
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${argv.join(' ')} did not print "${ready}" within ${timeoutMs} ms: ${out}`));
    }, timeoutMs);
    const onData = (b: Buffer): void => {
      out += b.toString();
      if (out.includes(ready)) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        resolve(child);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
    // After 'close', so a ready line still in the pipe at 'exit' is seen first.
    void childEnded(child).then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`${argv.join(' ')} exited ${code} before ready: ${out}`));
    });
  });
}
