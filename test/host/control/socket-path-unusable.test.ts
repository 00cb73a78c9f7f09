// The daemon cannot make its control socket: something that is no socket in
// its place, or a read-only state directory (systemd's ProtectSystem=strict
// with the directory left out of StateDirectory=/ReadWritePaths=). Both were
// raw errors, printed as E_INTERNAL with no hint; they are E_IO naming the
// path, with the fix, and a failed listen leaves the process umask as it was.
import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { ControlServer } from '../../../host/control/server.js';
import { tempDir } from '../../support/temp-dir.js';

const asRoot = process.getuid?.() === 0;
/** The process umask, read without the deprecated argument-less form. */
const currentUmask = (): number => {
  const m = process.umask(0o022);
  process.umask(m);
  return m;
};
const mounts: string[] = [];
afterEach(() => {
  for (const m of mounts.splice(0)) execFileSync('umount', ['-l', m]);
});

describe('a control socket path the daemon cannot use', () => {
  it('a directory in its place: E_IO naming it, with the fix', async () => {
    const path = join(tempDir('ctl-dir'), 'control.sock');
    mkdirSync(path);
    await expect(ControlServer.listen({ path, handlers: {} })).rejects.toMatchObject({
      code: 'E_IO',
      message: `cannot create the control socket ${path}: a directory is in its place`,
      hint: `remove it (rmdir ${path}), or use another --state-dir`,
    });
    rmdirSync(path);
  });

  it.skipIf(!asRoot)('a read-only state directory: E_IO saying so, the umask left as it was', async () => {
    const dir = tempDir('ctl-ro');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k', 'tmpfs', dir]);
    mounts.push(dir);
    const umask = currentUmask();
    const path = join(dir, 'control.sock');
    await expect(ControlServer.listen({ path, handlers: {} })).rejects.toMatchObject({
      code: 'E_IO',
      message: `cannot create the control socket ${path}: EROFS`,
      hint: 'the state directory is read-only: make it writable (systemd: StateDirectory= or ReadWritePaths= in the unit\'s drop-in), or use another --state-dir',
    });
    expect(currentUmask()).toBe(umask);
  });
});
