// Where a per-queue worker_thread starts. From the CLI bundle, the bundle
// itself is the entry (a hidden command runs the queue thread), so an install
// needs no extra file. From the TypeScript sources (tests), worker-main.ts is
// bundled once with esbuild into the package's dist/, next to build/, so the
// native addon is found the same way.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { makeDirs } from '../fs/make-dirs.js';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../paths.js';
import { bundleOnce } from '../sandbox/worker-script.js';

export const WORKER_COMMAND = '__queue-worker';

export interface WorkerEntry {
  file: string;
  argv: string[];
}

let cached: WorkerEntry | null = null;

export function queueWorkerEntry(): WorkerEntry {
  if (cached) return cached;
  const override = process.env.SECUXFLOW_DAEMON_WORKER;
  if (override) return (cached = { file: override, argv: [] });
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return (cached = { file: here, argv: [WORKER_COMMAND] });
  return (cached = { file: bundleFromSources(dirname(here)), argv: [] });
}

function bundleFromSources(daemonDir: string): string {
  const hostDir = join(daemonDir, '..');
  const hash = createHash('sha256');
  const walk = (dir: string): void => {
    for (const f of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(dir, f.name);
      if (f.isDirectory()) walk(p);
      else if (f.name.endsWith('.ts')) hash.update(p).update(readFileSync(p));
    }
  };
  walk(hostDir);
  const outDir = join(packageRoot(), 'dist');
  makeDirs(outDir, { what: 'the queue worker bundle directory', instead: 'reinstall secuxflow, or make its dist/ writable' });
  // The addon stays outside the bundle and loads from build/, as for the CLI.
  return bundleOnce(join(daemonDir, 'worker-main.ts'), join(outDir, `.queue-worker-${hash.digest('hex').slice(0, 16)}.mjs`), ['*.node']);
}
