// `secuxflow module unload NAME` while a rule still uses NAME is a state
// conflict, not a usage error: E_MODULE_IN_USE, exit status 1, naming the rule.
import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ROOT, cli, requireBuilt, tempDir } from './support.js';

const PORT_VERDICT = join(ROOT, 'test', 'fixtures', 'engine', 'port_verdict.wat');

describe('secuxflow module unload of a module a rule uses', () => {
  beforeAll(() => requireBuilt());

  it('is refused with E_MODULE_IN_USE and exit 1, naming the rule and how to proceed', () => {
    const state = tempDir('unload-in-use');
    const env = { SECUXFLOW_STATE_DIR: state };
    expect(cli(['module', 'load', PORT_VERDICT, '--name', 'pv'], env).status).toBe(0);
    expect(cli(['rule', 'add', '--dst', '198.18.0.0/15', '--action', 'inspect', '--module', 'pv', '--id', '7'], env).status).toBe(0);
    const r = cli(['module', 'unload', 'pv'], env);
    expect(r.stderr).toMatch(/error\[E_MODULE_IN_USE\]: module pv is used by rule 7; it stays registered/);
    expect(r.stderr).toMatch(/hint: .*secuxflow rule delete --id 7/);
    expect(r.status).toBe(1);
  });
});
