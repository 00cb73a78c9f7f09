// Which file a path names, so that two spellings of one file (a relative path,
// a symlink, a hard link) compare equal before anything is opened.
import { realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/** A key naming the file a path resolves to: its inode when it exists, else its resolved path. */
export function fileIdentity(path: string): string {
  try {
    const st = statSync(path);
    return `inode:${st.dev}:${st.ino}`;
  } catch {
    // Not there yet: the file it will be, through any symlinked directory.
    let dir = resolve(dirname(path));
    try { dir = realpathSync(dir); } catch { /* the open will report a missing directory */ }
    return `path:${join(dir, basename(path))}`;
  }
}
