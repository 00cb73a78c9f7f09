// Runs the built CLI (dist/secuxflow.js) as a user would, with a private state dir.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../support/temp-dir.js';

export const ROOT = join(import.meta.dirname, '..', '..');
export const CLI = join(ROOT, 'dist', 'secuxflow.js');
export const DEMO_PCAP = join(ROOT, 'samples', 'demo.pcap');

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function requireBuilt(): void {
  for (const f of [CLI, DEMO_PCAP, join(ROOT, 'build', 'modules', 'basic_inspect.wasm')]) {
    if (!existsSync(f)) throw new Error(`${f} is missing: run npm run build first (npm test does it)`);
  }
}

export { tempDir };

export function cli(args: string[], env: Record<string, string> = {}, input?: string): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, SECUXFLOW_STATE_DIR: env.SECUXFLOW_STATE_DIR ?? tempDir('state'), ...env },
    timeout: 120_000,
    ...(input !== undefined ? { input } : {}),
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function hasTool(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/** In CI a missing tool fails the test; elsewhere the caller may skip with a visible reason. */
export function toolOrSkip(cmd: string): boolean {
  if (hasTool(cmd)) return true;
  if (process.env.CI) throw new Error(`${cmd} is not installed; CI installs it through scripts/install-system-deps.sh`);
  console.warn(`skipping: ${cmd} is not installed`);
  return false;
}
