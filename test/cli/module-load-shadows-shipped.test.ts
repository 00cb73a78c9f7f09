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
    expect(r.stdout).toMatch(/note: dns_guard is also the name of a shipped inspector: inspect --module dns_guard and rules that name it now run this module \(module unload dns_guard gives the name back\)/);
    const json = cli(['module', 'load', PORT_VERDICT, '--name', 'dns_guard', '--json'], { SECUXFLOW_STATE_DIR: tempDir('shadow') });
    expect(JSON.parse(json.stdout)).toMatchObject({ shadows_shipped: true });
  });

  it('registering the shipped file itself (to give it a config) is no surprise and gets no note', () => {
    const r = cli(['module', 'load', join(ROOT, 'build', 'modules', 'basic_inspect.wasm')], { SECUXFLOW_STATE_DIR: tempDir('shadow') });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/note:/);
  });

  it('a name of its own gets no note', () => {
    const r = cli(['module', 'load', PORT_VERDICT, '--name', 'mine'], { SECUXFLOW_STATE_DIR: tempDir('shadow') });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/note:/);
  });
});
