// `secuxflow module list` of a module whose registered config file was
// removed (or replaced by a directory) since: not `ok`, since inspect then
// fails with E_IO; the problem and its fix are shown.
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, cli, requireBuilt, tempDir } from './support.js';

const PORT_VERDICT = join(ROOT, 'test', 'fixtures', 'engine', 'port_verdict.wat');

describe('secuxflow module list of a module whose config is gone', () => {
  beforeAll(() => requireBuilt());

  it('says config-missing (table and --json), names the file and the fix; inspect indeed refuses it', () => {
    const state = tempDir('list-cfg-state');
    const env = { SECUXFLOW_STATE_DIR: state };
    const cfg = join(tempDir('list-cfg'), 'pv.json');
    writeFileSync(cfg, '{}');
    expect(cli(['module', 'load', PORT_VERDICT, '--name', 'pv', '--config', cfg], env).status).toBe(0);
    expect(JSON.parse(cli(['module', 'list', '--json'], env).stdout).modules[0].status).toBe('ok');

    rmSync(cfg);
    const json = cli(['module', 'list', '--json'], env);
    expect(json.status).toBe(0);
    const [m] = JSON.parse(json.stdout).modules;
    expect(m.status).toBe('config-missing');
    expect(m.problem.message).toContain(`its config ${cfg} no longer exists`);
    expect(m.problem.hint).toContain('--config NEW');

    const text = cli(['module', 'list'], env);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/^pv\s.*config-missing/m);
    expect(text.stdout).toContain(`pv: its config ${cfg} no longer exists; inspect and run refuse it`);

    const inspect = cli(['inspect', '--pcap', join(ROOT, 'samples', 'demo.pcap'), '--module', 'pv'], env);
    expect(inspect.stderr).toMatch(/E_IO/);

    mkdirSync(cfg);
    const [d] = JSON.parse(cli(['module', 'list', '--json'], env).stdout).modules;
    expect(d.status).toBe('config-unreadable');
    expect(d.problem.message).toMatch(/not a regular file/);
  });
});
