// Inspects a capture with the built CLI, as a user would, and returns the
// EVE records it printed, grouped by event_type.
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../host/wasm/helpers.js';
import { builtModule } from '../dns_guard/support.js';

export const CLI = join(repoRoot, 'dist', 'secuxflow.js');

export type Eve = Record<string, unknown> & { event_type: string };

export interface InspectResult {
  status: number;
  stderr: string;
  eve: Eve[];
  of(type: string): Eve[];
}

/** `secuxflow inspect --pcap FILE --module <built wasm> [--module-config name=cfg] --eve -`. */
export function inspectPcap(pcap: string, module: string, config: unknown | undefined, workDir: string): InspectResult {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first (npm test does it)`);
  const args = [CLI, 'inspect', '--pcap', pcap, '--module', builtModule(module), '--eve', '-', '--no-progress'];
  if (config !== undefined) {
    const cfg = join(workDir, `${module}.json`);
    writeFileSync(cfg, JSON.stringify(config));
    args.push('--module-config', `${module}=${cfg}`);
  }
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 120_000, env: { ...process.env, SECUXFLOW_STATE_DIR: join(workDir, 'state') } });
  const eve = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Eve);
  return { status: r.status ?? -1, stderr: r.stderr, eve, of: (t) => eve.filter((e) => e.event_type === t) };
}
