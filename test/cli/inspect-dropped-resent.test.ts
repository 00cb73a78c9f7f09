// A request basic_inspect drops for SQL injection, then its retransmission
// (what a real client's TCP sends ~200 ms later): the retransmission was
// passed as already inspected and the server answered. Offline, as live.
import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { PcapWriter } from '../../host/capture/writer.js';
import { ACK, PSH, c2s, handshake } from '../host/engine/evasion-support.js';
import { cli, requireBuilt, tempDir } from './support.js';

const SQLI = "GET /?q=' OR '1'='1 HTTP/1.1\r\nHost: shop.example\r\n\r\n";

/** A capture of the handshake and the request sent `copies` times. */
function capture(copies: number): string {
  const pcap = join(tempDir('sf-resent-'), 'resent.pcap');
  const w = new PcapWriter({ path: pcap });
  let t = 1_767_225_600;
  const request = c2s(ACK | PSH, 1001, SQLI);
  for (const frame of [...handshake(), ...Array<Uint8Array>(copies).fill(request)]) w.write({ data: frame, tsSec: t++, tsNsec: 0 });
  w.close();
  return pcap;
}

interface Report {
  counters: { drop: number; by_stage: Record<string, number>; reassembly: { dropped_bytes_resent: number } };
  alertsBySignature: { signature_id: number; count: number }[];
}

/** The --json report and the text summary of basic_inspect over the capture. */
function inspect(pcap: string): { json: Report; text: string; sqliAlerts: number | undefined } {
  const json = JSON.parse(cli(['inspect', '--pcap', pcap, '--module', 'basic_inspect', '--json']).stdout) as Report;
  const text = cli(['inspect', '--pcap', pcap, '--module', 'basic_inspect', '--no-progress']).stdout;
  return { json, text, sqliAlerts: json.alertsBySignature.find((a) => a.signature_id === 1000001)?.count };
}

describe('inspect --pcap: a dropped request, retransmitted', () => {
  beforeAll(() => requireBuilt());

  it('each copy is dropped with its alert; the summary names the resent segments', () => {
    const pcap = capture(3);
    const { json, text, sqliAlerts } = inspect(pcap);
    expect(json.counters.drop).toBe(3);
    expect(json.counters.reassembly.dropped_bytes_resent).toBe(2);
    expect(sqliAlerts).toBe(3);
    const alerts = cli(['inspect', '--pcap', pcap, '--module', 'basic_inspect', '--eve', '-', '--no-progress']).stdout
      .split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { event_type: string; alert?: { action: string } })
      .filter((e) => e.event_type === 'alert');
    expect(alerts.map((a) => a.alert?.action)).toEqual(['blocked', 'blocked', 'blocked']);
    expect(text).toMatch(/2 TCP segments resent bytes a module had dropped \(shown to the modules again, not passed as already inspected\)/);
  });

  it('past three showings, further copies are dropped without the modules, and the summary says so', () => {
    const { json, text, sqliAlerts } = inspect(capture(6));
    expect(json.counters.drop).toBe(6);
    expect(json.counters.by_stage.resent).toBe(2);
    expect(json.counters.reassembly.dropped_bytes_resent).toBe(5);
    expect(sqliAlerts).toBe(4);
    expect(text).toContain('5 TCP segments resent bytes a module had dropped (shown to the modules again, not passed as already inspected; 2 dropped without them: shown 3 times already, too many dropped ranges, or no module left to judge them (docs/reassembly.md))');
  });
});
