// inspect --pcap on a fragmenting scan (nmap -f): the tiny first fragments
// are dropped as invalid, as the XDP program drops them live, and the
// summary names them among the evasion signals.
import { beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PcapWriter } from '../../host/capture/writer.js';
import { buildPacket, fragmentIp } from '../../host/packet/build.js';
import { LinkType, TcpFlag } from '../../host/packet/types.js';
import { cli, requireBuilt, tempDir } from './support.js';

describe('inspect --pcap: invalid packets', () => {
  let pcap = '';
  let rules = '';
  beforeAll(() => {
    requireBuilt();
    const dir = tempDir('sf-invalid-');
    pcap = join(dir, 'frag-scan.pcap');
    rules = join(dir, 'pass.json');
    writeFileSync(rules, '{"default_policy":"pass","rules":[]}');
    const w = new PcapWriter({ path: pcap, linkType: LinkType.ETHERNET });
    let t = 1_767_225_600;
    for (const port of [22, 80, 443]) {
      const syn = buildPacket({ src: '198.18.0.66', dst: '198.18.1.1', proto: 'tcp', srcPort: 50_000, dstPort: port, tcpFlags: TcpFlag.SYN });
      for (const f of fragmentIp(syn, 8, port)) w.write({ data: f, tsSec: t++, tsNsec: 0 });
    }
    w.close();
  });

  it('drops each tiny first fragment as invalid and says so in the summary and --json', () => {
    const human = cli(['inspect', '--pcap', pcap, '--no-progress', '--rules', rules]);
    expect(human.status, human.stderr).toBe(0);
    expect(human.stdout, human.stdout).toMatch(/evasion signals\s+3 packets dropped as invalid: first fragments too short/);
    expect(human.stdout).toMatch(/by stage\s+invalid 3, fragment 6/);
    const json = JSON.parse(cli(['inspect', '--pcap', pcap, '--json', '--rules', rules]).stdout);
    expect(json.counters.by_stage.invalid).toBe(3);
    expect(json.counters.reassembled).toBe(0);
    expect(json.counters.pass).toBe(0);
  });

  it('a frame with a third VLAN tag is named among the reasons, as it is one of them', () => {
    const dir = tempDir('sf-invalid-vlan-');
    const stacked = join(dir, 'vlan-stack.pcap');
    const w = new PcapWriter({ path: stacked, linkType: LinkType.ETHERNET });
    w.write({ data: buildPacket({ src: '198.18.0.66', dst: '198.18.1.1', proto: 'udp', srcPort: 5000, dstPort: 53, vlans: [10, 20, 30] }), tsSec: 1_767_225_600, tsNsec: 0 });
    w.close();
    const r = cli(['inspect', '--pcap', stacked, '--no-progress', '--rules', rules]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/evasion signals\s+1 packets dropped as invalid: .*, or frames with more than two VLAN tags \(docs\/rules\.md\)/);
    expect(r.stdout).toMatch(/malformed\s+vlan\.too_many_layers 1/);
  });

  it('EVE: a drop record for each, with the reason the decoder gave', () => {
    const r = cli(['inspect', '--pcap', pcap, '--eve', '-', '--no-progress', '--rules', rules]);
    const drops = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).filter((e) => e.event_type === 'drop' && e.drop.reason === 'invalid');
    expect(drops.map((e) => [e.dest_port ?? null, e.drop.invalid])).toEqual([22, 80, 443].map(() => [null, 'ipv4: first fragment holds 8 of the 20 bytes of the TCP header']));
  });
});
