// Runs the built secuxflow CLI as the protected host would: inside its
// namespace, with the demo's state dir and private bpffs root.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { packageRoot } from '../../host/kernel/native.js';
import type { Lab } from './lab.js';
import { inNs } from './lab.js';
import { run, type RunResult } from './proc.js';

/** The CLI bundle beside the demo bundle (a test's private copy), else the package's dist/secuxflow.js. */
export function cliPath(): string {
  const here = fileURLToPath(import.meta.url);
  const sibling = join(dirname(here), 'secuxflow.js');
  if (here.endsWith('.js') && existsSync(sibling)) return sibling;
  return join(packageRoot(), 'dist', 'secuxflow.js');
}

export function cliBuilt(): boolean {
  return existsSync(cliPath());
}

export function cliEnv(lab: Lab): NodeJS.ProcessEnv {
  return { ...process.env, SECUXFLOW_BPFFS_ROOT: lab.bpffsRoot, SECUXFLOW_STATE_DIR: lab.stateDir, NO_COLOR: '1', FORCE_COLOR: undefined };
}

/** argv of `secuxflow ARGS` inside the protected host's namespace. */
export function cliArgv(lab: Lab, args: readonly string[]): string[] {
  return inNs(lab.hostNs, [process.execPath, cliPath(), ...args]);
}

export function secuxflow(lab: Lab, args: readonly string[], timeoutMs = 30_000): Promise<RunResult> {
  return run(cliArgv(lab, args), { env: cliEnv(lab), timeoutMs });
}

export async function secuxflowOk(lab: Lab, args: readonly string[], timeoutMs = 30_000): Promise<RunResult> {
  const r = await secuxflow(lab, args, timeoutMs);
  if (r.code !== 0) throw new Error(`secuxflow ${args.join(' ')} exited ${r.code}: ${(r.stderr || r.stdout).trim().split('\n').slice(0, 4).join(' | ')}`);
  return r;
}

/** Whether this build has the live daemon (`secuxflow run`). */
export async function daemonAvailable(): Promise<boolean> {
  const r = await run([process.execPath, cliPath(), 'run', '--help'], { timeoutMs: 15_000 });
  return r.code === 0 && /--iface/.test(r.stdout);
}

/** The rule set both paths install: what the kernel does before any inspector sees a packet. */
export const DEMO_RULES: string[][] = [
  ['--port', '23', '--proto', 'tcp', '--action', 'drop', '--priority', '10', '--comment', 'no telnet, decided in the kernel'],
  ['--port', '80', '--proto', 'tcp', '--action', 'inspect', '--module', 'http_waf', '--priority', '100', '--comment', 'web traffic to http_waf'],
  ['--port', '53', '--proto', 'udp', '--action', 'inspect', '--module', 'dns_guard', '--priority', '100', '--comment', 'DNS queries to dns_guard'],
  ['--src', '198.18.64.0/24', '--proto', 'tcp', '--action', 'inspect', '--module', 'scan_flood', '--priority', '200', '--comment', 'other TCP from the client network to scan_flood'],
];

/** Module configs: block mode, a blocklist with the lab's tracker domain, short penalty ttl. */
export const MODULE_CONFIGS: Record<string, unknown> = {
  http_waf: { mode: 'block' },
  dns_guard: { blocklist: ['tracker.test'], block_action: 'drop', tunnel_action: 'drop' },
  scan_flood: { block_ttl: 60 },
};
