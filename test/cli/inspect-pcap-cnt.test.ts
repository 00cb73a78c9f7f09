// EVE packet records carry Suricata's pcap_cnt: the number of the frame in
// the capture that brought the decision, so an analyst can jump to it in
// Wireshark. Checked against tshark's own frame numbers: the frame a record
// names has the record's endpoints and time, in pcap and pcapng (several
// interfaces), and with --filter leaving frames out.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SKIP_TSHARK, tsharkFields } from '../host/capture/tshark.js';
import { ROOT, cli, requireBuilt, tempDir } from './support.js';

beforeAll(() => requireBuilt());

interface Rec { event_type: string; timestamp: string; src_ip?: string; dest_ip?: string; pcap_cnt?: number }

function records(pcap: string, extra: string[] = []): Rec[] {
  const eve = join(tempDir('pcap-cnt'), 'eve.json');
  const r = cli(['inspect', '--pcap', pcap, '--eve', eve, ...extra]);
  expect(r.status, r.stderr).toBe(0);
  return readFileSync(eve, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Rec);
}

describe.skipIf(SKIP_TSHARK)('EVE pcap_cnt', () => {
  for (const [name, extra] of [['demo.pcap', []], ['demo.pcapng', []], ['demo.pcap', ['--filter', 'tcp or icmp or icmp6']]] as const) {
    it(`${name}${extra.length ? ` with ${extra.join(' ')}` : ''}: the frame each packet record names has its endpoints and time`, () => {
      const pcap = join(ROOT, 'samples', name);
      const frames = tsharkFields(pcap, ['frame.number', 'frame.time_epoch', 'ip.src', 'ip.dst', 'ipv6.src', 'ipv6.dst']);
      const recs = records(pcap, [...extra]);
      const packetRecords = recs.filter((r) => ['alert', 'anomaly', 'drop', 'http', 'dns', 'tls', 'ssh'].includes(r.event_type) && r.pcap_cnt !== undefined);
      expect(packetRecords.length).toBeGreaterThan(5);
      for (const r of packetRecords) {
        const f = frames[r.pcap_cnt! - 1]!;
        expect(Number(f[0]), `record ${JSON.stringify(r)}`).toBe(r.pcap_cnt);
        const addrs = [f[2] || f[4], f[3] || f[5]].sort();
        if (r.src_ip !== undefined) expect([r.src_ip, r.dest_ip].sort(), `frame ${r.pcap_cnt}`).toEqual(addrs);
        // EVE times are microseconds; tshark's epoch has nine digits.
        const micros = f[1]!.replace(/(\.\d{6})\d*$/, '$1');
        expect(new Date(r.timestamp.replace(/\.(\d{3})\d{3}\+0000$/, '.$1Z')).getTime() / 1000, `frame ${r.pcap_cnt}`).toBeCloseTo(Number(micros), 2);
      }
      // Flow and stats records are about no single frame.
      expect(recs.filter((r) => (r.event_type === 'flow' || r.event_type === 'stats') && r.pcap_cnt !== undefined)).toEqual([]);
    });
  }
});
