// Builds what the kernel tests run: the CLI bundle and the native addon with
// the XDP object. Builds are serialised with flock because several test files
// may build at once; each file then runs its own copy of the CLI, so a
// rebuild by another file never swaps the bundle under a running test.
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runOk } from './run.js';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const LOCK = '/tmp/secuxflow-test-build.lock';

/** Builds the addon and the XDP object (idempotent; make skips what is current). */
export async function buildNative(): Promise<void> {
  await runOk(['flock', LOCK, 'npm', 'run', '--silent', 'build:native'], { cwd: REPO_ROOT, timeoutMs: 300_000, env: { ...process.env, npm_config_loglevel: 'error' } });
  for (const f of ['build/Release/secuxflow_native.node', 'build/xdp/secuxflow.bpf.o']) {
    if (!existsSync(join(REPO_ROOT, f))) throw new Error(`${f} was not built`);
  }
}

/**
 * Builds the CLI and copies it to dist/.lab-<tag>/, returning that path. The
 * copy stays inside the package so it finds build/Release and build/xdp.
 */
export async function buildCli(tag: string): Promise<{ cli: string; remove: () => void }> {
  await runOk(['flock', LOCK, process.execPath, 'scripts/build-cli.mjs'], { cwd: REPO_ROOT, timeoutMs: 120_000 });
  const dir = join(REPO_ROOT, 'dist', `.lab-${tag}`);
  mkdirSync(dir, { recursive: true });
  const cli = join(dir, 'secuxflow.js');
  copyFileSync(join(REPO_ROOT, 'dist', 'secuxflow.js'), cli);
  return { cli, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Bundles a TypeScript helper script (run as its own process by a test) next
 * to the lab's CLI copy, so it loads the addon from this package's build/.
 */
export async function bundleScript(entry: string, tag: string, name: string): Promise<string> {
  const { build } = await import('esbuild');
  const out = join(REPO_ROOT, 'dist', `.lab-${tag}`, `${name}.mjs`);
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    outfile: out,
    external: ['*.node'],
    banner: { js: "import { createRequire as __sfCreateRequire } from 'node:module'; const require = __sfCreateRequire(import.meta.url);" },
    logLevel: 'warning',
  });
  return out;
}
