// What to do about a state directory the system refuses, by errno. "Run as
// root" only helps someone who is not root, and only for permissions.

export const ELSEWHERE = 'with --state-dir or SECUXFLOW_STATE_DIR';

export function stateDirHint(code: string, instead: string): string {
  if (code === 'EROFS') return `its filesystem is mounted read-only: remount it read-write, or choose ${instead} ${ELSEWHERE}`;
  if (code === 'EACCES' || code === 'EPERM') {
    return process.getuid?.() === 0
      ? `permission denied even to root (an immutable file, or a security module's policy): choose ${instead} ${ELSEWHERE}`
      : `run as root, or choose ${instead} ${ELSEWHERE}`;
  }
  if (code === 'EEXIST' || code === 'ENOTDIR') return `a file is in the way of the state directory: choose ${instead} ${ELSEWHERE}`;
  if (code === 'ENOENT') return `choose ${instead} ${ELSEWHERE} (/proc, /sys and other pseudo-filesystems hold no state)`;
  if (code === 'ENOSPC' || code === 'EDQUOT') return `free some space on its filesystem, or choose ${instead} ${ELSEWHERE}`;
  return `choose ${instead} ${ELSEWHERE}`;
}
