// `inspect --pcap` on MPLS and PPPoE traffic: rules decide the inner packets
// and EVE names their addresses, as for the same packets on plain Ethernet;
// PPP control traffic stays non-IP.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PcapWriter } from '../../../host/capture/writer.js';
import { runCapture } from '../../../host/engine/capture-run.js';
import { buildPacket, type PacketSpec } from '../../../host/packet/build.js';
import { validateRuleSet } from '../../../host/rules/parse.js';
import { tempDir } from '../../support/temp-dir.js';

const T0 = 1_767_225_600;

describe('offline inspection of encapsulated traffic', () => {
  it('a drop rule on the inner port drops IP under MPLS and in PPPoE; EVE drop records carry the inner endpoints', async () => {
    const dir = tempDir('encap-offline');
    const pcap = join(dir, 'encap.pcap');
    const eve = join(dir, 'eve.json');
    const specs: PacketSpec[] = [
      { src: '198.18.5.1', dst: '198.18.5.2', proto: 'tcp', srcPort: 40000, dstPort: 8080, mplsLabels: [100, 200], vlans: [42] },
      { src: '2001:db8::5', dst: '2001:db8::6', proto: 'udp', srcPort: 40001, dstPort: 8080, pppoeSession: 7 },
      { src: '198.18.5.1', dst: '198.18.5.2', proto: 'tcp', srcPort: 40002, dstPort: 443, mplsLabels: [100] },
    ];
    const lcp = buildPacket({ src: '198.18.5.1', dst: '198.18.5.2', proto: 'udp', dstPort: 8080, pppoeSession: 7 });
    lcp[20] = 0xc0; lcp[21] = 0x21; // PPP LCP: not IP, whatever follows
    const w = new PcapWriter({ path: pcap });
    [...specs.map(buildPacket), lcp].forEach((data, i) => w.write({ data, tsSec: T0 + i, tsNsec: 0 }));
    w.close();

    const rules = validateRuleSet({ default_policy: 'pass', rules: [{ id: 1, dst_port: 8080, action: 'drop' }] }, 'test');
    const r = await runCapture({ pcap, rules, modules: [], eve });
    expect(r.error).toBeNull();
    expect(r.counters).toMatchObject({ packetsRead: 4, packetsDecoded: 4, malformed: 0, nonIp: 1, drop: 2, pass: 2 });
    const drops = readFileSync(eve, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((e) => e.event_type === 'drop');
    expect(drops.map((e) => [e.src_ip, e.src_port, e.dest_ip, e.dest_port, e.proto, e.vlan])).toEqual([
      ['198.18.5.1', 40000, '198.18.5.2', 8080, 'TCP', [42]],
      ['2001:db8::5', 40001, '2001:db8::6', 8080, 'UDP', undefined],
    ]);
  });
});
