// The AssemblyScript SDK, end to end: a module built from
// test/fixtures/modules/sdk_probe with the project's asconfig.json.
import { beforeAll, describe, expect, it } from 'vitest';
import { InspectorInstance } from '../../../host/wasm/instance.js';
import type { CompiledInspector } from '../../../host/wasm/loader.js';
import type { InspectItem, ModuleLogLevel } from '../../../host/wasm/types.js';
import { Verdict } from '../../../host/verdict.js';
import { SecuxflowError } from '../../../host/errors.js';
import { compileSdkProbe, item, output, packet, rejection } from './helpers.js';

let compiled: CompiledInspector;
beforeAll(async () => {
  compiled = await compileSdkProbe();
}, 180_000);

async function create(config?: string, logs: { level: ModuleLogLevel; message: string }[] = []): Promise<InspectorInstance> {
  return InspectorInstance.create(compiled, { ...(config !== undefined ? { config } : {}), logger: (_m, level, message) => logs.push({ level, message }) });
}

function run(inst: InspectorInstance, items: InspectItem[]) {
  const out = output(items.length);
  inst.inspect(items, items.length, out);
  return out;
}

describe('AssemblyScript SDK runtime', () => {
  it('logs through log_message during on_init', async () => {
    const logs: { level: ModuleLogLevel; message: string }[] = [];
    await create(undefined, logs);
    expect(logs).toEqual([{ level: 'info', message: 'sdk_probe ready' }]);
  });

  it('an AssemblyScript abort becomes E_MODULE_TRAP quoting the abort message, and the instance keeps working', async () => {
    const inst = await create();
    const e = (() => { try { run(inst, [item(packet({ payload: 'a' }))]); return null; } catch (x) { return x as SecuxflowError; } })();
    expect(e).toBeInstanceOf(SecuxflowError);
    expect(e!.code).toBe('E_MODULE_TRAP');
    expect(e!.message).toMatch(/^module sdk_probe trapped in on_batch: unreachable.*\(module said: abort: sdk probe abort at test\/fixtures\/modules\/sdk_probe\/index\.ts:\d+:\d+\)$/);
    expect(run(inst, [item(packet({ payload: 'v' }))]).verdicts[0]).toBe(Verdict.BLOCK_SRC);
  });

  it('setBlockTtl reaches VERDICT_ARG', async () => {
    const out = run(await create(), [item(packet({ payload: 'v' }))]);
    expect([out.verdicts[0], out.verdictArgs[0]]).toEqual([Verdict.BLOCK_SRC, 77]);
  });

  it('text with an unpaired surrogate still reaches the host, as U+FFFD', async () => {
    const out = run(await create(), [item(packet({ payload: 'u' }))]);
    expect(out.alerts).toHaveLength(1);
    expect(out.alerts[0]!.message).toBe('x\ufffdy');
    expect(out.alerts[0]!.metadata).toEqual({ odd: 'x\ufffdy' });
  });

  it('FlowMap keeps per-flow state and on_flow_end clears it', async () => {
    const inst = await create();
    const f = (flowId: number) => item(packet({ payload: 'f' }), { flowId });
    const first = run(inst, [f(5), f(5), f(6), f(5)]);
    expect(first.alerts.map((a) => [a.sigId, a.metadata])).toEqual([[1, { size: 1 }], [2, { size: 1 }], [1, { size: 2 }], [3, { size: 2 }]]);
    inst.flowEnded(5);
    const after = run(inst, [f(5), f(6)]);
    expect(after.alerts.map((a) => [a.sigId, a.metadata])).toEqual([[1, { size: 2 }], [2, { size: 2 }]]);
  });

  it('event() with the JSON writer escapes strings so the host reads them back exactly', async () => {
    const out = run(await create(), [item(packet({ payload: 'e' }))]);
    expect(out.events).toEqual([{ index: 0, kind: 'http', data: {
      hostname: 'shop.example', url: '/q?a="b"\\c\n\t\u0001é', status: 200, length: 12.5, ok: true, none: null, list: [1, 'two'],
    } }]);
  });

  it('packet accessors read the meta record and the frame, with -1 out of bounds', async () => {
    const pkt = packet({ src: '198.18.1.2', dst: '198.18.3.4', srcPort: 40000, dstPort: 8080, tcpFlags: 0x18, vlans: [7], payload: 'r-payload!' }, [1_700_000_001, 999]);
    const out = run(await create(), [{ pkt, flowId: 2 ** 33 + 5, direction: 1, flags: 0x02, stream: new TextEncoder().encode('Zz'), streamNew: 2 }]);
    const m = out.alerts[0]!.metadata!;
    const d = pkt.data;
    const be32 = (o: number) => new DataView(d.buffer, d.byteOffset).getUint32(o);
    expect(m).toEqual({
      u8_0: d[0], u8_neg: -1, u8_end: -1,
      ethertype: 0x8100, u16_oob: -1,
      u32_l3: be32(pkt.l3Offset + 12), u32_oob: -1,
      src4: be32(pkt.l3Offset + 12), dst4: be32(pkt.l3Offset + 16), sport: 40000, dport: 8080,
      server_port: 40000, proto: 6, ipver: 4, vlan: 7,
      l3: pkt.l3Offset, l4: pkt.l4Offset, payload_off: pkt.payloadOffset, payload_len: 10,
      payload_last: '!'.charCodeAt(0), payload_oob: -1,
      stream_len: 2, stream_new: 2, stream_0: 'Z'.charCodeAt(0),
      tcp_flags: 0x18, dir: 1, flags: 0x02, wire: pkt.wireLen,
      ts: 1_700_000_001, tsn: 999, flow_hi: 2, flow_lo: 5,
      addr_len: 4, src_first: 198,
    });
  });

  it('byte search: case-sensitive, case-insensitive, from an offset, in the stream', async () => {
    const out = run(await create(), [
      item(packet({ payload: 's needle NEEDLE' }), { stream: new TextEncoder().encode('xxNEEDLE'), streamNew: 8 }),
      item(packet({ payload: 's NeEdLe only' })),
    ]);
    expect(out.alerts.map((a) => a.metadata)).toEqual([
      { cs: 2, ci: 2, cs_from: 2, stream_ci: 2 },
      { cs: -1, ci: 2, cs_from: -1, stream_ci: -1 },
    ]);
  });

  it('nowNs() is get_time_ns', async () => {
    const inst = await InspectorInstance.create(compiled, { now: () => 1_650_000_000_500_000_000n, logger: () => {} });
    expect(run(inst, [item(packet({ payload: 't' }))]).alerts[0]!.sigId).toBe(1_650_000_000);
  });

  it('the JSON reader gives the module what the config said (round trip through the writer)', async () => {
    const config = { a: [1, -2.5, 3e3, true, false, null], s: 'q"\\\n\u00e9\u{1F600}', o: { nested: { deep: [] } }, empty: {} };
    const out = run(await create(JSON.stringify(config)), [item(packet({ payload: 'c' }))]);
    expect(out.alerts[0]!.metadata).toEqual({ config });
    const none = run(await create(), [item(packet({ payload: 'c' }))]);
    expect(none.alerts[0]!.metadata).toEqual({ config: null });
  });

  it.each([
    ['{"a":1,}', 'expected a string key at byte 7'],
    ['{"a" 1}', "expected ':' at byte 5"],
    ['[1,2', 'unexpected end of input at byte 4'],
    ['{"a":"\\x"}', 'bad escape at byte 7'],
    ['{"a":01}', "expected ',' or '}' at byte 6"],
    ['{"a":1', 'unexpected end of input at byte 6'],
    ['{} x', 'unexpected data after the JSON value at byte 3'],
    ['"\u0001"', 'control character in string at byte 1'],
    ['-', 'invalid number at byte 1'],
    ['['.repeat(100) + ']'.repeat(100), 'nesting deeper than 64'],
  ])('the JSON reader refuses %j: E_MODULE_CONFIG saying where', async (text, why) => {
    const e = await rejection(create(text));
    expect(e).toBeInstanceOf(SecuxflowError);
    expect(e.code).toBe('E_MODULE_CONFIG');
    expect(e.message).toContain(`config is not valid JSON: ${why}`);
  });

  it('onInit returning false: E_MODULE_CONFIG with the module\'s reason', async () => {
    const e = await rejection(create('{"refuse": 1}'));
    expect(e.code).toBe('E_MODULE_CONFIG');
    expect(e.message).toBe('module sdk_probe refused its configuration (on_init status 1): config: refuse was set');
  });
});

describe('AssemblyScript SDK tables', () => {
  // splitmix64's finaliser, as modules/sdk/lib/hash.ts mix64.
  const mix64 = (x: bigint): bigint => {
    const M = (1n << 64n) - 1n;
    x = ((x ^ (x >> 30n)) * 0xbf58476d1ce4e5b9n) & M;
    x = ((x ^ (x >> 27n)) * 0x94d049bb133111ebn) & M;
    return x ^ (x >> 31n);
  };
  const tableHash = async (opts: { clock?: 'packet'; now?: () => bigint }): Promise<bigint> => {
    const inst = await InspectorInstance.create(compiled, { ...opts, logger: () => {} });
    const meta = run(inst, [item(packet({ payload: 'h' }))]).alerts[0]!.metadata as { lo: number; hi: number };
    return (BigInt(meta.hi) << 32n) | BigInt(meta.lo);
  };

  it('seed their index hash from the clock at on_init, so senders cannot precompute colliding keys', async () => {
    const a = await tableHash({ now: () => 1_767_225_600_123_456_789n });
    const b = await tableHash({ now: () => 1_767_225_600_987_654_321n });
    expect(a).toBe(mix64(12345n ^ 1_767_225_600_123_456_789n));
    expect(b).toBe(mix64(12345n ^ 1_767_225_600_987_654_321n));
    expect(a).not.toBe(b);
  });

  it('under the packet clock the seed is 0, so an offline run replays the same way', async () => {
    expect(await tableHash({ clock: 'packet' })).toBe(mix64(12345n));
    expect(await tableHash({ clock: 'packet' })).toBe(mix64(12345n));
  });
});
