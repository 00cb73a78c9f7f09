// Caches that hold code the host will execute (transpiled components, the
// worker bundle in development) live in a directory only this user can
// write: a predictable name in a shared /tmp must not let another local user
// plant JavaScript there.
import { chmodSync, lstatSync } from 'node:fs';
import { SecuxflowError } from '../errors.js';
import { makeDirs } from '../fs/make-dirs.js';

export function ensurePrivateDir(dir: string): string {
  makeDirs(dir, { what: 'cache directory', code: 'E_STATE', mode: 0o700, instead: 'point SECUXFLOW_COMPONENT_CACHE at a directory only you can write' });
  let st = lstatSync(dir);
  const uid = process.getuid?.();
  const ours = st.isDirectory() && (uid === undefined || st.uid === uid);
  // Ours but writable by others (an older secuxflow, a umask): tighten it rather than refuse.
  if (ours && (st.mode & 0o022) !== 0) {
    chmodSync(dir, 0o700);
    st = lstatSync(dir);
  }
  if (!ours || (st.mode & 0o022) !== 0) {
    throw new SecuxflowError('E_STATE', `cache directory ${dir} is not a private directory of this user (owner ${st.uid}, mode ${(st.mode & 0o777).toString(8)})`,
      'remove it, or point SECUXFLOW_COMPONENT_CACHE at a directory only you can write');
  }
  return dir;
}
