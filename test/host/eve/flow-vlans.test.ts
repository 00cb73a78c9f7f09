// A QinQ flow's EVE records all carry both VLAN ids, outer first: its flow
// record and its flow-level records used to carry the outer one only (the
// flow's key), while its packets' records carried both, so a reader joining
// them on vlan missed the flow. A single-tagged flow keeps one id.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PcapWriter } from '../../../host/capture/writer.js';
import { runCapture } from '../../../host/engine/capture-run.js';
import { loadModules } from '../../../host/engine/setup.js';
import { buildPacket } from '../../../host/packet/build.js';
import { tempDir } from '../../support/temp-dir.js';

describe('EVE records of VLAN-tagged flows', () => {
  it('give every VLAN id of the flow, in its flow record as in its alerts', async () => {
    const dir = tempDir('eve-vlans');
    const pcap = join(dir, 'tagged.pcap');
    const w = new PcapWriter({ path: pcap });
    const attack = "GET /?q=' or '1'='1 HTTP/1.1\r\nHost: x\r\n\r\n";
    w.write({ data: buildPacket({ src: '198.18.0.1', dst: '198.18.0.2', proto: 'tcp', srcPort: 40000, dstPort: 80, vlans: [10, 20], payload: attack }), tsSec: 1_767_225_600, tsNsec: 0 });
    w.write({ data: buildPacket({ src: '198.18.0.3', dst: '198.18.0.2', proto: 'tcp', srcPort: 40001, dstPort: 80, vlans: [30], payload: attack }), tsSec: 1_767_225_601, tsNsec: 0 });
    w.close();
    const eve = join(dir, 'eve.json');
    const modules = await loadModules(['basic_inspect'], { unsafeInThread: true });
    const r = await runCapture({ pcap, rules: { defaultPolicy: 'inspect', rules: [] }, modules, eve });
    expect(r.error).toBeNull();
    const records = readFileSync(eve, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { event_type: string; src_ip?: string; vlan?: number[] });
    const of = (type: string, src: string) => records.filter((x) => x.event_type === type && x.src_ip === src).map((x) => x.vlan);
    expect(of('alert', '198.18.0.1').length).toBeGreaterThan(0);
    for (const type of ['alert', 'flow']) {
      expect(of(type, '198.18.0.1'), type).toEqual(of(type, '198.18.0.1').map(() => [10, 20]));
      expect(of(type, '198.18.0.3'), type).toEqual(of(type, '198.18.0.3').map(() => [30]));
    }
    expect(of('flow', '198.18.0.1')).toHaveLength(1);
  });
});
