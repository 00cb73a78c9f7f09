// A `secuxflow run` refused before it touches the interface (here: its EVE
// file cannot be opened) changes nothing: the state directory it made for
// the start is gone again, parents included.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, requireBuilt } from './support.js';
import { tempDir } from '../support/temp-dir.js';

describe('secuxflow run refused at start', () => {
  it('an EVE file it cannot open: E_IO, and no state directory left behind', () => {
    requireBuilt();
    const base = tempDir('sf-run-refused-');
    const stateDir = join(base, 'a', 'b');
    const r = cli(['run', '--iface', 'lo', '--state-dir', stateDir, '--eve', join(base, 'no-such-dir', 'eve.json')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/error\[E_IO\]: cannot open the EVE file .*no-such-dir\/eve\.json: ENOENT/);
    expect(existsSync(join(base, 'a'))).toBe(false);
  });

  it("--eve onto the state directory's rules.json: E_USAGE, and the stored rules stay as they were", () => {
    requireBuilt();
    const stateDir = tempDir('sf-run-eve-state-');
    expect(cli(['rule', 'add', '--action', 'drop', '--port', '23', '--state-dir', stateDir]).status).toBe(0);
    const before = readFileSync(join(stateDir, 'rules.json'), 'utf8');
    const r = cli(['run', '--iface', 'lo', '--state-dir', stateDir, '--eve', join(stateDir, 'rules.json')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/error\[E_USAGE\]: --eve .*rules\.json is rules\.json of the state directory .*: writing it would destroy it/);
    expect(readFileSync(join(stateDir, 'rules.json'), 'utf8')).toBe(before);
    expect(cli(['rule', 'list', '--state-dir', stateDir]).status).toBe(0);
  });
});
