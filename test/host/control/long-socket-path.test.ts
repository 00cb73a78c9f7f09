// A state directory so deep that <dir>/control.sock passes the 107 bytes a
// Unix socket address holds: bind would silently cut the path and make the
// socket in a parent directory under a truncated name (a failed `run` then
// hung, still listening there). The server refuses such a path by name, and
// the client reports no daemon rather than connect to the truncated path.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlServer } from '../../../host/control/server.js';
import { requestDaemon } from '../../../host/control/client.js';
import { controlSocketPath, MAX_SOCKET_PATH_BYTES } from '../../../host/control/protocol.js';
import { SecuxflowError } from '../../../host/errors.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A fresh base directory and, inside it, a state directory whose socket path is `over` bytes too long. */
function deepStateDir(over: number): { base: string; stateDir: string } {
  const base = mkdtempSync(join(tmpdir(), 'sfctl-long-'));
  dirs.push(base);
  const room = MAX_SOCKET_PATH_BYTES + over - Buffer.byteLength(join(base, 'x', 'control.sock'));
  const stateDir = join(base, `x${'d'.repeat(room)}`);
  mkdirSync(stateDir);
  expect(Buffer.byteLength(controlSocketPath(stateDir))).toBe(MAX_SOCKET_PATH_BYTES + over);
  return { base, stateDir };
}

describe('a control socket path longer than a Unix socket address', () => {
  it('the server refuses it with E_STATE naming the path and the limit, and makes no socket anywhere', async () => {
    const { base, stateDir } = deepStateDir(1);
    const path = controlSocketPath(stateDir);
    const err = await ControlServer.listen({ path, handlers: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecuxflowError);
    expect(err).toMatchObject({ code: 'E_STATE' });
    expect((err as SecuxflowError).message).toBe(`the control socket path ${path} is 108 bytes, more than the 107 a Unix socket address holds`);
    expect((err as SecuxflowError).hint).toMatch(/at most 94 bytes long \(--state-dir or SECUXFLOW_STATE_DIR\)/);
    expect(readdirSync(base)).toEqual([stateDir.slice(base.length + 1)]);
    expect(readdirSync(stateDir)).toEqual([]);
  });

  it('the client says no daemon runs there', async () => {
    const { stateDir } = deepStateDir(5);
    expect(await requestDaemon(stateDir, 'status')).toBeNull();
  });

  it('a path of exactly 107 bytes still works', async () => {
    const { stateDir } = deepStateDir(0);
    const server = await ControlServer.listen({ path: controlSocketPath(stateDir), handlers: { status: () => ({ ok: 1 }) } });
    try {
      expect(await requestDaemon(stateDir, 'status')).toEqual({ ok: 1 });
    } finally {
      await server.close();
    }
  });
});
