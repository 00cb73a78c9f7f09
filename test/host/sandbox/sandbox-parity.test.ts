// The sandbox must be invisible when the module behaves: the same verdicts
// and alerts as the in-thread instance, packet by packet, on the demo capture.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dirname, join } from 'node:path';
import { loadModuleFile } from '../../../host/modules/load.js';
import { createModuleRunner, type ManagedRunner } from '../../../host/sandbox/runner.js';
import { InspectorInstance } from '../../../host/wasm/instance.js';
import { loadInspectorFile } from '../../../host/wasm/loader.js';
import { openCapture } from '../../../host/capture/reader.js';
import { decodePacket } from '../../../host/packet/decode.js';
import { SandboxedInspector } from '../../../host/sandbox/sandboxed.js';
import { BASIC_WASM, DEMO_PCAP, requireBuilt, runDemo } from './support.js';

const runners: ManagedRunner[] = [];
afterAll(() => { for (const r of runners) r.close(); });

describe('sandboxed basic_inspect on the demo capture', () => {
  beforeAll(() => requireBuilt());

  it('gives the same verdicts and alerts as the plain in-thread instance', async () => {
    const plain = await InspectorInstance.create(await loadInspectorFile(BASIC_WASM, 'basic_inspect'), { clock: 'packet', logger: () => {} });
    const reference = runDemo([{ name: 'basic_inspect', instance: plain }]);
    const loaded = await loadModuleFile(BASIC_WASM, { name: 'basic_inspect' });
    const sandboxed = await createModuleRunner(loaded, { clock: 'packet', logger: () => {} });
    runners.push(sandboxed);
    const got = runDemo([{ name: 'basic_inspect', instance: sandboxed }]);
    expect(reference.packets).toBeGreaterThan(100);
    expect(reference.alerts.get('basic_inspect')!.length).toBeGreaterThan(0);
    expect(got.verdicts).toEqual(reference.verdicts);
    expect(got.alerts.get('basic_inspect')).toEqual(reference.alerts.get('basic_inspect'));
    expect(got.failures.get('basic_inspect')).toBe(0);
    const s = sandboxed.stats();
    expect(s.status).toBe('ok');
    expect(s.traps).toBe(0);
    expect(s.packets).toBeGreaterThan(0);
    expect(s.meanBatchUs).toBeGreaterThan(0);
    expect(s.p99BatchUs).toBeGreaterThan(0);
  });

  it('batch size does not change the result (records split across worker calls)', async () => {
    const loaded = await loadModuleFile(BASIC_WASM, { name: 'basic_inspect' });
    const big = await createModuleRunner(loaded, { clock: 'packet', logger: () => {} });
    const small = await createModuleRunner(loaded, { clock: 'packet', logger: () => {}, batchCapacity: 3, dataCapacity: 4096 });
    runners.push(big, small);
    const a = runDemo([{ name: 'basic_inspect', instance: big }], undefined, 256);
    const b = runDemo([{ name: 'basic_inspect', instance: small }], undefined, 256);
    expect(b.verdicts).toEqual(a.verdicts);
    expect(b.alerts.get('basic_inspect')).toEqual(a.alerts.get('basic_inspect'));
    expect(small.stats().batches).toBeGreaterThan(big.stats().batches);
  });
});

describe('start()/finish(): several sandboxed modules at once', () => {
  it('gives each module the same verdicts and alerts as inspect() one after the other', async () => {
    const items = [...openCapture(DEMO_PCAP).frames()].map((f, i) => ({
      pkt: decodePacket(f.data, f.linkType, f.tsSec, f.tsNsec, f.wireLen), flowId: i + 1, direction: 0 as const, flags: 0, stream: null, streamNew: 0,
    }));
    const files = ['basic_inspect.wasm', 'port_guard.wasm', 'port_guard_component.wasm'];
    const out = () => ({ verdicts: new Uint8Array(items.length), verdictArgs: new Uint16Array(items.length), alerts: [] as unknown[], events: [] as unknown[] });
    const make = async (f: string) => {
      const mod = await loadModuleFile(join(dirname(BASIC_WASM), f));
      const r = await SandboxedInspector.create(mod.source, { clock: 'packet', logger: () => {}, batchCapacity: 64 });
      runners.push(r);
      return r;
    };
    const one = await Promise.all(files.map(make));
    const two = await Promise.all(files.map(make));
    const seq = files.map(() => out());
    one.forEach((r, i) => r.inspect(items, items.length, seq[i] as never));
    const par = files.map(() => out());
    two.forEach((r, i) => r.start(items, items.length, par[i] as never));
    two.forEach((r) => r.finish());
    for (let i = 0; i < files.length; i++) {
      expect([...par[i]!.verdicts], files[i]).toEqual([...seq[i]!.verdicts]);
      expect(par[i]!.alerts, files[i]).toEqual(seq[i]!.alerts);
    }
    expect(seq.some((o) => o.alerts.length > 0)).toBe(true);
  });
});
