// Which build of the XDP object an attachment runs. The daemon reuses a live
// attachment, so after an upgrade it would go on running the older program
// (and its maps' older layouts) under the newer host code. attach records a
// digest of the object it loaded; a daemon start that finds another digest,
// or none (a record from before digests were kept), attaches again.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SecuxflowError } from '../errors.js';
import { defaultObjectPath } from './native.js';

/** The object attach loads: the explicit one, else $SECUXFLOW_XDP_OBJECT, else the build's. */
export function xdpObjectPath(explicit?: string): string {
  return explicit ?? process.env.SECUXFLOW_XDP_OBJECT ?? defaultObjectPath();
}

/** SHA-256 of the object file, as 16 hex digits (enough to tell builds apart). */
export function objectDigest(path: string = xdpObjectPath()): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new SecuxflowError('E_KERNEL', `cannot read the XDP object ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, 'rebuild it: npm run build:native');
  }
  return createHash('sha256').update(bytes).digest('hex').slice(0, 16);
}
