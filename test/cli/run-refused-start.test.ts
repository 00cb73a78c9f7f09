// A `secuxflow run` refused before it touches the interface (here: its EVE
// file cannot be opened) changes nothing: the state directory it made for
// the start is gone again, parents included.
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
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
});
