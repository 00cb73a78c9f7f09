// A component inspector through the CLI: info, load, list, and inspect by its
// registered name give the same alerts as its core twin.
import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { DEMO_PCAP, ROOT, cli, requireBuilt, tempDir } from './support.js';

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
});
