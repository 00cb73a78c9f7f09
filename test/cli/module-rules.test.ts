// Rules reference modules by name: `rule add --module X` accepts a registered
// or shipped module and refuses anything else, changing nothing.
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, cli, requireBuilt, tempDir } from './support.js';

const PORT_VERDICT = join(ROOT, 'test', 'fixtures', 'engine', 'port_verdict.wat');

describe('rule add --module', () => {
  beforeAll(() => requireBuilt());

  it('refuses a module that is neither registered nor shipped, and stores nothing', () => {
    const env = { SECUXFLOW_STATE_DIR: tempDir('rule-mod') };
    const r = cli(['rule', 'add', '--action', 'inspect', '--module', 'nosuch'], env);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/error\[E_MODULE_NOT_FOUND\]: --module nosuch: no module of that name is registered or shipped/);
    expect(r.stderr).toMatch(/hint: shipped modules: .*basic_inspect.*; register your own with secuxflow module load FILE --name nosuch/);
    expect(existsSync(join(env.SECUXFLOW_STATE_DIR, 'rules.json'))).toBe(false);
  });

  it("rule import --merge names the unknown module's rule as the file counts it, not by the id it would get", () => {
    const env = { SECUXFLOW_STATE_DIR: tempDir('rule-mod-import') };
    for (let i = 0; i < 5; i++) expect(cli(['rule', 'add', '--action', 'drop', '--port', String(100 + i)], env).status).toBe(0);
    const before = readFileSync(join(env.SECUXFLOW_STATE_DIR, 'rules.json'), 'utf8');
    const file = join(tempDir('rule-mod-file'), 'rules.json');
    writeFileSync(file, JSON.stringify({ rules: [{ action: 'drop', dst_port: 23 }, { action: 'inspect', modules: ['nosuch'] }] }));
    const r = cli(['rule', 'import', file, '--merge'], env);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${file}: rule #2 names module "nosuch", which is neither registered nor shipped`);
    expect(readFileSync(join(env.SECUXFLOW_STATE_DIR, 'rules.json'), 'utf8')).toBe(before);
  });

  it('suggests the closest name for a misspelt one', () => {
    const env = { SECUXFLOW_STATE_DIR: tempDir('rule-mod') };
    const r = cli(['rule', 'add', '--action', 'inspect', '--module', 'http_wa'], env);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/hint: did you mean http_waf\? shipped modules: /);
  });

  it('accepts shipped and registered modules', () => {
    const env = { SECUXFLOW_STATE_DIR: tempDir('rule-mod') };
    expect(cli(['rule', 'add', '--action', 'inspect', '--module', 'basic_inspect', '--id', '1'], env).status).toBe(0);
    expect(cli(['rule', 'add', '--action', 'inspect', '--module', 'custom', '--id', '2'], env).status).toBe(1);
    expect(cli(['module', 'load', PORT_VERDICT, '--name', 'custom'], env).status).toBe(0);
    const ok = cli(['rule', 'add', '--action', 'inspect', '--module', 'custom', '--id', '2'], env);
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    const stored = JSON.parse(readFileSync(join(env.SECUXFLOW_STATE_DIR, 'rules.json'), 'utf8'));
    expect(stored.rules.map((r: { id: number; modules: string[] }) => [r.id, r.modules])).toEqual([[1, ['basic_inspect']], [2, ['custom']]]);
  });
});
