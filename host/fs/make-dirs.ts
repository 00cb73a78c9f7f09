// Makes a directory and its missing parents one level at a time. Node 20's
// `mkdirSync(path, { recursive: true })` loops forever at 100% CPU where mkdir
// fails with ENOENT although the parent exists (/proc/x, /sys/x), so a state
// directory, a component cache or a project directory there hung the command
// instead of failing. Every directory secuxflow makes for a path the user can
// choose goes through here.
import { lstatSync, mkdirSync, readlinkSync, rmdirSync, statSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { SecuxflowError, type ErrorCode } from '../errors.js';

export interface MakeDirsOptions {
  /** What the directory is, for the message: "cannot create <what> <path>". */
  what: string;
  /** The way out the hint ends with, such as "choose another --dir". */
  instead: string;
  /** The error's code; E_IO unless the directory belongs to a domain with its own. */
  code?: ErrorCode;
  /** Mode of each level made (before the umask); 0o777 by default, as mkdir. */
  mode?: number;
  /** Running as root fixes a permission error (the system's own directories): the hint says so to someone who is not root. */
  rootHelps?: boolean;
}

/** stat, or null when nothing is there (ENOENT), or something further up is no directory (ENOTDIR, which the walk up finds). */
function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw e;
  }
}

/** Why mkdir of `level` failed with `errno`, in words; the way out follows it in the hint. */
function hintFor(level: string, errno: string, opts: MakeDirsOptions): string {
  const parent = dirname(level);
  const root = process.getuid?.() === 0;
  if (errno === 'EEXIST') {
    let link: string | null = null;
    try {
      if (lstatSync(level).isSymbolicLink()) link = readlinkSync(level);
    } catch { /* gone meanwhile: said as a file in the way */ }
    if (link !== null && statOrNull(level) === null) {
      const to = resolve(parent, link);
      return `${level} is a symbolic link to ${to}, which does not exist (a dangling link): create ${to}, remove the link, or ${opts.instead}`;
    }
    return `${level} is in the way and is not a directory: move it away, or ${opts.instead}`;
  }
  if (errno === 'ENOTDIR') return `${level} is not a directory: ${opts.instead}`;
  if (errno === 'ENOENT') return `${parent} exists but takes no new directories (a pseudo-filesystem such as /proc or /sys): ${opts.instead}`;
  if (errno === 'EACCES' || errno === 'EPERM') {
    return root
      ? `${parent} refuses new directories even to root (an immutable directory, or a security module's policy): ${opts.instead}`
      : `this user may not create directories in ${parent}: ${opts.rootHelps ? 'run as root, or ' : ''}${opts.instead}`;
  }
  if (errno === 'EROFS') return `${parent} is on a filesystem mounted read-only: ${opts.instead}`;
  if (errno === 'ENOSPC' || errno === 'EDQUOT') return `the filesystem of ${parent} is full: free some space, or ${opts.instead}`;
  return opts.instead;
}

/**
 * Makes `target` and each missing parent, top down, with a plain mkdir.
 * An existing directory (or a symbolic link to one) is taken as it is.
 * Returns the levels it made, top down, so a caller can take them back.
 * Fails with a SecuxflowError naming the path, the errno, the level where it
 * failed when that is a parent, and in the hint what is wrong there.
 */
export function makeDirs(target: string, opts: MakeDirsOptions): string[] {
  const full = resolve(target);
  const fail = (level: string, errno: string): never => {
    throw new SecuxflowError(opts.code ?? 'E_IO', `cannot create ${opts.what} ${full}: ${errno}${level === full ? '' : ` at ${level}`}`,
      hintFor(level, errno, opts));
  };
  const statAt = (path: string): Stats | null => {
    try {
      return statOrNull(path);
    } catch (e) {
      return fail(path, (e as NodeJS.ErrnoException).code ?? String(e));
    }
  };
  // The missing levels, deepest first, up to the first that exists.
  const missing: string[] = [];
  for (let at = full; ; at = dirname(at)) {
    const st = statAt(at);
    if (st?.isDirectory()) break;
    if (st) fail(at, at === full ? 'EEXIST' : 'ENOTDIR');
    missing.push(at);
    if (dirname(at) === at) break;
  }
  const made: string[] = [];
  for (const level of missing.reverse()) {
    try {
      mkdirSync(level, { mode: opts.mode ?? 0o777 });
      made.push(level);
    } catch (e) {
      const errno = (e as NodeJS.ErrnoException).code ?? String(e);
      if (errno === 'EEXIST' && statAt(level)?.isDirectory()) continue; // made by another process meanwhile
      fail(level, errno);
    }
  }
  return made;
}

/** Takes back what makeDirs made, deepest first, as far as each level is still empty: what a refused command leaves behind. */
export function unmakeDirs(made: readonly string[]): void {
  for (const level of [...made].reverse()) {
    try {
      rmdirSync(level);
    } catch {
      return; // something was put in it meanwhile (another process's lock or state): it stays, and so do its parents
    }
  }
}
