// A user who may not use the control socket is told what stops them: the
// socket's group and mode, or a directory on the way that does not let them
// through. It used to say "run as root, or as a member of the socket's group"
// whatever the cause, also to a member of control_group stopped by a 0700
// state directory. Run as root, the client goes as nobody through setpriv.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { tempDir } from '../../support/temp-dir.js';
import { fakeDaemon } from './fake-daemon.js';

const root = new URL('../../../', import.meta.url).pathname;
const asRoot = process.getuid?.() === 0;
const NOBODY = 65534;
/** A group no user of the test machine has: only setpriv puts the client in it. */
const GID = 47311;

let client = '';
beforeAll(async () => {
  if (!asRoot) return;
  const dir = tempDir('ctl-perm-bundle');
  const entry = join(dir, 'ask.ts');
  writeFileSync(entry, `import { requestDaemon } from ${JSON.stringify(join(root, 'host/control/client.ts'))};
requestDaemon(process.argv[2], 'status').then(
  (r) => console.log(JSON.stringify({ result: r })),
  (e) => console.log(JSON.stringify({ error: { code: e.code, message: e.message, hint: e.hint } })),
);\n`);
  client = join(dir, 'ask.mjs');
  await build({ entryPoints: [entry], outfile: client, bundle: true, platform: 'node', target: 'node20', format: 'esm', logLevel: 'error',
    banner: { js: "import { createRequire as __sfCreateRequire } from 'node:module'; const require = __sfCreateRequire(import.meta.url);" } });
  chmodSync(dir, 0o755);
  chmodSync(client, 0o644);
});

type Answer = { result?: unknown; error?: { code: string; message: string; hint?: string } };

/** requestDaemon(stateDir, 'status') as nobody, in group `gid`; not spawnSync, since the fake daemon answers from this process. */
function askAs(gid: number, stateDir: string): Promise<Answer> {
  const child = spawn('setpriv', ['--reuid', String(NOBODY), '--regid', String(gid), '--clear-groups', process.execPath, client, stateDir], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
  child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
  return new Promise((resolve) => child.on('close', (code) => {
    expect(code, err).toBe(0);
    resolve(JSON.parse(out) as Answer);
  }));
}

/** A state directory under a directory anyone may enter, with a daemon answering on its socket. */
async function stateDirWithDaemon(): Promise<{ stateDir: string; sock: string; close: () => Promise<void> }> {
  const outer = tempDir('ctl-perm');
  chmodSync(outer, 0o755);
  const stateDir = join(outer, 'state');
  mkdirSync(stateDir);
  const d = await fakeDaemon(stateDir, (req) => JSON.stringify({ id: req.id, ok: true, result: { answered: true } }));
  return { stateDir, sock: join(stateDir, 'control.sock'), close: () => d.close() };
}

describe.skipIf(!asRoot)('the control socket refused for want of permission', () => {
  it('a member of control_group stopped by the state directory is told that the directory is the obstacle', async () => {
    const { stateDir, sock, close } = await stateDirWithDaemon();
    try {
      chownSync(sock, 0, GID);
      chmodSync(sock, 0o660);
      chownSync(stateDir, 0, GID);
      chmodSync(stateDir, 0o700);
      const { error } = await askAs(GID, stateDir);
      expect(error).toEqual({
        code: 'E_DAEMON',
        message: `no permission to reach the daemon's control socket ${sock}: the directory ${stateDir} (mode 0700, group ${GID}) does not let you through`,
        hint: `run as root; for the members of control_group to use the socket, ${stateDir} must let its group through too (chgrp GROUP ${stateDir}; chmod g+x ${stateDir})`,
      });
      // Once it does, the same member gets the daemon's answer.
      chmodSync(stateDir, 0o750);
      expect(await askAs(GID, stateDir)).toEqual({ result: { answered: true } });
    } finally {
      await close();
    }
  });

  it('a user outside the socket\'s group is told which group it is', async () => {
    const { stateDir, sock, close } = await stateDirWithDaemon();
    try {
      chownSync(sock, 0, GID);
      chmodSync(sock, 0o660);
      const { error } = await askAs(NOBODY, stateDir);
      expect(error?.code).toBe('E_DAEMON');
      expect(error?.message).toBe(`no permission to talk to the daemon on ${sock} (mode 0660, group ${GID})`);
      expect(error?.hint).toMatch(new RegExp(`^run as root, or as a member of group ${GID} \\(the daemon config's control_group;`));
    } finally {
      await close();
    }
  });

  it('a socket of root\'s group says how to let other users in', async () => {
    const { stateDir, sock, close } = await stateDirWithDaemon();
    try {
      chownSync(sock, 0, 0);
      chmodSync(sock, 0o660);
      const { error } = await askAs(NOBODY, stateDir);
      expect(error?.message).toMatch(new RegExp(`^no permission to talk to the daemon on ${sock} \\(mode 0660, group (root|0)\\)$`));
      expect(error?.hint).toBe('run as root; to let other users in, name their group in the daemon config (control_group: GROUP) and reload it (systemctl reload secuxflow@IFACE)');
    } finally {
      await close();
    }
  });
});
