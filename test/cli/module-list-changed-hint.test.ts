// After a rebuild `module list` said changed-on-disk (or missing after a
// clean) and nothing more, while inspect and run refuse such a module: the
// fix was only in inspect's error. list now spells it out, as it does for a
// config that is gone.
import { beforeAll, describe, expect, it } from 'vitest';
import { appendFileSync, copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, cli, requireBuilt, tempDir } from './support.js';

const PORT_VERDICT = join(ROOT, 'test', 'fixtures', 'engine', 'port_verdict.wat');

describe('module list of a module whose file changed or is gone', () => {
  beforeAll(() => requireBuilt());

  it('changed on disk: the problem and the command that re-registers it', () => {
    const env = { SECUXFLOW_STATE_DIR: tempDir('list-changed') };
    const file = join(tempDir('list-changed-file'), 'pv.wat');
    copyFileSync(PORT_VERDICT, file);
    expect(cli(['module', 'load', file], env).status).toBe(0);
    appendFileSync(file, '\n;; rebuilt\n');
    const text = cli(['module', 'list'], env);
    expect(text.status).toBe(0);
    expect(text.stdout).toContain(`pv: its file ${file} changed since it was registered; inspect and run refuse it\n  hint: if the change is yours, re-register it: secuxflow module load ${file} --name pv`);
    const json = JSON.parse(cli(['module', 'list', '--json'], env).stdout);
    expect(json.modules[0]).toMatchObject({ status: 'changed-on-disk', problem: { message: `its file ${file} changed since it was registered` } });
  });

  it('missing: the problem and both ways out', () => {
    const env = { SECUXFLOW_STATE_DIR: tempDir('list-missing') };
    const file = join(tempDir('list-missing-file'), 'pv.wat');
    copyFileSync(PORT_VERDICT, file);
    expect(cli(['module', 'load', file], env).status).toBe(0);
    rmSync(file);
    const text = cli(['module', 'list'], env);
    expect(text.stdout).toContain(`pv: its file ${file} is gone; inspect and run refuse it\n  hint: rebuild or restore it and register it again (secuxflow module load ${file} --name pv), or remove it: secuxflow module unload pv`);
  });
});
