// A module registered under the name of a shipped inspector (a new author's
// "dns_guard") takes that name over in inspect --module and in rules, as
// docs/modules.md says; module load used to do it without a word.
import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ROOT, cli, requireBuilt, tempDir } from './support.js';

const PORT_VERDICT = join(ROOT, 'test', 'fixtures', 'engine', 'port_verdict.wat');

describe('module load under the name of a shipped inspector', () => {
  beforeAll(() => requireBuilt());

  it('says which shipped inspector the name now hides, and how to avoid it', () => {
    const r = cli(['module', 'load', PORT_VERDICT, '--name', 'dns_guard'], { SECUXFLOW_STATE_DIR: tempDir('shadow') });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/note: dns_guard is also the name of a shipped inspector: inspect \(its default set, and --module dns_guard\), run and rules that name it now run this module instead \(module unload dns_guard gives the name back\)/);
    const json = cli(['module', 'load', PORT_VERDICT, '--name', 'dns_guard', '--json'], { SECUXFLOW_STATE_DIR: tempDir('shadow') });
    expect(JSON.parse(json.stdout)).toMatchObject({ shadows_shipped: true });
  });

  it('registering the shipped file itself (to give it a config) is no surprise and gets no note', () => {
    const r = cli(['module', 'load', join(ROOT, 'build', 'modules', 'basic_inspect.wasm')], { SECUXFLOW_STATE_DIR: tempDir('shadow') });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/note:/);
  });

  it('module new under a shipped name says so before any work is done; a name of its own does not', () => {
    const dir = tempDir('shadow-new');
    const r = cli(['module', 'new', 'http_waf', '--dir', join(dir, 'http_waf')]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("note: http_waf is the name of a shipped inspector: registered under it, yours replaces that one everywhere (inspect's default set, run, rules); load it with --name OTHER to keep both");
    const own = cli(['module', 'new', 'ua_guard', '--dir', join(dir, 'ua_guard')]);
    expect(own.status, own.stderr).toBe(0);
    expect(own.stdout).not.toMatch(/note:/);
  });

  it('a name of its own gets no note', () => {
    const r = cli(['module', 'load', PORT_VERDICT, '--name', 'mine'], { SECUXFLOW_STATE_DIR: tempDir('shadow') });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/note:/);
  });
});
