// sf_flows holds 65,536 entries. When it is full, a verdict cannot be written
// and the flow stays punted: the engine keeps deciding its packets, but each
// of them used to retry the kernel write (a syscall per packet) and log a
// warning line (a log flood the attacker controls). Retries are spaced per
// flow and the warnings are summarised.
import { describe, expect, it, vi } from 'vitest';

const attempts = vi.hoisted(() => ({ flows: 0, full: true }));
vi.mock('../../../host/kernel/verdictmaps.js', () => ({
  writeFlowVerdicts: () => {
    attempts.flows++;
    if (attempts.full) throw new Error('bpf map update: E2BIG (map full)');
  },
  writePenalty: () => {},
}));

import { VerdictWriteBack } from '../../../host/daemon/writeback.js';
import type { VerdictMapFds } from '../../../host/kernel/verdictmaps.js';
import type { PacketDecision } from '../../../host/engine/types.js';
import { Verdict } from '../../../host/verdict.js';
import { packet } from '../engine/support.js';

const FDS = { sf_config: -1, sf_flows: -1, sf_penalty: -1 } as unknown as VerdictMapFds;

function decided(flowId: number, stage: 'module' | 'flow'): PacketDecision {
  return {
    verdict: Verdict.ALLOW_FLOW, stage, flow: { id: flowId, bytesToServer: 0, bytesToClient: 0 },
    pkt: packet({ srcPort: 10000 + (flowId % 50000) }), modules: [], inspected: 1,
  } as unknown as PacketDecision;
}

describe('verdict write-back with sf_flows full', () => {
  it('retries a flow at most once a second, and warns once per interval with the count it left out', () => {
    attempts.flows = 0;
    attempts.full = true;
    let now = 1_000_000;
    const warnings: string[] = [];
    const wb = new VerdictWriteBack(FDS, { packets: 512, bytes: 1 << 20, policy: 'allow' }, () => 0n, () => now, (m) => warnings.push(m));
    // 1,000 flows decided, then 20 more packets of each inside the same second.
    for (let f = 1; f <= 1000; f++) wb.apply(decided(f, 'module'));
    for (let i = 0; i < 20; i++) for (let f = 1; f <= 1000; f++) wb.apply(decided(f, 'flow'));
    expect(attempts.flows).toBe(1000);
    expect(wb.counters.writeErrors).toBe(1000);
    expect(warnings).toHaveLength(1);
    // A second later each flow is tried again; the next warning says how many were left out.
    now += 1000;
    for (let f = 1; f <= 1000; f++) wb.apply(decided(f, 'flow'));
    expect(attempts.flows).toBe(2000);
    now += 10_000;
    attempts.full = false;
    wb.apply(decided(1, 'flow'));
    expect(wb.counters.flowsAllowed).toBe(1);
    attempts.full = true;
    wb.apply(decided(5000, 'module'));
    expect(warnings).toHaveLength(2);
    expect(warnings[1]).toMatch(/1999 more failed writes/);
  });
});
