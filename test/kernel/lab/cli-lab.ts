// What every CLI-driven kernel test sets up before its first case: the addon
// and a CLI bundle of its own, a state directory and a private bpffs (so
// "nothing left pinned" is checked on an instance no other test touches), all
// removed by the lab's cleanup even when a case fails; and the runner of
// `secuxflow ... --state-dir DIR` inside a namespace.
import { expect } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NetLab } from './netns.js';
import { buildCli, buildNative } from './build.js';
import { mountPrivateBpffs, type PrivateBpffs } from './bpffs.js';
import type { RunResult } from './run.js';

export interface CliLab {
  /** Path of the CLI bundle. */
  cli: string;
  stateDir: string;
  bpffs: PrivateBpffs;
  /** The environment that points the CLI at the private bpffs. */
  env: NodeJS.ProcessEnv;
}

export async function setUpCliLab(lab: NetLab): Promise<CliLab> {
  await buildNative();
  const built = await buildCli(lab.tag);
  lab.onCleanup(built.remove);
  const stateDir = mkdtempSync(join(tmpdir(), `sf-${lab.tag}-state-`));
  lab.removeAtCleanup(stateDir);
  const bpffs = await mountPrivateBpffs(lab);
  return { cli: built.cli, stateDir, bpffs, env: { ...process.env, SECUXFLOW_BPFFS_ROOT: bpffs.root } };
}

/** Where a test runs the CLI: read at each call, since beforeAll sets it up after the runner is made. */
export interface CliTarget {
  ns: string;
  cli: string;
  stateDir: string;
  env: NodeJS.ProcessEnv;
}

export interface CliCommands {
  /** `secuxflow ARGS --state-dir DIR` in the target's namespace. */
  secuxflow(...args: string[]): Promise<RunResult>;
  /** The same, expecting exit status 0 (a failure shows the command and its output). */
  ok(...args: string[]): Promise<RunResult>;
}

export function cliIn(lab: NetLab, target: () => CliTarget, timeoutMs = 30_000): CliCommands {
  const secuxflow = (...args: string[]): Promise<RunResult> => {
    const t = target();
    return lab.exec(t.ns, [process.execPath, t.cli, ...args, '--state-dir', t.stateDir], { env: t.env, timeoutMs });
  };
  return {
    secuxflow,
    ok: async (...args) => {
      const r = await secuxflow(...args);
      expect(r.code, `secuxflow ${args.join(' ')}\n${r.stdout}\n${r.stderr}`).toBe(0);
      return r;
    },
  };
}
