// How to run this CLI again, for commands it prints for the user to type: in a
// source checkout or an unlinked install, `secuxflow` is not on PATH, and a
// next step that says it fails with "command not found".
import { accessSync, constants, realpathSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

function onPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch { /* not in this directory */ }
  }
  return null;
}

function sameFile(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}

/** `secuxflow` when that name runs this very CLI, else `node /abs/path/to/secuxflow.js`. */
export function selfCommand(): string {
  const script = process.argv[1] !== undefined ? resolve(process.argv[1]) : null;
  const found = onPath('secuxflow');
  if (found !== null && (script === null || sameFile(found, script))) return 'secuxflow';
  return script === null ? 'secuxflow' : `node ${script}`;
}
