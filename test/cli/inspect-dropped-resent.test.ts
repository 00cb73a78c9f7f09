// A request basic_inspect drops for SQL injection, then its retransmission
// (what a real client's TCP sends ~200 ms later): the retransmission was
// passed as already inspected and the server answered. Offline, as live.
import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { PcapWriter } from '../../host/capture/writer.js';
import { ACK, PSH, c2s, handshake } from '../host/engine/evasion-support.js';
import { cli, requireBuilt, tempDir } from './support.js';

const SQLI = "GET /?q=' OR '1'='1 HTTP/1.1\r\nHost: shop.example\r\n\r\n";

describe('inspect --pcap: a dropped request, retransmitted', () => {
  beforeAll(() => requireBuilt());

  it('each copy is dropped with its alert; the summary names the resent segments', () => {
    const pcap = join(tempDir('sf-resent-'), 'resent.pcap');
    const w = new PcapWriter({ path: pcap });
    let t = 1_767_225_600;
    const request = c2s(ACK | PSH, 1001, SQLI);
    for (const frame of [...handshake(), request, request, request]) w.write({ data: frame, tsSec: t++, tsNsec: 0 });
    w.close();
    const json = JSON.parse(cli(['inspect', '--pcap', pcap, '--module', 'basic_inspect', '--json']).stdout) as {
      counters: { drop: number; by_verdict: Record<string, number>; reassembly: { dropped_bytes_resent: number } };
      alertsBySignature: { signature_id: number; count: number }[];
    };
    expect(json.counters.drop).toBe(3);
    expect(json.counters.reassembly.dropped_bytes_resent).toBe(2);
    expect(json.alertsBySignature.find((a) => a.signature_id === 1000001)?.count).toBe(3);
    const text = cli(['inspect', '--pcap', pcap, '--module', 'basic_inspect', '--no-progress']).stdout;
    const alerts = cli(['inspect', '--pcap', pcap, '--module', 'basic_inspect', '--eve', '-', '--no-progress']).stdout
      .split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { event_type: string; alert?: { action: string } })
      .filter((e) => e.event_type === 'alert');
    expect(alerts.map((a) => a.alert?.action)).toEqual(['blocked', 'blocked', 'blocked']);
    expect(text).toMatch(/2 TCP segments resent bytes a module had dropped \(shown to the modules again, not passed as already inspected\)/);
  });
});
