// Anomaly records in the daemon: a malformed packet (an IPv4 header length
// below 5, a TCP data offset past the frame) makes Suricata's anomaly record
// of type decode. They are off unless eve_types asks for them, as Suricata's
// decoder anomalies are, and bounded like drop records: malformed packets
// cost an attacker no more than any others.
import { describe, expect, it } from 'vitest';
import { buildPacket } from '../../../host/packet/build.js';
import { ANOMALY_RECORDS_PER_SEC, QueueWorker } from '../../../host/daemon/queue-worker.js';
import { DEFAULT_CONFIG, parseDaemonConfig, type DaemonConfig } from '../../../host/daemon/config.js';
import type { DaemonStatus } from '../../../host/daemon/daemon.js';
import { describeLive } from '../../../cli/commands/status.js';
import { validStatus } from '../control/fake-daemon.js';
import { xskBatch } from './xsk-batch.js';

/** n UDP frames whose IPv4 header length field says 4 words: "ipv4: header length 4 < 5". */
function badHeaderLengths(n: number, base = 0): { data: Uint8Array; descs: Uint32Array } {
  return xskBatch(Array.from({ length: n }, (_, i) => {
    const f = buildPacket({ src: '198.18.0.1', dst: '198.18.1.1', proto: 'udp', srcPort: 1024 + ((base + i) % 60000), dstPort: 53, payload: 'x' });
    f[14] = 0x44;
    return f;
  }));
}

function worker(config: DaemonConfig, eve: string[]): QueueWorker {
  return new QueueWorker({ rules: { defaultPolicy: 'inspect', rules: [] }, modules: [], config, writeBack: null, output: null, eve: (l) => eve.push(l) });
}

const anomalies = (eve: string[]) => eve.map((l) => JSON.parse(l) as { event_type: string; anomaly?: { type: string; event: string; message: string } })
  .filter((r) => r.event_type === 'anomaly');

describe('EVE anomaly records in the daemon', () => {
  it('are not written by default', () => {
    const eve: string[] = [];
    const { data, descs } = badHeaderLengths(4);
    worker({ ...DEFAULT_CONFIG }, eve).processBatch(data, descs, 4);
    expect(anomalies(eve)).toEqual([]);
  });

  it('with eve_types naming anomaly: one per malformed packet, named as Suricata names decoder events, with the reason', () => {
    const eve: string[] = [];
    const { data, descs } = badHeaderLengths(4);
    worker(parseDaemonConfig('eve_types: [alert, drop, anomaly]', null), eve).processBatch(data, descs, 4);
    const got = anomalies(eve);
    expect(got).toHaveLength(4);
    expect(got[0]!.anomaly).toEqual({ type: 'decode', event: 'decoder.ipv4.hlen_too_small', message: 'ipv4: header length 4 < 5' });
  });

  it('are written at most ANOMALY_RECORDS_PER_SEC a second per queue; the rest are counted', () => {
    const eve: string[] = [];
    const w = worker(parseDaemonConfig('eve_types: [anomaly]', null), eve);
    for (let b = 0; b < 10; b++) {
      const { data, descs } = badHeaderLengths(64, b * 64);
      w.processBatch(data, descs, 64);
    }
    const written = anomalies(eve).length;
    // Well under a second: one second's worth, at most twice over if it straddled a second.
    expect(written).toBeGreaterThan(0);
    expect(written).toBeLessThanOrEqual(2 * ANOMALY_RECORDS_PER_SEC);
    expect(w.counters().anomalyRecordsLeftOut).toBe(10 * 64 - written);
    expect(w.counters().dropRecordsLeftOut).toBe(0);
    // `secuxflow status` says so, summed over the queues, apart from drop records.
    const base = validStatus() as unknown as DaemonStatus;
    const queues = [0, 1].map((queue) => ({ ...base.queues[0]!, queue, anomalyRecordsLeftOut: w.counters().anomalyRecordsLeftOut }));
    const text = describeLive({ ...base, queues });
    expect(text).toContain(`eve: ${(2 * (10 * 64 - written)).toLocaleString('en-US')} anomaly records LEFT OUT`);
    expect(text).not.toContain('drop records LEFT OUT');
  });
});
