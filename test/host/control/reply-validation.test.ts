// The CLI's client against replies a real daemon never sends: each one is a
// rejected request with E_DAEMON that says what was wrong, never an exception
// thrown out of a socket handler (which would crash the CLI).
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { notifyDaemon, parseReply, requestDaemon } from '../../../host/control/client.js';
import { SecuxflowError } from '../../../host/errors.js';
import { BAD_REPLIES, fakeDaemon, type FakeDaemon } from './fake-daemon.js';

const dirs: string[] = [];
let fake: FakeDaemon | null = null;

function stateDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'sf-reply-'));
  dirs.push(d);
  return d;
}

afterEach(async () => {
  await fake?.close();
  fake = null;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function refusal(p: Promise<unknown>): Promise<SecuxflowError> {
  const e = await p.then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(SecuxflowError);
  return e as SecuxflowError;
}

describe('requestDaemon with a malformed reply', () => {
  it.each(BAD_REPLIES)('$name: rejects with E_DAEMON', async ({ line, says }) => {
    const dir = stateDir();
    fake = await fakeDaemon(dir, (req) => line(req.id));
    const e = await refusal(requestDaemon(dir, 'status'));
    expect(e.code).toBe('E_DAEMON');
    expect(e.message).toMatch(says);
    expect(e.message).toMatch(/"status"/);
  });

  it('a reply that never ends its line: the closed connection is E_DAEMON', async () => {
    const dir = stateDir();
    const { createServer } = await import('node:net');
    const server = createServer((c) => { c.on('data', () => c.end('{"id":')); c.on('error', () => {}); });
    await new Promise<void>((r) => server.listen(join(dir, 'control.sock'), () => r()));
    try {
      const e = await refusal(requestDaemon(dir, 'status'));
      expect(e.code).toBe('E_DAEMON');
      expect(e.message).toMatch(/closed the control connection/);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('notifyDaemon does not throw and names the code in its note', async () => {
    const dir = stateDir();
    fake = await fakeDaemon(dir, (req) => JSON.stringify({ id: req.id, ok: false }));
    const note = await notifyDaemon(dir, 'rules.reload');
    expect(note.running).toBe(true);
    expect(note.error).toMatch(/^E_DAEMON: the daemon's reply to "rules.reload" is malformed: it says not ok but "error" is missing/);
  });
});

describe('parseReply', () => {
  const parse = (v: unknown, id = 7): unknown => parseReply(typeof v === 'string' ? v : JSON.stringify(v), id, 'status');
  const code = (v: unknown, id = 7): { code: string; message: string; hint: string | undefined } => {
    try {
      parse(v, id);
    } catch (e) {
      const s = e as SecuxflowError;
      return { code: s.code, message: s.message, hint: s.hint };
    }
    throw new Error('parseReply accepted it');
  };

  it('returns the result of a well-formed ok reply, any JSON value but null', () => {
    expect(parse({ id: 7, ok: true, result: { a: 1 } })).toEqual({ a: 1 });
    expect(parse({ id: 7, ok: true, result: 0 })).toBe(0);
    expect(code({ id: 7, ok: true, result: null }).message).toMatch(/"result" is null/);
  });

  it('passes a known code through with message and hint', () => {
    expect(code({ id: 7, ok: false, error: { code: 'E_MODULE_INVALID', message: 'bad wasm', hint: 'rebuild' } }))
      .toEqual({ code: 'E_MODULE_INVALID', message: 'bad wasm', hint: 'rebuild' });
  });

  it('keeps an unknown code and message inside an E_DAEMON text', () => {
    const e = code({ id: 7, ok: false, error: { code: 'toString', message: 'm' } });
    expect(e.code).toBe('E_DAEMON');
    expect(e.message).toMatch(/unknown error code "toString": m/);
  });

  it.each([
    [[1, 2], /not a JSON object: \[1,2\]/],
    ['null', /not a JSON object: null/],
    [{ id: 8, ok: true, result: {} }, /"id" is 8, not the request's 7/],
    [{ ok: true, result: {} }, /"id" is missing/],
    [{ id: 7, ok: 'yes', result: {} }, /"ok" is "yes", not true or false/],
    [{ id: 7, ok: false, error: 'boom' }, /"error" is "boom", not an object/],
    [{ id: 7, ok: false, error: [] }, /"error" is \[\], not an object/],
    [{ id: 7, ok: false, error: { code: 'E_IO' } }, /"error\.message" is missing/],
    [{ id: 7, ok: false, error: { code: 'E_IO', message: 'x', hint: 3 } }, /"error\.hint" is 3, not a string/],
    [`{"id":7,"ok":false,"error":"${'x'.repeat(200)}"}`, /not an object/],
  ])('%j is E_DAEMON: %s', (reply, says) => {
    const e = code(reply);
    expect(e.code).toBe('E_DAEMON');
    expect(e.message).toMatch(says);
    expect(e.message.length).toBeLessThan(200);
  });

  it('accepts an error reply with id null (the server could not read the request id)', () => {
    expect(code({ id: null, ok: false, error: { code: 'E_USAGE', message: 'request line too long' } }).code).toBe('E_USAGE');
  });
});
