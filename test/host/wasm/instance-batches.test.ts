import { beforeAll, describe, expect, it } from 'vitest';
import { InspectorInstance } from '../../../host/wasm/instance.js';
import { DEFAULT_LIMITS, META, MetaFlag, Status, EventKind, LogLevel } from '../../../host/wasm/abi.js';
import { Verdict } from '../../../host/verdict.js';
import { SecuxflowError } from '../../../host/errors.js';
import type { CompiledInspector } from '../../../host/wasm/loader.js';
import type { ModuleLogLevel } from '../../../host/wasm/types.js';
import { bytes, compileFixture, item, output, packet, rejection } from './helpers.js';

let probe: CompiledInspector;
beforeAll(async () => { probe = await compileFixture('probe'); });

type Line = { level: ModuleLogLevel; message: string };
async function probeInstance(opts: Parameters<typeof InspectorInstance.create>[1] = {}): Promise<{ inst: InspectorInstance; logs: Line[] }> {
  const logs: Line[] = [];
  const inst = await InspectorInstance.create(probe, { logger: (_m, level, message) => logs.push({ level, message }), ...opts });
  return { inst, logs };
}

const cmd = (...parts: (string | number[])[]) => item(packet({ payload: bytes(...parts) }));

describe('InspectorInstance runs batches through the ABI', () => {
  it('gives each packet of a batch its own verdict, and every verdict value passes through', async () => {
    const { inst } = await probeInstance();
    const items = [0, 1, 2, 3, 4, 5].map((v) => cmd('V', [v, 0, v * 10]));
    const out = output(items.length);
    inst.inspect(items, items.length, out);
    expect(Array.from(out.verdicts)).toEqual([Verdict.CONTINUE, Verdict.PASS, Verdict.ALLOW_FLOW, Verdict.DROP, Verdict.BLOCK_FLOW, Verdict.BLOCK_SRC]);
    expect(Array.from(out.verdictArgs)).toEqual([0, 10, 20, 30, 40, 50]);
    expect(inst.stats.batches).toBe(1);
    expect(inst.stats.packets).toBe(6);
  });

  it('carries the BLOCK_SRC ttl as VERDICT_ARG', async () => {
    const { inst } = await probeInstance();
    const out = output(1);
    inst.inspect([cmd('V', [Verdict.BLOCK_SRC, 0x01, 0x2c])], 1, out);
    expect(out.verdicts[0]).toBe(Verdict.BLOCK_SRC);
    expect(out.verdictArgs[0]).toBe(300);
  });

  it('treats an out-of-range verdict byte as CONTINUE and counts it', async () => {
    const { inst } = await probeInstance();
    const out = output(2);
    inst.inspect([cmd('V', [6, 0, 1]), cmd('V', [200, 0, 1])], 2, out);
    expect(Array.from(out.verdicts)).toEqual([0, 0]);
    expect(Array.from(out.verdictArgs)).toEqual([0, 0]);
    expect(inst.stats.verdictErrors).toBe(2);
  });

  it('splits inputs larger than the batch area into several on_batch calls, keeping indices', async () => {
    const { inst } = await probeInstance({ batchCapacity: 3, dataCapacity: 4096 });
    const items = Array.from({ length: 10 }, (_, i) => cmd('A', [i + 1], `n${i}`));
    const out = output(10);
    inst.inspect(items, 10, out);
    expect(inst.stats.batches).toBe(4);
    expect(out.alerts.map((a) => [a.index, a.sigId, a.message])).toEqual(items.map((_, i) => [i, i + 1, `n${i}`]));
    // data space forces splits too: 3 packets of ~1.4 KB in 4 KiB
    const big = Array.from({ length: 3 }, () => cmd('V', [1, 0, 0], 'x'.repeat(1400)));
    const before = inst.stats.batches;
    inst.inspect(big, 3, output(3));
    expect(inst.stats.batches - before).toBe(2);
  });

  it('writes the meta record as docs/abi/v1.md lays it out', async () => {
    const { inst } = await probeInstance();
    const pkt = packet({ payload: 'P', vlans: [42], srcPort: 1234, dstPort: 8080, tcpFlags: 0x18 }, [1_700_000_123, 456_789]);
    const stream = new TextEncoder().encode('hello P');
    const out = output(1);
    inst.inspect([{ pkt, flowId: 2 ** 40 + 7, direction: 1, flags: MetaFlag.FLOW_START, stream, streamNew: 1 }], 1, out);
    const hex = out.alerts[0]!.message;
    const rec = Uint8Array.from(hex.match(/../g)!.map((h) => parseInt(h, 16)));
    const dv = new DataView(rec.buffer);
    expect(dv.getBigUint64(META.FLOW_ID, true)).toBe(2n ** 40n + 7n);
    expect(dv.getUint32(META.TS_SEC, true)).toBe(1_700_000_123);
    expect(dv.getUint32(META.TS_NSEC, true)).toBe(456_789);
    expect(dv.getUint32(META.PKT_LEN, true)).toBe(pkt.data.length);
    expect(dv.getUint32(META.PAYLOAD_LEN, true)).toBe(1);
    expect(dv.getUint32(META.STREAM_PTR, true)).toBe(dv.getUint32(META.PKT_PTR, true) + pkt.data.length);
    expect(dv.getUint32(META.STREAM_LEN, true)).toBe(stream.length);
    expect(dv.getUint32(META.STREAM_NEW, true)).toBe(1);
    expect(dv.getUint32(META.WIRE_LEN, true)).toBe(pkt.wireLen);
    expect(dv.getUint16(META.L3_OFF, true)).toBe(pkt.l3Offset);
    expect(dv.getUint16(META.L4_OFF, true)).toBe(pkt.l4Offset);
    expect(dv.getUint16(META.PAYLOAD_OFF, true)).toBe(pkt.payloadOffset);
    expect(dv.getUint16(META.SRC_PORT, true)).toBe(1234);
    expect(dv.getUint16(META.DST_PORT, true)).toBe(8080);
    expect(dv.getUint16(META.VLAN_ID, true)).toBe(42);
    expect(rec[META.IP_VERSION]).toBe(4);
    expect(rec[META.L4_PROTO]).toBe(6);
    expect(rec[META.TCP_FLAGS]).toBe(0x18);
    expect(rec[META.DIRECTION]).toBe(1);
    expect(rec[META.FLAGS]).toBe(MetaFlag.FLOW_START);
  });

  it('marks absent layers 0xFFFF and sets MALFORMED/TRUNCATED from the packet', async () => {
    const { inst } = await probeInstance();
    const good = packet({ payload: 'P' });
    const arp = { ...good, ipVersion: 0 as const, l3Offset: -1, l4Offset: -1, malformed: 'test: cut', wireLen: good.data.length + 10 };
    // payload still present so the probe runs its P command
    const out = output(1);
    inst.inspect([item(arp)], 1, out);
    const rec = Uint8Array.from(out.alerts[0]!.message.match(/../g)!.map((h) => parseInt(h, 16)));
    const dv = new DataView(rec.buffer);
    expect(dv.getUint16(META.L3_OFF, true)).toBe(0xffff);
    expect(dv.getUint16(META.L4_OFF, true)).toBe(0xffff);
    expect(rec[META.FLAGS]! & MetaFlag.MALFORMED).toBe(MetaFlag.MALFORMED);
    expect(rec[META.FLAGS]! & MetaFlag.TRUNCATED).toBe(MetaFlag.TRUNCATED);
    expect(dv.getUint32(META.STREAM_PTR, true)).toBe(0);
  });

  it('cuts a packet or stream larger than the data region, flagging TRUNCATED / STREAM_GAP', async () => {
    const { inst } = await probeInstance({ batchCapacity: 4, dataCapacity: 300 });
    const big = packet({ payload: 'P' + 'x'.repeat(399) });
    const out = output(2);
    const small = packet({ payload: 'P' });
    const stream = new TextEncoder().encode('s'.repeat(500));
    inst.inspect([item(big), item(small, { stream, streamNew: 400 })], 2, out);
    const rec = (i: number) => {
      const r = Uint8Array.from(out.alerts[i]!.message.match(/../g)!.map((h) => parseInt(h, 16)));
      return { r, dv: new DataView(r.buffer) };
    };
    const a = rec(0);
    expect(a.dv.getUint32(META.PKT_LEN, true)).toBe(300);
    expect(a.dv.getUint32(META.PAYLOAD_LEN, true)).toBe(300 - big.payloadOffset);
    expect(a.dv.getUint32(META.WIRE_LEN, true)).toBe(big.wireLen);
    expect(a.r[META.FLAGS]! & MetaFlag.TRUNCATED).toBe(MetaFlag.TRUNCATED);
    const b = rec(1); // second on_batch call: the region is empty again
    expect(inst.stats.batches).toBe(2);
    const kept = 300 - small.data.length;
    expect(b.dv.getUint32(META.STREAM_LEN, true)).toBe(kept);
    // 400 new bytes at the end of 500; the cut keeps the first `kept`, of which kept - 100 are new
    expect(b.dv.getUint32(META.STREAM_NEW, true)).toBe(kept - 100);
    expect(b.r[META.FLAGS]! & MetaFlag.STREAM_GAP).toBe(MetaFlag.STREAM_GAP);
  });

  it('hands stream bytes and stream_new to the module', async () => {
    const { inst } = await probeInstance();
    const out = output(1);
    inst.inspect([item(packet({ payload: 'S' }), { stream: new TextEncoder().encode('GET / HTTP/1.1'), streamNew: 4 })], 1, out);
    expect(out.verdictArgs[0]).toBe(14);
    expect(out.alerts[0]).toMatchObject({ sigId: 5, message: 'GET / HTTP/1.1' });
  });

  it('refreshes its memory views when the module grows its memory mid-batch', async () => {
    const { inst } = await probeInstance();
    const before = inst.memoryBytes;
    const out = output(3);
    inst.inspect([cmd('G'), cmd('V', [Verdict.PASS, 0, 9]), cmd('A', [3], 'after grow')], 3, out);
    expect(inst.memoryBytes).toBe(before + 65536);
    expect(Array.from(out.verdicts)).toEqual([Verdict.DROP, Verdict.PASS, Verdict.CONTINUE]);
    expect(out.verdictArgs[1]).toBe(9);
    expect(out.alerts[0]?.message).toBe('after grow');
    const again = output(1);
    inst.inspect([cmd('V', [Verdict.BLOCK_FLOW, 0, 1])], 1, again);
    expect(again.verdicts[0]).toBe(Verdict.BLOCK_FLOW);
  });

  it('a module growing past maxMemoryBytes fails the batch with E_MODULE_TRAP', async () => {
    const { inst } = await probeInstance({ maxMemoryBytes: 4 * 65536, batchCapacity: 16, dataCapacity: 4096 });
    const mem = inst.memoryBytes;
    expect(mem).toBeLessThanOrEqual(4 * 65536);
    const grows = Math.ceil((4 * 65536 - mem) / 65536) + 1;
    const e = (() => { try { inst.inspect(Array.from({ length: grows }, () => cmd('G')), grows, output(grows)); return null; } catch (x) { return x as SecuxflowError; } })();
    expect(e).toBeInstanceOf(SecuxflowError);
    expect(e!.code).toBe('E_MODULE_TRAP');
    expect(e!.message).toMatch(/^module probe grew its memory to \d+ bytes in on_batch, over the host limit of 262144 bytes$/);
    // the default 1 MiB batch area alone does not fit in 1 MiB of memory
    const tooSmall = await rejection(probeInstance({ maxMemoryBytes: 1024 * 1024 }));
    expect(tooSmall.code).toBe('E_MODULE_TRAP');
    expect(tooSmall.message).toContain('in sf_alloc (batch area)');
  });

  it('treats a non-zero on_batch status as CONTINUE for that batch and counts it', async () => {
    const { inst, logs } = await probeInstance();
    const out = output(2);
    out.verdicts.fill(9);
    inst.inspect([cmd('V', [Verdict.DROP, 0, 0]), cmd('B')], 2, out);
    expect(Array.from(out.verdicts)).toEqual([0, 0]);
    expect(inst.stats.batchErrors).toBe(1);
    expect(logs.some((l) => l.level === 'warn' && l.message.includes('on_batch returned status 5'))).toBe(true);
    for (let i = 0; i < 7; i++) inst.inspect([cmd('B')], 1, output(1));
    expect(inst.stats.batchErrors).toBe(8);
    expect(logs.filter((l) => l.message.includes('on_batch returned')).map((l) => /\((\d+) failed/.exec(l.message)![1])).toEqual(['1', '2', '4', '8']);
  });

  it('refuses an output too small for the count with E_INTERNAL', async () => {
    const { inst } = await probeInstance();
    expect(() => inst.inspect([cmd('V', [1, 0, 0]), cmd('V', [1, 0, 0])], 2, output(1))).toThrow(SecuxflowError);
  });
});

describe('hostcalls', () => {
  it('emit_alert with metadata gives a parsed object', async () => {
    const { inst } = await probeInstance();
    const out = output(2);
    inst.inspect([cmd('V', [1, 0, 0]), cmd('M', '{"uri":"/a","n":[1,2]}')], 2, out);
    expect(out.verdictArgs[1]).toBe(Status.OK);
    expect(out.alerts).toEqual([{ index: 1, sigId: 7, severity: 1, message: 'with metadata', metadata: { uri: '/a', n: [1, 2] } }]);
  });

  it('emit_alert with invalid or non-object metadata: BAD_ARGUMENT and no alert', async () => {
    const { inst } = await probeInstance();
    const out = output(3);
    inst.inspect([cmd('M', '{"uri":'), cmd('M', '[1,2]'), cmd('M', [0xff, 0xfe])], 3, out);
    expect(Array.from(out.verdictArgs)).toEqual([Status.BAD_ARGUMENT, Status.BAD_ARGUMENT, Status.BAD_ARGUMENT]);
    expect(out.alerts).toEqual([]);
    expect(inst.stats.hostcallErrors).toBe(3);
  });

  it('metadata over the size cap: LIMIT_REACHED, counted as dropped', async () => {
    const { inst } = await probeInstance({ maxJsonBytes: 32 });
    const out = output(2);
    inst.inspect([cmd('M', JSON.stringify({ k: 'v'.repeat(40) })), cmd('M', '{"k":1}')], 2, out);
    expect(Array.from(out.verdictArgs)).toEqual([Status.LIMIT_REACHED, Status.OK]);
    expect(out.alerts.map((a) => a.metadata)).toEqual([{ k: 1 }]);
    expect(inst.stats.alertsDropped).toBe(1);
  });

  it('emit_event maps kinds to names and checks them', async () => {
    const { inst } = await probeInstance();
    const out = output(4);
    inst.inspect([
      cmd('E', [EventKind.DNS], '{"rrname":"example.org","rrtype":"A"}'),
      cmd('E', [EventKind.HTTP], '{"hostname":"shop.example","url":"/"}'),
      cmd('E', [9], '{"x":1}'),
      cmd('E', [EventKind.TLS], 'not json'),
    ], 4, out);
    expect(Array.from(out.verdictArgs)).toEqual([Status.OK, Status.OK, Status.BAD_ARGUMENT, Status.BAD_ARGUMENT]);
    expect(out.events).toEqual([
      { index: 0, kind: 'dns', data: { rrname: 'example.org', rrtype: 'A' } },
      { index: 1, kind: 'http', data: { hostname: 'shop.example', url: '/' } },
    ]);
  });

  it('log_message reaches the logger with its level; bad level is BAD_ARGUMENT', async () => {
    const { inst, logs } = await probeInstance();
    const out = output(3);
    inst.inspect([cmd('L', [LogLevel.WARN], 'careful'), cmd('L', [LogLevel.DEBUG], 'detail'), cmd('L', [7], 'x')], 3, out);
    expect(Array.from(out.verdictArgs)).toEqual([Status.OK, Status.OK, Status.BAD_ARGUMENT]);
    expect(logs).toEqual([{ level: 'warn', message: 'careful' }, { level: 'debug', message: 'detail' }]);
  });

  it('log budget per batch: LIMIT_REACHED past it, counted', async () => {
    const { inst, logs } = await probeInstance({ logBudget: 2 });
    const out = output(4);
    inst.inspect([1, 2, 3, 4].map((i) => cmd('L', [LogLevel.INFO], `line ${i}`)), 4, out);
    expect(Array.from(out.verdictArgs)).toEqual([Status.OK, Status.OK, Status.LIMIT_REACHED, Status.LIMIT_REACHED]);
    expect(logs.map((l) => l.message)).toEqual(['line 1', 'line 2']);
    expect(inst.stats.logsDropped).toBe(2);
  });

  it('get_time_ns: injected clock, packet clock, wall clock', async () => {
    const fixed = await probeInstance({ now: () => 1_234_567_890_123_456_789n });
    const out = output(1);
    fixed.inst.inspect([cmd('C')], 1, out);
    expect(out.alerts[0]?.sigId).toBe(1_234_567_890);

    const packetClock = await probeInstance({ clock: 'packet' });
    const out2 = output(2);
    packetClock.inst.inspect([item(packet({ payload: 'C' }, [1_600_000_000, 0])), item(packet({ payload: 'C' }, [1_600_000_042, 0]))], 2, out2);
    expect(out2.alerts.map((a) => a.sigId)).toEqual([1_600_000_042, 1_600_000_042]);

    const wall = await probeInstance();
    const out3 = output(1);
    wall.inst.inspect([cmd('C')], 1, out3);
    expect(Math.abs(out3.alerts[0]!.sigId - Math.floor(Date.now() / 1000))).toBeLessThanOrEqual(2);
  });

  it('alert budget: one per packet of a full default batch, the rest LIMIT_REACHED and counted', async () => {
    const budget = DEFAULT_LIMITS.ALERTS_PER_BATCH;
    expect(budget).toBe(256);
    const { inst } = await probeInstance();
    // each 'N' packet tries 100 alerts: three of them ask for 300
    const out = output(3);
    inst.inspect([cmd('N'), cmd('N'), cmd('N')], 3, out);
    expect(Array.from(out.verdictArgs)).toEqual([100, 100, budget - 200]);
    expect(out.alerts).toHaveLength(budget);
    expect(inst.stats.alertsDropped).toBe(300 - budget);
    // the budget is per engine batch (inspect()): the next one gets a fresh budget
    const next = output(1);
    inst.inspect([cmd('N')], 1, next);
    expect(next.verdictArgs[0]).toBe(100);
  });

  it('hostile pointers and indices get OUT_OF_BOUNDS / BAD_ARGUMENT, never a host crash', async () => {
    const { inst } = await probeInstance();
    const out = output(6);
    inst.inspect(['1', '2', '3', '4', '5', '6'].map((n) => cmd('X', n)), 6, out);
    expect(Array.from(out.verdictArgs)).toEqual([
      Status.OUT_OF_BOUNDS, // message far past the end of memory
      Status.OUT_OF_BOUNDS, // length -1 (4 GiB as u32)
      Status.OUT_OF_BOUNDS, // log line straddling the end of memory
      Status.OUT_OF_BOUNDS, // event JSON at 0x7fffffff
      Status.BAD_ARGUMENT,  // pkt_index outside the batch
      Status.BAD_ARGUMENT,  // metadata is not JSON
    ]);
    expect(out.alerts).toEqual([]);
    expect(inst.stats.hostcallErrors).toBe(6);
  });
});

describe('config, traps and flow end', () => {
  it('places the config with sf_alloc and passes it to on_init', async () => {
    const { inst } = await probeInstance({ config: '{"a":1}' });
    const out = output(1);
    inst.inspect([cmd('K')], 1, out);
    expect(out.verdictArgs[0]).toBe(('{'.charCodeAt(0) << 8) | 7);
    const none = await probeInstance();
    const out2 = output(1);
    none.inst.inspect([cmd('K')], 1, out2);
    expect(out2.verdictArgs[0]).toBe(0);
  });

  it('a refused config: E_MODULE_CONFIG quoting the module\'s error line', async () => {
    const e = await rejection(InspectorInstance.create(probe, { config: 'Refused: depth must be > 0', logger: () => {} }));
    expect(e).toBeInstanceOf(SecuxflowError);
    expect(e.code).toBe('E_MODULE_CONFIG');
    expect(e.message).toBe('module probe refused its configuration (on_init status 1): Refused: depth must be > 0');
  });

  it('a trap: E_MODULE_TRAP naming module and trap, and the next batch still works', async () => {
    const { inst } = await probeInstance();
    let err: unknown = null;
    try { inst.inspect([cmd('V', [1, 0, 0]), cmd('T')], 2, output(2)); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(SecuxflowError);
    expect((err as SecuxflowError).code).toBe('E_MODULE_TRAP');
    expect((err as SecuxflowError).message).toMatch(/^module probe trapped in on_batch: unreachable/);
    expect(inst.stats.traps).toBe(1);
    const out = output(1);
    inst.inspect([cmd('V', [Verdict.DROP, 0, 0])], 1, out);
    expect(out.verdicts[0]).toBe(Verdict.DROP);
  });

  it('a trap in the start function: E_MODULE_TRAP at create', async () => {
    const c = await compileFixture('start-trap');
    const e = await rejection(InspectorInstance.create(c));
    expect(e.code).toBe('E_MODULE_TRAP');
    expect(e.message).toMatch(/^module start-trap trapped in instantiation/);
    // no instance was kept: the hint must not promise later batches
    expect(e.hint).toMatch(/failed while starting and was not loaded/);
  });

  it('sf_alloc failing for the batch area: E_MODULE_INVALID', async () => {
    const c = await compileFixture('alloc-fails');
    const e = await rejection(InspectorInstance.create(c));
    expect(e.code).toBe('E_MODULE_INVALID');
    expect(e.message).toContain('returned 0 (out of memory)');
  });

  it('flowEnded reaches on_flow_end with the flow id', async () => {
    const { inst } = await probeInstance();
    const before = output(1);
    inst.inspect([cmd('Q')], 1, before);
    expect(before.verdicts[0]).toBe(Verdict.CONTINUE);
    inst.flowEnded(0x10000 + 0xbeef);
    const after = output(1);
    inst.inspect([cmd('Q')], 1, after);
    expect(after.verdicts[0]).toBe(Verdict.PASS);
    expect(after.verdictArgs[0]).toBe(0xbeef);
  });

  it('rejects nonsense options with E_USAGE', async () => {
    await expect(InspectorInstance.create(probe, { batchCapacity: 0 })).rejects.toMatchObject({ code: 'E_USAGE' });
    await expect(InspectorInstance.create(probe, { dataCapacity: 1.5 })).rejects.toMatchObject({ code: 'E_USAGE' });
  });
});
