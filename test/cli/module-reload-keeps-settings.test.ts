// Registering a module again under its name, as the E_MODULE_CHANGED hint says
// after a rebuild, used to drop the config, policy and limits it had been
// registered with: the module then ran with its defaults and nothing said so.
// And a second file whose name happened to match a registered module silently
// took that module's place.
import { beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO_PCAP, ROOT, cli, requireBuilt, tempDir } from './support.js';

const BASIC = join(ROOT, 'build', 'modules', 'basic_inspect.wasm');
const PORT_VERDICT = join(ROOT, 'test', 'fixtures', 'engine', 'port_verdict.wat');

interface Stored { name: string; source: string; sha256: string; policy: string; config: string | null; limits: Record<string, number> }

function stored(state: string, name: string): Stored {
  return (JSON.parse(readFileSync(join(state, 'modules.json'), 'utf8')).modules as Stored[]).find((m) => m.name === name)!;
}

function sids(state: string, name: string): Set<number> {
  const r = cli(['inspect', '--pcap', DEMO_PCAP, '--module', name, '--json'], { SECUXFLOW_STATE_DIR: state });
  expect(r.status, r.stderr).toBe(0);
  return new Set(JSON.parse(r.stdout).alertsBySignature.map((a: { signature_id: number }) => a.signature_id));
}

describe('module load of a name already registered', () => {
  beforeAll(() => requireBuilt());

  it('keeps the config, policy and limits it was registered with, and says so', () => {
    const state = tempDir('mod-keep');
    const dir = tempDir('mod-keep-file');
    const file = join(dir, 'strict.wasm');
    copyFileSync(BASIC, file);
    const cfg = join(dir, 'strict.json');
    writeFileSync(cfg, JSON.stringify({ deny_ports: [80] }));
    const env = { SECUXFLOW_STATE_DIR: state };
    expect(cli(['module', 'load', file, '--config', cfg, '--policy', 'fail-open', '--cpu-budget-ms', '250'], env).status).toBe(0);
    expect(sids(state, 'strict')).toEqual(new Set([1000101]));

    // A rebuild: the file changes, and the user re-registers it as the hint says.
    writeFileSync(file, Buffer.concat([readFileSync(BASIC), Buffer.from([0, 1, 0])]));
    const again = cli(['module', 'load', file, '--name', 'strict'], env);
    expect(again.stderr).toBe('');
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/re-registered module strict \(core, ABI 1, sha256 [0-9a-f]{12}, policy fail-open\)/);
    expect(again.stdout).toMatch(/kept from the previous registration: --config \S+strict\.json, --policy fail-open, --cpu-budget-ms 250/);
    const rec = stored(state, 'strict');
    expect(rec).toMatchObject({ config: cfg, policy: 'fail-open' });
    expect(rec.limits.cpuBudgetMs).toBe(250);
    expect(sids(state, 'strict')).toEqual(new Set([1000101]));

    // Flags given again win; --no-config drops the config.
    const dropped = cli(['module', 'load', file, '--no-config', '--policy', 'reload', '--json'], env);
    expect(dropped.status, dropped.stderr).toBe(0);
    expect(JSON.parse(dropped.stdout)).toMatchObject({ replaced: true, kept: ['--cpu-budget-ms 250'] });
    expect(stored(state, 'strict')).toMatchObject({ config: null, policy: 'reload' });
    expect(sids(state, 'strict').size).toBeGreaterThan(1);
  });

  it('a kept config that is gone is refused with the two ways out, and nothing changes', () => {
    const state = tempDir('mod-keep');
    const dir = tempDir('mod-keep-file');
    const cfg = join(dir, 'c.json');
    writeFileSync(cfg, JSON.stringify({ deny_ports: [80] }));
    const env = { SECUXFLOW_STATE_DIR: state };
    expect(cli(['module', 'load', BASIC, '--name', 'b', '--config', cfg], env).status).toBe(0);
    const before = readFileSync(join(state, 'modules.json'), 'utf8');
    rmSync(cfg);
    const r = cli(['module', 'load', BASIC, '--name', 'b'], env);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/error\[E_USAGE\]: module b was registered with the config \S+c\.json, which no longer exists; nothing was registered/);
    expect(r.stderr).toMatch(/hint: pass --config FILE, or --no-config to register it without one/);
    expect(readFileSync(join(state, 'modules.json'), 'utf8')).toBe(before);
  });

  it('a file whose name matches a module registered from another file is refused unless --name says so', () => {
    const state = tempDir('mod-keep');
    const env = { SECUXFLOW_STATE_DIR: state };
    const a = join(tempDir('mod-a'), 'guard.wasm');
    copyFileSync(BASIC, a);
    const b = join(tempDir('mod-b'), 'guard.wat');
    copyFileSync(PORT_VERDICT, b);
    expect(cli(['module', 'load', a], env).status).toBe(0);
    const r = cli(['module', 'load', b], env);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`error[E_USAGE]: the name guard (taken from the file name) is registered for another file, ${a}; nothing was registered`);
    expect(r.stderr).toMatch(/hint: to replace that module with this file, say so: --name guard; to keep both, give this one another --name/);
    expect(stored(state, 'guard').source).toBe(a);
    const replaced = cli(['module', 'load', b, '--name', 'guard'], env);
    expect(replaced.status, replaced.stderr).toBe(0);
    expect(stored(state, 'guard')).toMatchObject({ source: b });
  });

  it('a kept config the new file refuses: the hint says it was kept, and how to give another or none', () => {
    const state = tempDir('mod-keep');
    const env = { SECUXFLOW_STATE_DIR: state };
    const cfg = join(tempDir('mod-keep-file'), 'for-pv.json');
    // port_verdict takes any config; basic_inspect refuses this one.
    writeFileSync(cfg, JSON.stringify({ deny_ports: 'x' }));
    expect(cli(['module', 'load', PORT_VERDICT, '--name', 'guard', '--config', cfg], env).status).toBe(0);
    const r = cli(['module', 'load', BASIC, '--name', 'guard'], env);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/error\[E_MODULE_CONFIG\]: module guard refused its configuration/);
    expect(r.stderr).toContain(`hint: that config (${cfg}) was kept from the previous registration of guard: give this module its own with --config FILE, or none with --no-config`);
    expect(stored(state, 'guard').source).toBe(PORT_VERDICT);
  });
});
