// Child processes in these tests run real compiled code: the fixture entry is
// bundled with esbuild (the same bundler the CLI uses) into a private dir.
import { spawn, type ChildProcess } from 'node:child_process';
import { build } from 'esbuild';
import { join } from 'node:path';

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
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}

export function runNode(script: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, [script, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}
