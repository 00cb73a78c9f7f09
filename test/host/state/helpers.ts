// Child processes in these tests run real compiled code: the fixture entry is
// bundled with esbuild (the same bundler the CLI uses) into a private dir.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { build } from 'esbuild';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateStore } from '../../../host/state/store.js';
import { childEnded } from '../../support/child-exit.js';

const root = new URL('../../../', import.meta.url).pathname;

export async function bundleFixture(fixture: string, outDir: string): Promise<string> {
  const outfile = join(outDir, fixture.replace(/\.ts$/, '.mjs'));
  await build({
    entryPoints: [join(root, 'test/host/state/fixtures', fixture)],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    logLevel: 'error',
    banner: { js: "import { createRequire as __sfCreateRequire } from 'node:module'; const require = __sfCreateRequire(import.meta.url);" },
  });
  return outfile;
}

export interface Exited {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Resolves when the child exits; rejects (and kills it) after timeoutMs so no test hangs. */
export function waitExit(child: ChildProcess, timeoutMs: number): Promise<Exited> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child ${child.pid} did not exit within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    void childEnded(child).then(({ code, signal }) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}

export function runNode(script: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, [script, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

export const CLI = join(root, 'dist/secuxflow.js');

function newestSourceMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSourceMtime(p));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * Builds dist/secuxflow.js exactly as `npm run build:cli` does; throws with
 * esbuild's output when it fails. Test files run in parallel, and a rebuild
 * rewrites the bundle in place while another file may be starting it, so
 * builds are serialised and skipped when the bundle is newer than the sources.
 */
export async function buildCli(): Promise<void> {
  const lockDir = join(tmpdir(), 'secuxflow-test-cli-build');
  await new StateStore(lockDir, { lockTimeoutMs: 120_000 }).withLock(async () => {
    const sources = Math.max(newestSourceMtime(join(root, 'host')), newestSourceMtime(join(root, 'cli')), statSync(join(root, 'package.json')).mtimeMs);
    if (existsSync(CLI) && statSync(CLI).mtimeMs > sources) return;
    const r = spawnSync(process.execPath, [join(root, 'scripts/build-cli.mjs')], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0) throw new Error(`node scripts/build-cli.mjs failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  });
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI synchronously with a bounded time; SECUXFLOW_STATE_DIR is cleared unless given. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, SECUXFLOW_STATE_DIR: '', ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs the built CLI without blocking the test process. */
export async function runCliAsync(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const child = runNode(CLI, args, { SECUXFLOW_STATE_DIR: '', ...env });
  const r = await waitExit(child, 30_000);
  return { code: r.code, stdout: r.stdout, stderr: r.stderr };
}
