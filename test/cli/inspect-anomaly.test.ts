// `inspect --eve` writes an anomaly record (Suricata's, type decode) for each
// packet the decoder could not fully parse or reassembly refused: which packet
// and why, where the summary only counts them. The event names the fault
// stably (decoder.<layer>.<event>), the message keeps its numbers.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PcapWriter } from '../../host/capture/writer.js';
import { buildPacket, fragmentIp } from '../../host/packet/build.js';
import { finishChecksum, sumWords } from '../../host/packet/checksum.js';
import { cli, requireBuilt, tempDir } from './support.js';

beforeAll(() => requireBuilt());

interface Rec { event_type: string; src_ip?: string; anomaly?: { type: string; event: string; message: string }; stats?: unknown }

describe('inspect --eve: anomaly records', () => {
  it('one per malformed packet, with a stable event name and the reason; well-formed packets make none', () => {
    const dir = tempDir('anomaly');
    const pcap = join(dir, 'malformed.pcap');
    const good = buildPacket({ src: '198.18.0.1', dst: '198.18.1.1', proto: 'udp', srcPort: 1000, dstPort: 53, payload: 'fine' });
    const shortHeader = buildPacket({ src: '198.18.0.2', dst: '198.18.1.1', proto: 'udp', srcPort: 1001, dstPort: 53, payload: 'x' });
    shortHeader[14] = 0x44; // IHL 4
    const tcp = buildPacket({ src: '198.18.0.3', dst: '198.18.1.1', proto: 'tcp', srcPort: 1002, dstPort: 80, payload: 'y' });
    tcp[14 + 20 + 12] = 0xf0; // data offset 15 words: 60 bytes the frame does not have
    // A non-last fragment whose length is not a multiple of 8: reassembly refuses it.
    const whole = buildPacket({ src: '198.18.0.4', dst: '198.18.1.1', proto: 'udp', srcPort: 1003, dstPort: 53, ipId: 7, payload: 'z'.repeat(100) });
    const odd = fragmentIp(whole, 48)[0]!;
    const ipEnd = odd.length - 4;
    const cut = odd.slice(0, ipEnd);
    cut[16] = ((ipEnd - 14) >> 8) & 0xff;
    cut[17] = (ipEnd - 14) & 0xff;
    // A right header checksum, or the host would drop it before reassembly (docs/reassembly.md).
    cut[24] = cut[25] = 0;
    const sum = finishChecksum(sumWords(cut, 14, 34));
    cut[24] = sum >> 8;
    cut[25] = sum & 0xff;
    const w = new PcapWriter({ path: pcap });
    [good, shortHeader, tcp, cut].forEach((data, i) => w.write({ data, tsSec: 1_767_225_600 + i, tsNsec: 0 }));
    w.close();
    const eve = join(dir, 'eve.json');
    const r = cli(['inspect', '--pcap', pcap, '--eve', eve, '--module', 'basic_inspect']);
    expect(r.status, r.stderr).toBe(0);
    const recs = readFileSync(eve, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Rec);
    const got = recs.filter((x) => x.event_type === 'anomaly').map((x) => [x.anomaly!.type, x.anomaly!.event, x.anomaly!.message]);
    expect(got).toEqual([
      ['decode', 'decoder.ipv4.hlen_too_small', 'ipv4: header length 4 < 5'],
      ['decode', 'decoder.tcp.hlen_truncated', expect.stringMatching(/^tcp: header length 60 > \d+ bytes$/)],
      ['decode', 'decoder.defrag.fragment_len_not_multiple_of_8', expect.stringMatching(/^defrag: non-last fragment length \d+ at offset 0 is not a multiple of 8$/)],
    ]);
    // The record is about the packet: its endpoints where the decoder got that far.
    expect(recs.find((x) => x.anomaly?.event === 'decoder.tcp.hlen_truncated')!.src_ip).toBe('198.18.0.3');
    // The stats record counts decoder events as Suricata's decoder.event.<layer>.<event>.
    const stats = recs.find((x) => x.event_type === 'stats')!.stats as { decoder: { invalid: number; event: Record<string, Record<string, number>> } };
    expect(stats.decoder.event).toEqual({ ipv4: { hlen_too_small: 1 }, tcp: { hlen_truncated: 1 } });
    expect(stats.decoder.invalid).toBe(2);
    // The summary names them too, in text and --json.
    expect(r.stdout).toMatch(/^\s+malformed\s+ipv4\.hlen_too_small 1, tcp\.hlen_truncated 1$/m);
    const json = JSON.parse(cli(['inspect', '--pcap', pcap, '--json', '--module', 'basic_inspect']).stdout) as { counters: { malformed_by_event: Record<string, number> } };
    expect(json.counters.malformed_by_event).toEqual({ 'ipv4.hlen_too_small': 1, 'tcp.hlen_truncated': 1 });
  });
});
