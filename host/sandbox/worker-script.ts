// Finds the sandbox worker's entry file. The build puts it next to the CLI
// bundle (dist/sandbox-worker.js). When the host runs from its TypeScript
// sources (tests, benchmarks under development) there is no bundle, so the
// worker is bundled once with esbuild, a devDependency, into a file named by
// the hash of its sources (shared by parallel test processes).
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SecuxflowError } from '../errors.js';
import { ensurePrivateDir } from './private-dir.js';

export const WORKER_BUNDLE = 'sandbox-worker.js';
let cached: string | null = null;

export function sandboxWorkerPath(): string {
  if (cached !== null) return cached;
  const here = fileURLToPath(import.meta.url);
  const sibling = join(dirname(here), WORKER_BUNDLE);
  if (here.endsWith('.js') && existsSync(sibling)) return (cached = sibling);
  const sourceDir = dirname(here);
  const entry = join(sourceDir, 'worker.ts');
  if (!existsSync(entry)) {
    throw new SecuxflowError('E_INTERNAL', `the sandbox worker ${sibling} is missing`, 'rebuild with npm run build, or run modules with --unsafe-in-thread');
  }
  return (cached = bundleFromSources(entry, join(sourceDir, '..')));
}

function bundleFromSources(entry: string, hostDir: string): string {
  const hash = createHash('sha256');
  for (const sub of ['sandbox', 'wasm', '.']) {
    const dir = join(hostDir, sub);
    for (const f of readdirSync(dir).sort()) if (f.endsWith('.ts')) hash.update(f).update(readFileSync(join(dir, f)));
  }
  const dir = ensurePrivateDir(join(tmpdir(), `secuxflow-dev-${process.getuid?.() ?? 'u'}`));
  return bundleOnce(entry, join(dir, `${WORKER_BUNDLE.replace('.js', '')}-${hash.digest('hex').slice(0, 16)}.mjs`));
}

/**
 * Bundles `entry` into `out` with esbuild unless `out` exists. Callers name
 * `out` by the hash of the sources, so an existing file is current; writing
 * a temporary file and renaming it means a parallel test process never runs
 * a half-written bundle. Shared by the queue worker (daemon/worker-entry.ts).
 */
export function bundleOnce(entry: string, out: string, external: string[] = []): string {
  if (existsSync(out)) return out;
  const req = createRequire(import.meta.url);
  const esbuildName = 'esbuild';
  const esbuild = req(esbuildName) as { buildSync(o: Record<string, unknown>): unknown };
  const tmp = `${out}.${process.pid}.tmp`;
  esbuild.buildSync({
    entryPoints: [entry], outfile: tmp, bundle: true, platform: 'node', target: 'node20', format: 'esm', logLevel: 'warning', external,
    banner: { js: "import { createRequire as __sfCreateRequire } from 'node:module'; const require = __sfCreateRequire(import.meta.url);" },
  });
  renameSync(tmp, out);
  return out;
}
