// A component inspector through the CLI: info, load, list, and inspect by its
// registered name give the same alerts as its core twin.
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO_PCAP, ROOT, cli, requireBuilt, tempDir } from './support.js';
import { component, CORE_EXPORTS } from '../host/wasm/helpers.js';

const COMPONENT = join(ROOT, 'build', 'modules', 'port_guard_component.wasm');
const CORE = join(ROOT, 'build', 'modules', 'port_guard.wasm');

describe('component modules through the CLI', () => {
  beforeAll(() => requireBuilt());

  it('info, load, list and inspect treat a component like any module', () => {
    const env = { SECUXFLOW_STATE_DIR: tempDir('mod-comp') };
    const info = cli(['module', 'info', COMPONENT, '--json'], env);
    expect(info.status).toBe(0);
    const i = JSON.parse(info.stdout);
    expect(i).toMatchObject({ kind: 'component', abiVersion: 1, wouldLoad: true });
    expect(i.imports).toEqual([{ name: 'secuxflow:inspector/host', kind: 'instance', signature: null, allowed: true }]);
    expect(i.exports.map((e: { name: string }) => e.name).sort()).toEqual(['abi-version', 'flow-end', 'init', 'inspect-batch']);

    const load = cli(['module', 'load', COMPONENT, '--name', 'pg_component'], env);
    expect(load.stderr).toBe('');
    expect(load.stdout).toMatch(/registered module pg_component \(component, ABI 1/);
    const list = JSON.parse(cli(['module', 'list', '--json'], env).stdout);
    expect(list.modules[0]).toMatchObject({ name: 'pg_component', kind: 'component', status: 'ok', traps: 0 });

    const viaComponent = JSON.parse(cli(['inspect', '--pcap', DEMO_PCAP, '--module', 'pg_component', '--json'], env).stdout);
    const viaCore = JSON.parse(cli(['inspect', '--pcap', DEMO_PCAP, '--module', CORE, '--json'], env).stdout);
    expect(viaComponent.counters).toEqual(viaCore.counters);
    const sids = (r: { alertsBySignature: { signature_id?: number; sid?: number; sigId?: number }[] }) =>
      r.alertsBySignature.map((a) => a.signature_id ?? a.sid ?? a.sigId).sort();
    expect(sids(viaComponent)).toEqual(sids(viaCore));
    expect(sids(viaCore)).toEqual([2000101, 2000102]);
  });

  it('module load refuses a component whose packet record has the world\'s name but another field, saying which and how to fix it', async () => {
    const dir = tempDir('mod-comp-packet');
    const wit = readFileSync(join(ROOT, 'modules', 'wit', 'inspector.wit'), 'utf8').replace('tcp-flags: u8,', 'tcp-flags: u16,');
    const file = join(dir, 'wide_flags.wasm');
    writeFileSync(file, await component(wit, 'inspector', `(module ${CORE_EXPORTS}
      (func (export "flow-end") (param i64)) (func (export "inspect-batch") (param i32 i32) (result i32) (i32.const 0)))`));
    const env = { SECUXFLOW_STATE_DIR: dir, SECUXFLOW_COMPONENT_CACHE: join(dir, 'cache') };
    const load = cli(['module', 'load', file], env);
    expect(load.status).not.toBe(0);
    expect(load.stderr).toMatch(/E_MODULE_INVALID.*inspect-batch export does not take or give the types of world secuxflow:inspector\/inspector: record packet, field tcp-flags: u16 where the world has u8/);
    expect(load.stderr).toMatch(/build it against modules\/wit\/inspector\.wit as shipped/);
    expect(JSON.parse(cli(['module', 'list', '--json'], env).stdout).modules).toEqual([]);
  }, 60_000);
});
