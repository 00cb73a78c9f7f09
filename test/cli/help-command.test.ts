// `secuxflow help NAME` as a user types it: a known name shows that
// command's help, an unknown one is an error that names it, as `secuxflow NAME` is.
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, requireBuilt } from './support.js';

describe('secuxflow help', () => {
  beforeAll(() => requireBuilt());

  it('help of a command shows its usage', () => {
    const r = cli(['help', 'rule']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: secuxflow rule \[options\] \[command\]/);
  });

  it('help of an unknown name says so, with the closest command, and no top-level help', () => {
    const r = cli(['help', 'frob']);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe("secuxflow: error[E_USAGE]: unknown command 'frob'\n  hint: Did you mean flow?\n  hint: secuxflow --help shows the usage\n");
  });
});
