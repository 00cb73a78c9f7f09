// The outputs of a capture run (--eve, --write-dropped) are opened for
// writing, which truncates them before the reader has read a byte: pointed at
// the capture itself, they destroy it. They must not share a file either.
import { fstatSync, statSync } from 'node:fs';
import { SecuxflowError } from '../errors.js';
import { fileIdentity as identity } from '../fs/identity.js';

export interface OutputPath {
  /** The flag the user gave it with, for the message. */
  flag: string;
  path: string;
}

/**
 * Whether `path` is this process's standard output when that is a pipe,
 * socket or file (`--eve /dev/stdout | jq`, or the file stdout is redirected
 * to): such an output is written as `-` is. A terminal is left alone: there,
 * records and summary may share the screen.
 */
export function isStandardOutput(path: string): boolean {
  if (path === '-') return false;
  try {
    const out = fstatSync(1);
    if (!out.isFIFO() && !out.isSocket() && !out.isFile()) return false;
    return identity(path) === `inode:${out.dev}:${out.ino}`;
  } catch {
    return false;
  }
}

export function isDevice(path: string): boolean {
  try {
    return statSync(path).isCharacterDevice();
  } catch {
    return false;
  }
}

/** Throws E_USAGE when an output is the input file, or two outputs are one file (or both standard output, '-'). */
export function refuseOutputClashes(input: { flag: string; path: string }, outputs: readonly OutputPath[]): void {
  const seen = new Map<string, string>([[identity(input.path), input.flag]]);
  let stdout: string | null = null;
  for (const out of outputs) {
    if (out.path === '-') {
      if (stdout !== null) {
        throw new SecuxflowError('E_USAGE', `${out.flag} - and ${stdout} - both write to standard output`,
          `give one of them a file name instead of -`);
      }
      stdout = out.flag;
      continue;
    }
    // /dev/null and other devices: any number of outputs may share one.
    if (isDevice(out.path)) continue;
    const id = identity(out.path);
    const other = seen.get(id);
    if (other !== undefined) {
      const what = other === input.flag ? `the capture being read (${input.flag} ${input.path})` : `the file ${other} writes`;
      throw new SecuxflowError('E_USAGE', `${out.flag} ${out.path} is ${what}: writing it would destroy it`,
        `give ${out.flag} a file of its own`);
    }
    seen.set(id, out.flag);
  }
}
