// What every CLI-driven kernel test sets up before its first case: the addon
// and a CLI bundle of its own, a state directory and a private bpffs (so
// "nothing left pinned" is checked on an instance no other test touches), all
// removed by the lab's cleanup even when a case fails.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NetLab } from './netns.js';
import { buildCli, buildNative } from './build.js';
import { mountPrivateBpffs, type PrivateBpffs } from './bpffs.js';

export interface CliLab {
  /** Path of the CLI bundle. */
  cli: string;
  stateDir: string;
  bpffs: PrivateBpffs;
}

export async function setUpCliLab(lab: NetLab): Promise<CliLab> {
  await buildNative();
  const built = await buildCli(lab.tag);
  lab.onCleanup(built.remove);
  const stateDir = mkdtempSync(join(tmpdir(), `sf-${lab.tag}-state-`));
  lab.removeAtCleanup(stateDir);
  return { cli: built.cli, stateDir, bpffs: await mountPrivateBpffs(lab) };
}
