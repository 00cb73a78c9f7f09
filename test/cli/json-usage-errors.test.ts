// docs/rules.md: "A command run with --json also prints the error on stdout as
// { "error": { "code", "message", "hint"? } }, for scripts". Errors that
// commander itself finds (an unknown option, a missing option value, a
// single-value option given twice) stop the line before the command's action
// runs, and printed nothing on stdout: `... --json | jq .error.code` read
// an empty document.
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, requireBuilt } from './support.js';

beforeAll(() => requireBuilt());

describe('usage errors of a command run with --json', () => {
  it.each([
    ['an unknown option', ['rule', 'list', '--json', '--bogus'], /unknown option '--bogus'/],
    ['a single-value option given twice', ['rule', 'add', '--json', '--action', 'drop', '--port', '80', '--port', '81'], /--port is given more than once/],
    ['an option without its value', ['inspect', '--json', '--pcap'], /option '--pcap <file>' argument missing/],
  ])('%s: the error is on stdout as JSON too, with exit status 2', (_what, args, message) => {
    const r = cli(args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/error\[E_USAGE\]/);
    const out = JSON.parse(r.stdout) as { error: { code: string; message: string; hint?: string } };
    expect(out.error.code).toBe('E_USAGE');
    expect(out.error.message).toMatch(message);
    expect(out.error.hint).toBeTruthy();
  });

  it('without --json, stdout stays empty', () => {
    const r = cli(['rule', 'list', '--bogus']);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
  });
});
