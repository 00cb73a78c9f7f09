// One queue's work with real frames, the real engine and a real module, fed
// in the layout AF_XDP receive() writes: passed frames reach the output
// byte for byte, dropped ones do not, and module swaps between batches keep
// every packet decided exactly once.
import { describe, expect, it } from 'vitest';
import { buildPacket, fragmentIp, type PacketSpec } from '../../../host/packet/build.js';
import { QueueWorker } from '../../../host/daemon/queue-worker.js';
import { DEFAULT_CONFIG, type DaemonConfig } from '../../../host/daemon/config.js';
import { portVerdictModule } from '../engine/support.js';
import { xskBatch } from './xsk-batch.js';

const config: DaemonConfig = { ...DEFAULT_CONFIG, inspectCap: { ...DEFAULT_CONFIG.inspectCap } };

function batch(specs: Partial<PacketSpec>[]): { data: Uint8Array; descs: Uint32Array; frames: Uint8Array[] } {
  const frames = specs.map((s) => buildPacket({ src: '198.18.0.1', dst: '198.18.1.1', proto: 'tcp', srcPort: 40000, dstPort: 80, payload: 'x', ...s } as PacketSpec));
  return { ...xskBatch(frames), frames };
}

function collector(): { sent: Uint8Array[]; send: (from: Uint8Array, d: Uint32Array, n: number) => number } {
  const sent: Uint8Array[] = [];
  return {
    sent,
    send: (from, d, n) => {
      for (let i = 0; i < n; i++) sent.push(from.slice(d[2 * i]!, d[2 * i]! + d[2 * i + 1]!));
      return n;
    },
  };
}

describe('queue worker', () => {
  it('sends passed frames unchanged and drops the rest (port_verdict: 9000+V answers V)', async () => {
    const out = collector();
    const eve: string[] = [];
    const w = new QueueWorker({ rules: { defaultPolicy: 'inspect', rules: [] }, modules: [await portVerdictModule()], config, writeBack: null, output: out, eve: (l) => eve.push(l) });
    const b = batch([
      { srcPort: 40001, dstPort: 9001 }, // PASS
      { srcPort: 40002, dstPort: 9003 }, // DROP
      { srcPort: 40003, dstPort: 9002 }, // ALLOW_FLOW: delivered
      { srcPort: 40004, dstPort: 9004 }, // BLOCK_FLOW
    ]);
    expect(w.processBatch(b.data, b.descs, 4)).toBe(2);
    expect(out.sent).toEqual([b.frames[0], b.frames[2]]);
    const c = w.counters();
    expect(c).toMatchObject({ batches: 1, packets: 4, delivered: 2, dropped: 2, sendFailed: 0 });
    expect(c.byVerdict).toMatchObject({ PASS: 1, DROP: 1, ALLOW_FLOW: 1, BLOCK_FLOW: 1 });
    expect(w.moduleNames).toEqual(['port_verdict']);
  });

  it('fragments held across batches survive the batch buffer being reused: the datagram is decided whole and every fragment leaves intact', async () => {
    const out = collector();
    const w = new QueueWorker({ rules: { defaultPolicy: 'inspect', rules: [] }, modules: [await portVerdictModule()], config, writeBack: null, output: out, eve: () => {} });
    const datagram = buildPacket({ src: '198.18.0.1', dst: '198.18.1.1', proto: 'udp', srcPort: 40010, dstPort: 9001, payload: 'f'.repeat(100) } as PacketSpec);
    const frags = fragmentIp(datagram, 40, 77);
    expect(frags).toHaveLength(3);
    // One buffer, as the AF_XDP receive path reuses it from batch to batch.
    const data = new Uint8Array(4 * 2048);
    const descs = new Uint32Array(8);
    const load = (frames: Uint8Array[]): void => {
      data.fill(0xaa);
      frames.forEach((f, i) => {
        data.set(f, i * 2048);
        descs[2 * i] = i * 2048;
        descs[2 * i + 1] = f.length;
      });
    };
    load(frags.slice(0, 2));
    expect(w.processBatch(data, descs, 2)).toBe(0); // held until the datagram completes
    load(frags.slice(2));
    expect(w.processBatch(data, descs, 1)).toBe(3); // 9001: PASS for the whole datagram
    expect(out.sent).toHaveLength(3);
    expect(new Set(out.sent.map((f) => Buffer.from(f).toString('hex')))).toEqual(new Set(frags.map((f) => Buffer.from(f).toString('hex'))));
  });

  it('swapping modules between batches decides every packet exactly once', async () => {
    const out = collector();
    const first = await portVerdictModule('pv_a');
    const w = new QueueWorker({ rules: { defaultPolicy: 'inspect', rules: [] }, modules: [first], config, writeBack: null, output: out, eve: () => {} });
    const b1 = batch([{ srcPort: 41001, dstPort: 9001 }, { srcPort: 41002, dstPort: 9001 }]);
    w.processBatch(b1.data, b1.descs, 2);
    const unused = w.replace({ modules: [await portVerdictModule('pv_b')] });
    expect(unused.map((m) => m.name)).toEqual(['pv_a']);
    const b2 = batch([{ srcPort: 41001, dstPort: 9001 }, { srcPort: 41003, dstPort: 9003 }]);
    w.processBatch(b2.data, b2.descs, 2);
    expect(w.moduleNames).toEqual(['pv_b']);
    expect(out.sent).toEqual([b1.frames[0], b1.frames[1], b2.frames[0]]);
    const c = w.counters();
    expect(c.packets).toBe(4);
    expect(c.delivered + c.dropped).toBe(4);
  });

  it('refuses a rule set naming a module that is not loaded, and keeps working with the old rules', async () => {
    const out = collector();
    const w = new QueueWorker({ rules: { defaultPolicy: 'inspect', rules: [] }, modules: [await portVerdictModule()], config, writeBack: null, output: out, eve: () => {} });
    const rule = { id: 1, priority: 1, src: null, dst: null, srcPort: null, dstPort: null, proto: 'any' as const, action: 'inspect' as const, modules: ['missing'], vlan: null, comment: '' };
    expect(() => w.replace({ rules: { defaultPolicy: 'inspect', rules: [rule] } })).toThrow(/module "missing"/);
    const b = batch([{ dstPort: 9001 }]);
    expect(w.processBatch(b.data, b.descs, 1)).toBe(1);
    // Nothing of the refused change stayed behind: a later config-only change builds on the old rules.
    expect(() => w.replace({ config: { ...config } })).not.toThrow();
    expect(w.processBatch(b.data, b.descs, 1)).toBe(1);
  });

  it('a config reload that changes nothing the engine reads keeps undecided flows; one that does ends them', async () => {
    const eve: string[] = [];
    const w = new QueueWorker({ rules: { defaultPolicy: 'inspect', rules: [] }, modules: [await portVerdictModule()], config, writeBack: null, output: collector(), eve: (l) => eve.push(l) });
    const b = batch([{ srcPort: 42001, dstPort: 9000 }]); // CONTINUE: the flow stays undecided in the engine
    w.processBatch(b.data, b.descs, 1);
    const flowEvents = (): number => eve.filter((l) => JSON.parse(l).event_type === 'flow').length;
    w.replace({ config: { ...config, queueScheduling: { policy: 'normal', nice: 5 }, expiryIntervalSec: 9, controlGroup: 'adm' } });
    expect(flowEvents()).toBe(0);
    w.processBatch(b.data, b.descs, 1);
    w.replace({ config: { ...config, streamDepth: 1024 } });
    expect(flowEvents()).toBe(1);
    // The flow was one flow across the kept engine: both packets are in its record.
    expect(JSON.parse(eve.find((l) => JSON.parse(l).event_type === 'flow')!).flow.pkts_toserver).toBe(2);
  });

  it('a prepared change applies only on commit; an aborted one leaves the queue as it was', async () => {
    const out = collector();
    const eve: string[] = [];
    const w = new QueueWorker({ rules: { defaultPolicy: 'inspect', rules: [] }, modules: [await portVerdictModule()], config, writeBack: null, output: out, eve: (l) => eve.push(l) });
    const dropAll = { defaultPolicy: 'drop' as const, rules: [] };
    const b = batch([{ srcPort: 43001, dstPort: 9001 }]); // PASS from the module while rules inspect
    w.prepare({ rules: dropAll });
    expect(w.processBatch(b.data, b.descs, 1)).toBe(1); // prepared, not applied
    w.abort();
    expect(() => w.commit()).toThrow(/without a prepared change/);
    expect(w.processBatch(b.data, b.descs, 1)).toBe(1);
    w.prepare({ rules: dropAll });
    expect(w.commit()).toEqual([]);
    expect(w.processBatch(b.data, b.descs, 1)).toBe(0); // the default policy now drops
    expect(out.sent).toHaveLength(2);
  });
});

