// `secuxflow module load http_waf`: an operator's way of asking for a shipped
// inspector in the daemon, since `inspect --module` and the daemon config take
// names. module load takes a FILE; it said only "module file ./http_waf does
// not exist", with no hint of how a shipped inspector gets into the daemon.
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { CLI, ROOT, cli, requireBuilt, tempDir } from './support.js';

describe('secuxflow module load with a name that is no file', () => {
  beforeAll(() => requireBuilt());

  it('a shipped inspector\'s name says how that inspector gets into the daemon, and registers nothing', () => {
    const state = tempDir('load-shipped-name');
    const cwd = tempDir('load-shipped-cwd');
    // From a directory without an http_waf in it, as the operator typed it.
    const run = spawnSync(process.execPath, [CLI, 'module', 'load', 'http_waf', '--state-dir', state], { cwd, encoding: 'utf8', timeout: 60_000 });
    const r = { status: run.status, stderr: run.stderr };
    expect(r.stderr).toContain(`error[E_MODULE_NOT_FOUND]: module file ${join(cwd, 'http_waf')} does not exist: module load registers a module FILE, and http_waf is the name of a shipped inspector\n`);
    expect(r.stderr).toContain('hint: a daemon runs http_waf when its config file lists it (modules: [http_waf]; then systemctl reload secuxflow@IFACE, or kill -HUP the daemon), and inspect when given --module http_waf;');
    expect(r.stderr).toMatch(/to register the shipped build under a name of your own: secuxflow module load \S+\/http_waf\.wasm --name NAME\n/);
    const shipped = /module load (\S+\/http_waf\.wasm) --name/.exec(r.stderr)![1]!;
    expect(existsSync(shipped)).toBe(true);
    expect(r.status).toBe(1);
    expect(existsSync(join(state, 'modules.json'))).toBe(false);
  });

  it('any other missing file says what to give', () => {
    const r = cli(['module', 'load', join(ROOT, 'no-such-module.wasm')]);
    expect(r.stderr).toContain(`error[E_MODULE_NOT_FOUND]: module file ${join(ROOT, 'no-such-module.wasm')} does not exist\n  hint: give the path of a .wasm (core module or component) or .wat file; secuxflow module new NAME scaffolds one\n`);
    expect(r.status).toBe(1);
  });
});
