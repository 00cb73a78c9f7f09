// The control socket with a real server and real clients on a Unix socket:
// malformed requests get error replies with stable codes, the server keeps
// serving, and the CLI client maps replies to results and SecuxflowErrors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlServer } from '../../../host/control/server.js';
import { notifyDaemon, requestDaemon } from '../../../host/control/client.js';
import { controlSocketPath } from '../../../host/control/protocol.js';
import { SecuxflowError } from '../../../host/errors.js';

function rawExchange(path: string, payload: string, replies: number): Promise<Array<Record<string, unknown>>> {
  return new Promise((resolve, reject) => {
    const s = createConnection(path);
    let buf = '';
    const timer = setTimeout(() => { s.destroy(); reject(new Error(`only got: ${buf}`)); }, 5000);
    s.on('connect', () => s.write(payload));
    s.on('data', (b) => {
      buf += b.toString();
      const lines = buf.split('\n').filter((l) => l !== '');
      if (lines.length >= replies) {
        clearTimeout(timer);
        s.destroy();
        resolve(lines.map((l) => JSON.parse(l) as Record<string, unknown>));
      }
    });
    s.on('error', reject);
  });
}

describe('control socket', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sfctl-'));
  const path = controlSocketPath(dir);
  let server: ControlServer;
  let reloads = 0;

  beforeAll(async () => {
    server = await ControlServer.listen({
      path,
      handlers: {
        status: () => ({ running: true }),
        'rules.reload': () => { reloads++; return { rules: 3 }; },
        'modules.load': (p) => {
          if (p.name === 'bad') throw new SecuxflowError('E_MODULE_INVALID', 'module bad is not wasm', 'build it first');
          throw new Error('a bug');
        },
      },
    });
  });

  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates the socket with mode 0660', () => {
    expect(statSync(path).mode & 0o777).toBe(0o660);
  });

  it('answers malformed requests with error replies and keeps serving', async () => {
    const replies = await rawExchange(path, [
      'this is not json',
      '[1,2]',
      '{"method":"status"}',
      '{"id":2,"method":"nope"}',
      '{"id":3,"method":"status","params":[1]}',
      '{"id":4,"method":"modules.unload"}',
      '{"id":5,"method":"status"}',
    ].join('\n') + '\n', 7);
    expect(replies.map((r) => r.ok)).toEqual([false, false, false, false, false, false, true]);
    expect(replies.slice(0, 6).map((r) => (r.error as { code: string }).code)).toEqual(Array(6).fill('E_USAGE'));
    expect((replies[0]!.error as { message: string }).message).toMatch(/not JSON/);
    expect((replies[3]!.error as { hint: string }).hint).toMatch(/status, rules.reload/);
    expect(replies[3]!.id).toBe(2);
    expect(replies[6]).toEqual({ id: 5, ok: true, result: { running: true } });
  });

  it('refuses an oversized request line and still serves new connections', async () => {
    const [r] = await rawExchange(path, 'x'.repeat(1024 * 1024 + 10), 1);
    expect((r!.error as { code: string }).code).toBe('E_USAGE');
    expect(await requestDaemon(dir, 'status')).toEqual({ running: true });
  });

  it('client: results, daemon errors with their codes, handler bugs as E_INTERNAL', async () => {
    expect(await requestDaemon(dir, 'rules.reload')).toEqual({ rules: 3 });
    expect(reloads).toBe(1);
    const e = await requestDaemon(dir, 'modules.load', { name: 'bad' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(SecuxflowError);
    expect((e as SecuxflowError).code).toBe('E_MODULE_INVALID');
    expect((e as SecuxflowError).hint).toBe('build it first');
    const bug = await requestDaemon(dir, 'modules.load', { name: 'x' }).catch((x: unknown) => x);
    expect((bug as SecuxflowError).code).toBe('E_INTERNAL');
  });

  it('client: null when no daemon runs; notify reports it', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'sfctl-none-'));
    try {
      expect(await requestDaemon(empty, 'status')).toBeNull();
      expect(await notifyDaemon(empty, 'rules.reload')).toEqual({ running: false, error: null });
      expect(await notifyDaemon(dir, 'rules.reload')).toEqual({ running: true, error: null });
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it.skipIf(process.getuid?.() !== 0)('gives the socket to the control group when one is set', async () => {
    const other = mkdtempSync(join(tmpdir(), 'sfctl-grp-'));
    const s2 = await ControlServer.listen({ path: controlSocketPath(other), handlers: {}, gid: 4242 });
    try {
      const st = statSync(controlSocketPath(other));
      expect(st.gid).toBe(4242);
      expect(st.mode & 0o777).toBe(0o660);
    } finally {
      await s2.close();
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('refuses to start a second server on a live socket', async () => {
    await expect(ControlServer.listen({ path, handlers: {} })).rejects.toMatchObject({ code: 'E_DAEMON' });
  });
});
