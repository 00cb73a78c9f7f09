// After `secuxflow flow delete`, a flow whose kernel entry came from the
// inspection cap (the write-back's byte cap, reached while the engine still
// had the flow undecided) is punted again. The engine has no verdict to
// forget for it, so only the write-back's memory of the write stood between
// it and the cap policy being written again: with it kept, the flow stayed
// punted to the modules for good.
import { describe, expect, it, vi } from 'vitest';

const writes = vi.hoisted(() => [] as string[]);
vi.mock('../../../host/kernel/verdictmaps.js', () => ({
  writeFlowVerdicts: (_fds: unknown, key: { sport: number }, verdict: string) => { writes.push(`${key.sport} ${verdict}`); },
  writePenalty: () => {},
}));

import { buildPacket, type PacketSpec } from '../../../host/packet/build.js';
import { QueueWorker } from '../../../host/daemon/queue-worker.js';
import { VerdictWriteBack } from '../../../host/daemon/writeback.js';
import { DEFAULT_CONFIG, type DaemonConfig } from '../../../host/daemon/config.js';
import type { VerdictMapFds } from '../../../host/kernel/verdictmaps.js';
import { ALL_FLOWS } from '../../../host/flow/selector.js';
import { portVerdictModule } from '../engine/support.js';
import { xskBatch } from './xsk-batch.js';

const FDS = { sf_config: -1, sf_flows: -1, sf_penalty: -1 } as unknown as VerdictMapFds;

describe('flow release and the write-back', () => {
  it('a byte-capped flow still undecided in the engine gets the cap policy written again after a release', async () => {
    const cap = { packets: 1000, bytes: 200, policy: 'allow' as const };
    const config: DaemonConfig = { ...DEFAULT_CONFIG, inspectCap: cap };
    const writeBack = new VerdictWriteBack(FDS, cap);
    // port_verdict answers CONTINUE (0) for port 9000: the engine never decides the flow.
    const w = new QueueWorker({ rules: { defaultPolicy: 'inspect', rules: [] }, modules: [await portVerdictModule()], config, writeBack, output: { send: (_f, _d, n) => n }, eve: () => {} });
    const frame = buildPacket({ src: '198.18.0.1', dst: '198.18.1.1', proto: 'udp', srcPort: 40100, dstPort: 9000, payload: 'p'.repeat(100) } as PacketSpec);
    const send = (): void => {
      const b = xskBatch([frame]);
      w.processBatch(b.data, b.descs, 1);
    };
    send();
    send(); // past 200 bytes: the cap policy is written
    expect(writes).toEqual(['40100 allow']);
    send(); // still punted (say the entry was lost): not written twice within the second
    expect(writes).toEqual(['40100 allow']);

    w.releaseFlows(ALL_FLOWS); // flow delete took the kernel entry away
    send();
    expect(writes).toEqual(['40100 allow', '40100 allow']);
  });
});
