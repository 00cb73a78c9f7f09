// A batch's packets are stamped with the wall clock when the batch arrived.
// The queue worker derives it from the batch's one monotonic clock reading,
// so these stamps (EVE timestamps, flow ages, pcap records) must still read
// as wall-clock time: within the milliseconds around processBatch().
import { describe, expect, it } from 'vitest';
import { buildPacket } from '../../../host/packet/build.js';
import { QueueWorker } from '../../../host/daemon/queue-worker.js';
import { DEFAULT_CONFIG } from '../../../host/daemon/config.js';
import { xskBatch } from './xsk-batch.js';

/** Milliseconds since the epoch of an EVE timestamp ("2026-11-24T10:00:00.123456+0000"). */
function eveMs(ts: string): number {
  return Date.parse(ts.replace(/([+-]\d\d)(\d\d)$/, '$1:$2'));
}

describe('packet timestamps in the daemon', () => {
  it('read as the wall clock of the batch, batch after batch', async () => {
    const eve: string[] = [];
    const w = new QueueWorker({ rules: { defaultPolicy: 'drop', rules: [] }, modules: [], config: { ...DEFAULT_CONFIG }, writeBack: null, output: null, eve: (l) => eve.push(l) });
    for (let round = 0; round < 3; round++) {
      const { data, descs } = xskBatch([buildPacket({ src: '198.18.0.1', dst: '198.18.1.1', proto: 'udp', srcPort: 2000 + round, dstPort: 53, payload: 'x' })]);
      eve.length = 0;
      const before = Date.now();
      w.processBatch(data, descs, 1);
      const after = Date.now();
      const drop = eve.map((l) => JSON.parse(l) as { event_type: string; timestamp: string }).find((r) => r.event_type === 'drop');
      expect(drop).toBeDefined();
      const ms = eveMs(drop!.timestamp);
      expect(ms).toBeGreaterThanOrEqual(before - 1);
      expect(ms).toBeLessThanOrEqual(after + 1);
      await new Promise((r) => setTimeout(r, 20));
    }
  });
});
