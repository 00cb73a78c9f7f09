// Code caches must not be writable by other users.
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../support/temp-dir.js';
import { chmodSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePrivateDir } from '../../../host/sandbox/private-dir.js';

describe('ensurePrivateDir', () => {
  it('creates the directory 0700 and tightens one of ours that others could write', () => {
    const base = tempDir('private');
    const fresh = ensurePrivateDir(join(base, 'fresh'));
    expect(statSync(fresh).mode & 0o777).toBe(0o700);
    const open = join(base, 'open');
    ensurePrivateDir(open);
    chmodSync(open, 0o777);
    ensurePrivateDir(open);
    expect(statSync(open).mode & 0o077).toBe(0);
  });
});
