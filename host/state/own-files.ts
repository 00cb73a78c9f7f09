// The files secuxflow keeps in a state directory. A path a user names for
// output (inspect --eve and --write-dropped, run --eve, rule export --output)
// must not be one of them: opened for writing it is truncated or appended to,
// and the rules, modules or attachment records it held are gone, under a
// message that says secuxflow never overwrites them.
import { join } from 'node:path';
import { SecuxflowError } from '../errors.js';
import { fileIdentity } from '../fs/identity.js';
import { RULES_FILE, resolveStateDir } from './store.js';
import { LOCK_NAME } from './lock.js';
import { MODULES_FILE } from '../modules/registry.js';
import { ATTACHMENTS_FILE } from '../kernel/attachments.js';
import { CONTROL_SOCKET } from '../control/protocol.js';

const OWN_FILES: readonly (readonly [string, string])[] = [
  [RULES_FILE, 'the stored rules'],
  [MODULES_FILE, 'the registered modules'],
  [ATTACHMENTS_FILE, 'the attachment records'],
  [LOCK_NAME, 'the lock'],
  [CONTROL_SOCKET, "the daemon's control socket"],
];

/** Throws E_USAGE when an output path names one of the state directory's own files, by any spelling or link. */
export function refuseStateFileOutputs(stateDir: string | undefined, outputs: readonly { flag: string; path: string }[]): void {
  const dir = resolveStateDir(stateDir);
  const own = new Map(OWN_FILES.map(([name, what]) => [fileIdentity(join(dir, name)), { name, what }]));
  for (const out of outputs) {
    if (out.path === '-' || out.path === '') continue;
    const hit = own.get(fileIdentity(out.path));
    if (hit === undefined) continue;
    throw new SecuxflowError('E_USAGE', `${out.flag} ${out.path} is ${hit.name} of the state directory ${dir} (${hit.what}): writing it would destroy it`,
      `give ${out.flag} a file of its own; ${OWN_FILES.map(([n]) => n).join(', ')} in the state directory are secuxflow's`);
  }
}
