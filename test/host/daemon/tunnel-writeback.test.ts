// XDP keys a tunnelled packet by its outer header, which covers every flow
// of the tunnel: an entry for it would let the whole tunnel through (an
// evasion) or block it (an outage). So the real write-back, fed by a real
// queue worker, writes nothing for inner flows or for tunnel carriers, counts
// them, and the engine drops a blocked inner flow's later packets itself.
import { describe, expect, it, vi } from 'vitest';

const kernel = vi.hoisted(() => ({ flows: [] as unknown[], penalties: [] as unknown[] }));
vi.mock('../../../host/kernel/verdictmaps.js', () => ({
  writeFlowVerdicts: (_fds: unknown, key: unknown, verdict: string) => { kernel.flows.push({ key, verdict }); },
  writePenalty: (_fds: unknown, key: unknown) => { kernel.penalties.push(key); },
}));

import { VerdictWriteBack } from '../../../host/daemon/writeback.js';
import { QueueWorker } from '../../../host/daemon/queue-worker.js';
import { DEFAULT_CONFIG, type DaemonConfig } from '../../../host/daemon/config.js';
import type { VerdictMapFds } from '../../../host/kernel/verdictmaps.js';
import { buildPacket, type PacketSpec } from '../../../host/packet/build.js';
import { portVerdictModule } from '../engine/support.js';
import { xskBatch } from './xsk-batch.js';
import { udpCarrier, vxlan, vxlanHeader, greIp, concat, innerFrame } from '../packet/tunnel-frames.js';
import { daemonStatsRecord } from '../../../host/eve/daemon-stats.js';

const FDS = { sf_config: -1, sf_flows: -1, sf_penalty: -1 } as unknown as VerdictMapFds;
const config: DaemonConfig = { ...DEFAULT_CONFIG, inspectCap: { ...DEFAULT_CONFIG.inspectCap } };
const O = { src: '192.0.2.1', dst: '192.0.2.2' };
// port_verdict answers verdict V for destination port 9000+V: 9002 ALLOW_FLOW, 9004 BLOCK_FLOW, 9005 BLOCK_SRC.
const inner = (dstPort: number, extra: Partial<PacketSpec> = {}): PacketSpec => ({ src: '10.0.0.1', dst: '10.0.0.2', proto: 'tcp', srcPort: 40000, dstPort, payload: 'x', ...extra });

async function worker(cfg: DaemonConfig = config): Promise<{ w: QueueWorker; wb: VerdictWriteBack; sent: Uint8Array[] }> {
  kernel.flows.length = 0;
  kernel.penalties.length = 0;
  const wb = new VerdictWriteBack(FDS, cfg.inspectCap, () => 0n, () => 0);
  const sent: Uint8Array[] = [];
  const output = { send: (from: Uint8Array, d: Uint32Array, n: number) => { for (let i = 0; i < n; i++) sent.push(from.slice(d[2 * i]!, d[2 * i]! + d[2 * i + 1]!)); return n; } };
  const w = new QueueWorker({ rules: { defaultPolicy: 'inspect', rules: [] }, modules: [await portVerdictModule()], config: cfg, writeBack: wb, output, eve: () => {} });
  return { w, wb, sent };
}

function run(w: QueueWorker, frames: Uint8Array[]): number {
  const b = xskBatch(frames);
  return w.processBatch(b.data, b.descs, frames.length);
}

describe('kernel write-back of tunnelled verdicts', () => {
  it('BLOCK_FLOW on an inner flow: no kernel entry, the later packets of that flow are dropped in user space, a sibling flow in the tunnel passes', async () => {
    const { w, wb, sent } = await worker();
    expect(run(w, [vxlan(O, 1, inner(9004))])).toBe(0);
    expect(kernel.flows).toEqual([]);
    expect(wb.counters.tunneledNotOffloaded).toBe(1);
    // Later packets of the blocked inner flow are still punted (the kernel has no entry) and dropped here.
    const later = vxlan(O, 1, inner(9004, { seq: 2, payload: 'y' }));
    const sibling = vxlan(O, 1, inner(9001, { srcPort: 40001 }));
    expect(run(w, [later, sibling])).toBe(1);
    expect(sent).toEqual([sibling]);
    expect(w.counters().byVerdict).toMatchObject({ BLOCK_FLOW: 2, PASS: 1 });
    expect(kernel.flows).toEqual([]);
    // Counted once per flow, however many of its packets come back.
    expect(wb.counters.tunneledNotOffloaded).toBe(1);
  });

  it('ALLOW_FLOW and BLOCK_SRC inside GRE write nothing; the same verdicts on a bare flow do (the control)', async () => {
    const { w, wb } = await worker();
    run(w, [greIp(O, inner(9002)), greIp(O, inner(9005, { srcPort: 40002 }))]);
    expect(kernel.flows).toEqual([]);
    expect(kernel.penalties).toEqual([]);
    // ALLOW_FLOW's flow, BLOCK_SRC's flow and its penalty entry.
    expect(wb.counters.tunneledNotOffloaded).toBe(3);
    run(w, [buildPacket(inner(9002, { srcPort: 40003 })), buildPacket(inner(9005, { srcPort: 40004, src: '10.0.0.9' }))]);
    expect(kernel.flows).toHaveLength(2);
    expect(kernel.penalties).toHaveLength(1);
    expect(wb.counters).toMatchObject({ flowsAllowed: 1, flowsBlocked: 1, penaltyWrites: 1, tunneledNotOffloaded: 3 });
  });

  it('a carrier whose tunnel header was refused (VXLAN without the I flag) gets no inspection-cap entry: its outer tuple would cover the tunnel', async () => {
    const capped: DaemonConfig = { ...config, inspectCap: { ...config.inspectCap, packets: 1, policy: 'allow' } };
    const { w, wb } = await worker(capped);
    const refused = udpCarrier(O, 4789, concat(vxlanHeader(1, 0), innerFrame(inner(80))));
    run(w, [refused, refused]);
    run(w, [buildPacket({ ...inner(80), proto: 'udp', srcPort: 50000, dstPort: 4000 })]);
    // Only the bare UDP flow reached the cap in the kernel.
    expect(kernel.flows).toHaveLength(1);
    expect(wb.counters.flowsCapped).toBe(1);
  });

  it('a BLOCK_SRC inside one overlay blocks that inner source there only, not in another VNI', async () => {
    const { w, sent } = await worker();
    run(w, [vxlan(O, 1, inner(9005))]);
    const sameVni = vxlan(O, 1, inner(9001, { srcPort: 40009 }));
    const otherVni = vxlan(O, 2, inner(9001, { srcPort: 40009 }));
    expect(run(w, [sameVni, otherVni])).toBe(1);
    expect(sent).toEqual([otherVni]);
    expect(kernel.penalties).toEqual([]);
  });

  it('the count reaches the EVE stats record (flow_bypassed.tunneled_not_offloaded)', () => {
    const rec = daemonStatsRecord({
      daemon: { uptimeSec: 1 }, kernel: {}, queues: [], verdicts: {}, modules: [], maps: {}, ringDrops: 0,
      writeBack: { flowsAllowed: 0, flowsBlocked: 0, flowsCapped: 0, writeErrors: 0, tunneledNotOffloaded: 4 },
    } as unknown as Parameters<typeof daemonStatsRecord>[0], 0);
    expect((rec.stats as { flow_bypassed: Record<string, number> }).flow_bypassed.tunneled_not_offloaded).toBe(4);
  });
});
