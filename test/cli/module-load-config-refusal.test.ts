// `module load` of a module that refuses to start always hinted "check the
// module's README for its config fields": also when the config file is not
// JSON at all (the file was not named), and when the module was built without
// register(), which has nothing to do with a config.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, cli, requireBuilt, tempDir } from './support.js';

const BASIC = join(ROOT, 'build', 'modules', 'basic_inspect.wasm');
const ASC = join(ROOT, 'node_modules', 'assemblyscript', 'bin', 'asc.js');

describe('module load of a module that refuses to start', () => {
  beforeAll(() => requireBuilt());

  it('a config file that is not JSON: the hint names the file', () => {
    const cfg = join(tempDir('cfg-bad'), 'broken.json');
    writeFileSync(cfg, '{"deny_ports": [23');
    const state = tempDir('cfg-state');
    const r = cli(['module', 'load', BASIC, '--config', cfg], { SECUXFLOW_STATE_DIR: state });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/error\[E_MODULE_CONFIG\]: module basic_inspect refused its configuration \(on_init status 1\): config is not valid JSON/);
    expect(r.stderr).toContain(`hint: fix ${cfg} (the module's words above say what it could not take; its README lists the config fields)`);
    expect(existsSync(join(state, 'modules.json'))).toBe(false);
  });

  // The check for "no words" looked for a message ending in ")", which the
  // SDK's own unknown-field refusal does: "(known: deny_ports, ...)".
  it('words that end in a parenthesis are still words: the hint points at them', () => {
    const cfg = join(tempDir('cfg-unknown'), 'unknown.json');
    writeFileSync(cfg, '{"bogus": 1}');
    const r = cli(['module', 'load', BASIC, '--config', cfg], { SECUXFLOW_STATE_DIR: tempDir('cfg-state') });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/refused its configuration \(on_init status 1\): config: unknown field "bogus" \(known: deny_ports, .*\)\n/);
    expect(r.stderr).toContain(`hint: fix ${cfg} (the module's words above say what it could not take; its README lists the config fields)`);
  });

  it('a module that refuses without logging why: the hint does not point at words that are not there', () => {
    const dir = tempDir('cfg-silent');
    const file = join(dir, 'silent.wat');
    writeFileSync(file, readFileSync(join(ROOT, 'test', 'fixtures', 'engine', 'port_verdict.wat'), 'utf8')
      .replace('(func (export "on_init") (param i32 i32) (result i32) (i32.const 0))', '(func (export "on_init") (param i32 i32) (result i32) (i32.const 1))'));
    const cfg = join(dir, 'c.json');
    writeFileSync(cfg, '{}');
    const r = cli(['module', 'load', file, '--config', cfg], { SECUXFLOW_STATE_DIR: tempDir('cfg-state') });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/refused its configuration \(on_init status 1\)\n/);
    expect(r.stderr).toContain(`hint: fix ${cfg} (the module did not log why; its README lists the config fields)`);
  });

  it('an AssemblyScript module without register(): the hint says to call it, not to fix a config', () => {
    const dir = join(tempDir('cfg-noreg'), 'noreg');
    expect(cli(['module', 'new', 'noreg', '--dir', dir]).status).toBe(0);
    const index = join(dir, 'index.ts');
    writeFileSync(index, readFileSync(index, 'utf8').replace(/^register\(.*$/m, ''));
    const build = spawnSync(process.execPath, [ASC, 'index.ts', '--config', 'asconfig.json', '--target', 'release', '-o', 'build/noreg.wasm'], { cwd: dir, encoding: 'utf8' });
    expect(build.status, build.stderr).toBe(0);
    const r = cli(['module', 'load', join(dir, 'build', 'noreg.wasm')], { SECUXFLOW_STATE_DIR: tempDir('cfg-state') });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/no inspector registered/);
    expect(r.stderr).toMatch(/hint: on_init returned NOT_FOUND \(4\): an AssemblyScript module calls register\(new YourInspector\(\)\) at the top level of index\.ts/);
    expect(r.stderr).not.toMatch(/config fields/);
  });
});
