// The control server against clients that misbehave: pipelining and leaving,
// never reading replies, holding connections idle or open in numbers. Each
// must cost the daemon bounded work and memory, and none may hold up its stop.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlServer, MAX_QUEUED_REQUESTS, type ControlServerOptions } from '../../../host/control/server.js';
import { requestDaemon } from '../../../host/control/client.js';
import { controlSocketPath } from '../../../host/control/protocol.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const dirs: string[] = [];
const servers: ControlServer[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of servers.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function start(opts: Omit<ControlServerOptions, 'path'>): Promise<{ dir: string; path: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'sfctl-lim-'));
  dirs.push(dir);
  const path = controlSocketPath(dir);
  servers.push(await ControlServer.listen({ path, ...opts }));
  return { dir, path };
}

/** A connected client that collects what it receives; reading can be held off. */
async function connect(path: string, opts: { paused?: boolean } = {}): Promise<{ sock: Socket; text: () => string; closed: Promise<void> }> {
  const sock = createConnection(path);
  sockets.push(sock);
  let text = '';
  sock.setEncoding('utf8');
  sock.on('error', () => { /* the server may close first */ });
  const closed = new Promise<void>((r) => sock.on('close', () => r()));
  await new Promise<void>((r, j) => { sock.once('connect', () => r()); sock.once('error', j); });
  sock.on('data', (d: string) => { text += d; });
  // After the listener, which would otherwise set the stream flowing again.
  if (opts.paused) sock.pause();
  return { sock, text: () => text, closed };
}

// Complete lines only: a reply may be half received.
const lines = (t: string): Array<Record<string, unknown>> => t.slice(0, t.lastIndexOf('\n') + 1).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
const status = (from: number, n: number): string => Array.from({ length: n }, (_, i) => `{"id":${from + i},"method":"status"}\n`).join('');

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(10);
  }
}

/** The value once it has stayed the same for quietMs (a loaded machine may take a while to get there); throws after 10 s of change. */
async function steady(get: () => number, quietMs: number): Promise<number> {
  let prev = get();
  for (const end = Date.now() + 10_000; Date.now() < end;) {
    await sleep(quietMs);
    const now = get();
    if (now === prev) return now;
    prev = now;
  }
  throw new Error('the value kept changing');
}

describe('control server limits', () => {
  it('stops handling a connection\'s pipelined requests once the client is gone', async () => {
    let calls = 0;
    const { path } = await start({ handlers: { status: () => { calls++; return { running: true }; } } });
    const { sock } = await connect(path);
    const total = 100_000;
    sock.write(status(1, total));
    await until(() => calls > 0);
    sock.destroy();
    const after = await steady(() => calls, 400);
    expect(after).toBeLessThan(total / 4);
  });

  it('handles one request at a time per connection and answers in order', async () => {
    let inFlight = 0;
    let most = 0;
    const { path } = await start({
      handlers: {
        status: async () => {
          most = Math.max(most, ++inFlight);
          await sleep(1);
          inFlight--;
          return { running: true };
        },
      },
    });
    const c = await connect(path);
    c.sock.write(status(1, 300));
    await until(() => lines(c.text()).length === 300);
    expect(most).toBe(1);
    expect(lines(c.text()).map((r) => r.id)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
  });

  it('stops reading from a client that does not read its replies, and resumes when it does', async () => {
    let calls = 0;
    const big = 'x'.repeat(64 * 1024);
    const { path } = await start({ handlers: { status: () => { calls++; return { big }; } } });
    const c = await connect(path, { paused: true });
    const total = 400;
    c.sock.write(status(1, total));
    await until(() => calls > 0);
    // What the socket buffers hold, a few 64 KiB replies, then nothing more.
    const stalled = await steady(() => calls, 300);
    expect(stalled).toBeLessThan(MAX_QUEUED_REQUESTS);
    c.sock.resume();
    await until(() => c.text().split('\n').length - 1 === total, 10_000);
    expect(calls).toBe(total);
    expect(lines(c.text()).map((r) => r.id)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  });

  it('refuses the connection past the cap with one error line naming it, and serves again once one closes', async () => {
    const { dir, path } = await start({ maxConnections: 3, handlers: { status: () => ({ running: true }) } });
    const held = [];
    for (let i = 0; i < 3; i++) {
      const c = await connect(path);
      c.sock.write(status(1, 1));
      await until(() => lines(c.text()).length === 1);
      held.push(c);
    }
    const extra = await connect(path);
    extra.sock.write(status(1, 1));
    await extra.closed;
    const [r] = lines(extra.text());
    expect(r).toMatchObject({ id: null, ok: false, error: { code: 'E_DAEMON' } });
    expect((r!.error as { message: string }).message).toMatch(/at most 3 control connections/);
    expect(lines(extra.text())).toHaveLength(1);
    held[0]!.sock.destroy();
    // The server learns of the close a moment later; until then it may still refuse.
    let answer: unknown = null;
    const end = Date.now() + 3000;
    while (answer === null && Date.now() < end) {
      answer = await requestDaemon(dir, 'status').catch(() => null);
      if (answer === null) await sleep(20);
    }
    expect(answer).toEqual({ running: true });
  });

  it('closes a connection that sends no complete request within the idle timeout', async () => {
    const { path } = await start({ idleTimeoutMs: 150, handlers: { status: () => ({ running: true }) } });
    const silent = await connect(path);
    const partial = await connect(path);
    partial.sock.write('{"id":1,');
    const t0 = Date.now();
    await Promise.all([silent.closed, partial.closed]);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(lines(silent.text())[0]).toMatchObject({ id: null, ok: false, error: { code: 'E_USAGE' } });
  });

  it('does not cut a request that takes longer than the idle timeout, and re-arms it after', async () => {
    const { path } = await start({ idleTimeoutMs: 150, handlers: { status: async () => { await sleep(500); return { slow: true }; } } });
    const c = await connect(path);
    c.sock.write(status(1, 2));
    await until(() => lines(c.text()).length === 2);
    expect(lines(c.text())).toEqual([{ id: 1, ok: true, result: { slow: true } }, { id: 2, ok: true, result: { slow: true } }]);
    await c.closed;
  });

  it('answers a client that half-closes after its last request', async () => {
    const { path } = await start({ handlers: { status: async () => { await sleep(20); return { running: true }; } } });
    const c = await connect(path);
    c.sock.end(status(1, 3));
    await c.closed;
    expect(lines(c.text()).map((r) => r.ok)).toEqual([true, true, true]);
  });

  it('close() resolves promptly with an idle client connected and a request in progress', async () => {
    const { path } = await start({ handlers: { status: () => new Promise(() => { /* never answers */ }) } });
    const idle = await connect(path);
    const busy = await connect(path);
    busy.sock.write(status(1, 1));
    await sleep(50);
    const t0 = Date.now();
    await servers.pop()!.close();
    // Promptly: a close that waited for the idle client or the request would not end at all.
    expect(Date.now() - t0).toBeLessThan(3000);
    await Promise.all([idle.closed, busy.closed]);
  });
});
