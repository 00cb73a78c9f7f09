// eve_types: which EVE records the daemon writes (Suricata's eve-log types).
// Flow records are one per flow, so a flood of new flows writes one line per
// packet an attacker sends; an operator may leave them out, as in Suricata.
import { describe, expect, it } from 'vitest';
import { buildPacket } from '../../../host/packet/build.js';
import { QueueWorker } from '../../../host/daemon/queue-worker.js';
import { DEFAULT_CONFIG, parseDaemonConfig, type DaemonConfig } from '../../../host/daemon/config.js';
import { xskBatch } from './xsk-batch.js';

function batch(n: number): { data: Uint8Array; descs: Uint32Array } {
  return xskBatch(Array.from({ length: n }, (_, i) =>
    buildPacket({ src: '198.18.0.1', dst: '198.18.1.1', proto: 'udp', srcPort: 1024 + i, dstPort: 53, payload: 'x' })));
}

/** Event types of the records a queue writes for 8 dropped flows, then their end. */
function typesWritten(config: DaemonConfig): string[] {
  const eve: string[] = [];
  const w = new QueueWorker({ rules: { defaultPolicy: 'drop', rules: [] }, modules: [], config, writeBack: null, output: null, eve: (l) => eve.push(l) });
  const { data, descs } = batch(8);
  w.processBatch(data, descs, 8);
  w.finish();
  return eve.map((l) => (JSON.parse(l) as { event_type: string }).event_type);
}

describe('eve_types', () => {
  it('by default every record but anomaly is written: a drop and a flow record per flow', () => {
    const types = typesWritten({ ...DEFAULT_CONFIG });
    expect(types.filter((t) => t === 'drop')).toHaveLength(8);
    expect(types.filter((t) => t === 'flow')).toHaveLength(8);
  });

  it('a config without flow writes no flow records, and the rest as before', () => {
    const types = typesWritten(parseDaemonConfig('eve_types: [alert, drop, http, dns, tls]', null));
    expect(types.filter((t) => t === 'drop')).toHaveLength(8);
    expect(types).not.toContain('flow');
  });

  it('refuses what is not an event type, with the closest one', () => {
    expect(() => parseDaemonConfig('eve_types: [alert, flows]', null)).toThrow(/eve_types\[1\]: must be one of alert, drop, flow, http, dns, tls, ssh, other, anomaly, stats, got "flows"/);
    let hint = '';
    try { parseDaemonConfig('eve_types: [alert, flows]', null); } catch (e) { hint = (e as { hint: string }).hint; }
    expect(hint).toBe('did you mean "flow"?');
    expect(() => parseDaemonConfig('eve_types: alert', null)).toThrow(/eve_types: must be a list of event types/);
  });
});
