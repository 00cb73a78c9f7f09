// Verdict write-back and expiry against the real XDP program: decisions made
// by the real engine and module (through the daemon's queue worker) are
// written into the program's maps, and BPF_PROG_TEST_RUN then shows the
// kernel deciding the rest of the flow (both directions) or the source
// itself, with no punt. Expiry deletes idle flows by their counters and
// penalty entries by their deadline.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KernelTestBench } from '../../host/kernel/testrun.js';
import { buildPacket, type PacketSpec } from '../../host/packet/build.js';
import { parseIp } from '../../host/packet/addr.js';
import { MapName, SfActive, SfConfig, reverseFlowKey, type FlowKey } from '../../host/kernel/codec.js';
import { loadConfigWord, readConfigValue } from '../../host/kernel/config.js';
import { mapDump } from '../../host/kernel/native.js';
import { readFlowVerdict, type VerdictMapFds } from '../../host/kernel/verdictmaps.js';
import { QueueWorker } from '../../host/daemon/queue-worker.js';
import { VerdictWriteBack } from '../../host/daemon/writeback.js';
import { VerdictExpiry } from '../../host/daemon/expiry.js';
import { DEFAULT_CONFIG, type DaemonConfig } from '../../host/daemon/config.js';
import { portVerdictModule } from '../host/engine/support.js';
import { requireKernel } from './support/kernel.js';

const k = requireKernel();
const CLIENT = '198.18.3.10';
const SERVER = '198.18.4.20';

function frame(over: Partial<PacketSpec>): Uint8Array {
  return buildPacket({ src: CLIENT, dst: SERVER, proto: 'tcp', srcPort: 40000, dstPort: 80, payload: 'data', ...over } as PacketSpec);
}

function key(sport: number, dport: number): FlowKey {
  return { src: parseIp(CLIENT), dst: parseIp(SERVER), sport, dport, vlanOuter: 0, vlanInner: 0, proto: 6 };
}

describe.skipIf(k.skip)('daemon write-back into the real XDP maps', () => {
  let bench: KernelTestBench;
  let fds: VerdictMapFds;
  let worker: QueueWorker;
  let writeBack: VerdictWriteBack;
  let monoNs = 0n;

  const feed = (frames: Uint8Array[]): void => {
    const data = new Uint8Array(frames.length * 2048);
    const descs = new Uint32Array(frames.length * 2);
    frames.forEach((f, i) => { data.set(f, i * 2048); descs[2 * i] = i * 2048; descs[2 * i + 1] = f.length; });
    worker.processBatch(data, descs, frames.length);
  };

  beforeAll(async () => {
    bench = new KernelTestBench();
    bench.setDefaultPolicy('inspect');
    fds = { sf_config: bench.maps[MapName.CONFIG]!, sf_flows: bench.maps[MapName.FLOWS]!, sf_penalty: bench.maps[MapName.PENALTY]! };
    const config: DaemonConfig = { ...DEFAULT_CONFIG, inspectCap: { packets: 3, bytes: 1 << 30, policy: 'allow' } };
    monoNs = process.hrtime.bigint();
    writeBack = new VerdictWriteBack(fds, config.inspectCap, () => monoNs);
    worker = new QueueWorker({ rules: { defaultPolicy: 'inspect', rules: [] }, modules: [await portVerdictModule()], config, writeBack, output: null, eve: () => {} });
  });
  afterAll(() => bench?.close());

  it('before any verdict the kernel punts the flow (inspect, no socket: fallback)', () => {
    expect(bench.run(frame({ srcPort: 40002, dstPort: 9002 }))).toMatchObject({ stage: 'default', action: 'inspect' });
  });

  it('ALLOW_FLOW: both directions pass in XDP at the flow stage, counted on the entry', () => {
    feed([frame({ srcPort: 40002, dstPort: 9002 })]);
    expect(readFlowVerdict(fds, key(40002, 9002))).toMatchObject({ verdict: 1 });
    expect(readFlowVerdict(fds, reverseFlowKey(key(40002, 9002)))).toMatchObject({ verdict: 1 });
    const before = bench.stats().puntFallback.packets;
    expect(bench.run(frame({ srcPort: 40002, dstPort: 9002 }))).toMatchObject({ stage: 'flow', xdpAction: 'pass' });
    expect(bench.run(frame({ src: SERVER, dst: CLIENT, srcPort: 9002, dstPort: 40002 }))).toMatchObject({ stage: 'flow', xdpAction: 'pass' });
    expect(bench.stats().puntFallback.packets).toBe(before);
    expect(readFlowVerdict(fds, key(40002, 9002))!.packets).toBe(1);
    expect(writeBack.counters.flowsAllowed).toBe(1);
  });

  it('BLOCK_FLOW: the rest of the flow is dropped in XDP, both directions', () => {
    feed([frame({ srcPort: 40004, dstPort: 9004 })]);
    expect(bench.run(frame({ srcPort: 40004, dstPort: 9004 }))).toMatchObject({ stage: 'flow', xdpAction: 'drop' });
    expect(bench.run(frame({ src: SERVER, dst: CLIENT, srcPort: 9004, dstPort: 40004 }))).toMatchObject({ stage: 'flow', xdpAction: 'drop' });
    // another flow of the same hosts is not affected
    expect(bench.run(frame({ srcPort: 40005, dstPort: 9004 }))).toMatchObject({ stage: 'default' });
  });

  it('BLOCK_SRC: the source goes into the penalty box with the module ttl (30 s, monotonic)', () => {
    feed([frame({ src: '198.18.3.99', srcPort: 40009, dstPort: 9005 })]);
    const pen = mapDump(fds.sf_penalty);
    expect(pen.count).toBe(1);
    const expires = new DataView(pen.values.buffer, pen.values.byteOffset).getBigUint64(0, true);
    expect(expires - monoNs).toBe(30_000_000_000n);
    expect(bench.run(frame({ src: '198.18.3.99', srcPort: 50000, dstPort: 22 }))).toMatchObject({ stage: 'penalty', xdpAction: 'drop' });
    expect(readConfigValue(fds.sf_config, SfConfig.PENALTY_ACTIVE)).toBe(1);
  });

  it('CONTINUE up to the inspection cap, then the cap policy (allow) goes into the kernel', () => {
    feed([frame({ srcPort: 40100, dstPort: 7000 }), frame({ srcPort: 40100, dstPort: 7000 })]);
    expect(readFlowVerdict(fds, key(40100, 7000))).toBeNull();
    feed([frame({ srcPort: 40100, dstPort: 7000 })]);
    expect(readFlowVerdict(fds, key(40100, 7000))).toMatchObject({ verdict: 1 });
    expect(writeBack.counters.flowsCapped).toBe(1);
  });

  it('expiry: idle flows go with their reverse entry, moving ones stay; past penalty deadlines go', () => {
    let now = 1_000_000;
    const expiry = new VerdictExpiry(fds, 100_000, () => now, () => process.hrtime.bigint() + 3_600_000_000_000n);
    const first = expiry.sweep();
    expect(first.flowsExpired).toBe(0);
    expect(first.penaltyExpired).toBe(1); // the monotonic clock given is an hour ahead
    expect(readConfigValue(fds.sf_config, SfConfig.PENALTY_ACTIVE)).toBe(0);
    expect(bench.run(frame({ src: '198.18.3.99', srcPort: 50001, dstPort: 22 }))).toMatchObject({ stage: 'default' });
    expect(first.flowEntries).toBe(8); // four flows (BLOCK_SRC blocks its flow too), two directions each
    now += 60_000;
    bench.run(frame({ src: SERVER, dst: CLIENT, srcPort: 9002, dstPort: 40002 })); // only the reverse of the allowed flow moves
    expiry.sweep();
    now += 60_000; // 120 s after the first sweep, 60 s after the allowed flow moved
    const r = expiry.sweep();
    expect(r.flowsExpired).toBe(6);
    expect(readFlowVerdict(fds, key(40002, 9002))).not.toBeNull();
    expect(readFlowVerdict(fds, key(40004, 9004))).toBeNull();
    expect(readFlowVerdict(fds, reverseFlowKey(key(40100, 7000)))).toBeNull();
    now += 200_000;
    expect(expiry.sweep().flowsExpired).toBe(2);
    expect(readConfigValue(fds.sf_config, SfConfig.FLOWS_ACTIVE)).toBe(0);
  });

  it('after expiry lowered the switches, the next verdict raises them again and XDP decides the flow', () => {
    expect(readConfigValue(fds.sf_config, SfConfig.VERDICTS_ACTIVE) & SfActive.FLOWS).toBe(0);
    feed([frame({ srcPort: 40200, dstPort: 9002 })]);
    expect(readConfigValue(fds.sf_config, SfConfig.FLOWS_ACTIVE)).toBe(1);
    expect(readConfigValue(fds.sf_config, SfConfig.VERDICTS_ACTIVE) & SfActive.FLOWS).toBe(SfActive.FLOWS);
    expect(bench.run(frame({ src: SERVER, dst: CLIENT, srcPort: 9002, dstPort: 40200 }))).toMatchObject({ stage: 'flow', xdpAction: 'pass' });
    // The writers' quick check loads words from the mapped value; it must read what a lookup reads.
    for (const word of [SfConfig.FLOWS_ACTIVE, SfConfig.PENALTY_ACTIVE, SfConfig.VERDICTS_ACTIVE, SfConfig.ACTIVE_GEN]) {
      expect(loadConfigWord(fds.sf_config, word)).toBe(readConfigValue(fds.sf_config, word));
    }
  });

  it('a decided flow punted again after its entry went (expiry) is written again', async () => {
    let t = 5_000_000;
    const wb = new VerdictWriteBack(fds, { packets: 100, bytes: 1 << 30, policy: 'allow' }, undefined, () => t);
    const w2 = new QueueWorker({ rules: { defaultPolicy: 'inspect', rules: [] }, modules: [await portVerdictModule('pv2')], config: DEFAULT_CONFIG, writeBack: wb, output: null, eve: () => {} });
    const one = (f: Uint8Array): void => {
      const data = new Uint8Array(2048);
      data.set(f);
      w2.processBatch(data, Uint32Array.of(0, f.length), 1);
    };
    one(frame({ srcPort: 40300, dstPort: 9002 }));
    expect(bench.removeFlowVerdict(key(40300, 9002))).toBe(true);
    one(frame({ srcPort: 40300, dstPort: 9002 })); // same batch window: not re-written yet
    expect(readFlowVerdict(fds, key(40300, 9002))).toBeNull();
    t += 2000;
    one(frame({ srcPort: 40300, dstPort: 9002 }));
    expect(readFlowVerdict(fds, key(40300, 9002))).toMatchObject({ verdict: 1 });
    expect(wb.counters.rewrites).toBe(1);
    expect(wb.counters.flowsAllowed).toBe(1);
  });
});
