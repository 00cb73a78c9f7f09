// Packets the daemon drops before any module saw them (a stream at its memory
// cap, fragments of a datagram given up, a rule) each wrote an EVE drop
// record: about 400 bytes of disk per packet an attacker sends, for as long as
// the flood lasts. The daemon writes at most DROP_RECORDS_PER_SEC of them per
// queue and counts the rest; every drop is still counted in the queue's
// `dropped`. (Offline, `inspect --eve` keeps every record: it is a report.)
import { describe, expect, it } from 'vitest';
import { buildPacket } from '../../../host/packet/build.js';
import { DROP_RECORDS_PER_SEC, QueueWorker } from '../../../host/daemon/queue-worker.js';
import { DEFAULT_CONFIG } from '../../../host/daemon/config.js';
import { xskBatch } from './xsk-batch.js';

function batch(n: number, base: number): { data: Uint8Array; descs: Uint32Array } {
  return xskBatch(Array.from({ length: n }, (_, i) =>
    buildPacket({ src: '198.18.0.1', dst: '198.18.1.1', proto: 'udp', srcPort: 1024 + ((base + i) % 60000), dstPort: 53, payload: 'x' })));
}

describe('EVE drop records in the daemon', () => {
  it('are written at most DROP_RECORDS_PER_SEC a second per queue; the rest are counted', async () => {
    const eve: string[] = [];
    const w = new QueueWorker({ rules: { defaultPolicy: 'drop', rules: [] }, modules: [], config: { ...DEFAULT_CONFIG }, writeBack: null, output: null, eve: (l) => eve.push(l) });
    const drops = (): number => eve.filter((l) => l.includes('"event_type":"drop"')).length;
    for (let b = 0; b < 40; b++) {
      const { data, descs } = batch(64, b * 64);
      w.processBatch(data, descs, 64);
    }
    const c = w.counters();
    expect(c.dropped).toBe(40 * 64);
    // The flood took well under a second: one second's worth, at most twice over if it straddled a second.
    expect(drops()).toBeGreaterThan(0);
    expect(drops()).toBeLessThanOrEqual(2 * DROP_RECORDS_PER_SEC);
    expect(c.dropRecordsLeftOut).toBe(40 * 64 - drops());
    await new Promise((r) => setTimeout(r, 1100));
    const { data, descs } = batch(8, 9000);
    w.processBatch(data, descs, 8);
    expect(w.counters().dropRecordsLeftOut).toBe(40 * 64 + 8 - drops());
    expect(drops()).toBeGreaterThan(0);
  });
});
