// Slow scans (1006009): fewer new ports per 10 s than any short threshold,
// counted per source over an hour. Probes that were answered (a completed
// handshake, a UDP reply) do not stay in the count.
import { beforeAll, describe, expect, it } from 'vitest';
import { Verdict } from '../../../host/verdict.js';
import type { RawFrame } from '../../../host/capture/types.js';
import { alertsOf, compiledModule, engineRun, frame, srcOf } from '../dlp/support.js';

beforeAll(async () => { await compiledModule('scan_flood'); }, 300_000);

const SCANNER = '198.18.40.66';
const CLIENT = '198.18.40.5';
const TARGET = '198.18.40.2';
const SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10;

type Decisions = Awaited<ReturnType<typeof engineRun>>['decisions'];

function blocksOf(decisions: Decisions) {
  return decisions.filter((d) => d.modules.some((m) => m.module === 'scan_flood' && m.verdict === Verdict.BLOCK_SRC));
}

/** A SYN to each port, `gap` seconds apart; the closed port answers RST, as a real host does. */
function synProbes(ports: number[], gap: number): RawFrame[] {
  return ports.flatMap((p, i) => [
    frame({ src: SCANNER, dst: TARGET, proto: 'tcp', srcPort: 40000, dstPort: p, tcpFlags: SYN }, i * gap),
    frame({ src: TARGET, dst: SCANNER, proto: 'tcp', srcPort: p, dstPort: 40000, tcpFlags: RST | ACK }, i * gap + 0.001),
  ]);
}

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

describe('slow vertical scans over an hour', () => {
  it('nmap -T1 pace (a new port every 15 s): no 10-s scan, a slow TCP scan alerted at the 60th port, blocked only when configured', async () => {
    const frames = synProbes(range(1, 100), 15);
    const byDefault = await engineRun(frames, [{ name: 'scan_flood' }]);
    expect(blocksOf(byDefault.decisions)).toEqual([]);
    const alerts = alertsOf(byDefault.decisions, 'scan_flood');
    // one report per source and hour while alerting only
    expect(alerts.map((a) => [a.sigId, byDefault.decisions[a.frame]!.pkt.dstPort])).toEqual([[1006009, 60]]);
    expect(alerts[0]).toMatchObject({ metadata: { distinct_ports: 60, action: 'alert' } });

    const { decisions } = await engineRun(frames, [{ name: 'scan_flood', config: { slow_scan_action: 'block_src' } }]);
    const blocks = blocksOf(decisions);
    expect(blocks.length).toBeGreaterThan(0);
    expect(blocks[0]!.pkt.dstPort).toBe(60);
    expect(alertsOf(decisions, 'scan_flood')[0]).toMatchObject({ sigId: 1006009, metadata: { distinct_ports: 60, action: 'block_src', block_ttl: 600 } });
    expect(alertsOf(decisions, 'scan_flood').map((a) => a.sigId)).not.toContain(1006001);
  });

  it('host mode: a passive FTP client fetching 70 files in an hour (the 227 replies unseen) is reported, not blocked, by default', async () => {
    const frames: RawFrame[] = [
      frame({ src: CLIENT, dst: TARGET, proto: 'tcp', srcPort: 29999, dstPort: 21, tcpFlags: SYN }, 0),
      frame({ src: CLIENT, dst: TARGET, proto: 'tcp', srcPort: 29999, dstPort: 21, tcpFlags: ACK }, 0.002),
    ];
    for (let i = 0; i < 70; i++) {
      const at = 1 + i * 50;
      frames.push(frame({ src: CLIENT, dst: TARGET, proto: 'tcp', srcPort: 29999, dstPort: 21, tcpFlags: ACK | PSH, payload: 'PASV\r\n' }, at));
      frames.push(frame({ src: CLIENT, dst: TARGET, proto: 'tcp', srcPort: 31000 + i, dstPort: 50000 + i * 7, tcpFlags: SYN }, at + 0.01));
      frames.push(frame({ src: CLIENT, dst: TARGET, proto: 'tcp', srcPort: 31000 + i, dstPort: 50000 + i * 7, tcpFlags: ACK }, at + 0.012));
    }
    const { decisions } = await engineRun(frames, [{ name: 'scan_flood' }]);
    expect(blocksOf(decisions)).toEqual([]);
    expect(alertsOf(decisions, 'scan_flood').map((a) => a.sigId)).toEqual([1006009]);
  });

  it('slow_scan_action takes only block_src or alert', async () => {
    await expect(engineRun(synProbes([1], 1), [{ name: 'scan_flood', config: { slow_scan_action: 'drop' } }])).rejects.toThrow(/slow_scan_action must be "block_src" or "alert"/);
  });

  it('ports spread wider than the hour are not a slow scan (a new port every 80 s, 100 ports)', async () => {
    const { decisions } = await engineRun(synProbes(range(1, 100), 80), [{ name: 'scan_flood' }]);
    expect(alertsOf(decisions, 'scan_flood')).toEqual([]);
  });

  it('a client reaching 100 services over an hour, each handshake completed, is not a slow scan', async () => {
    const frames = range(1, 100).flatMap((p, i) => {
      const at = i * 30;
      return [
        frame({ src: CLIENT, dst: TARGET, proto: 'tcp', srcPort: 30000 + i, dstPort: 1000 + p, tcpFlags: SYN }, at),
        frame({ src: TARGET, dst: CLIENT, proto: 'tcp', srcPort: 1000 + p, dstPort: 30000 + i, tcpFlags: SYN | ACK }, at + 0.001),
        frame({ src: CLIENT, dst: TARGET, proto: 'tcp', srcPort: 30000 + i, dstPort: 1000 + p, tcpFlags: ACK }, at + 0.002),
        frame({ src: CLIENT, dst: TARGET, proto: 'tcp', srcPort: 30000 + i, dstPort: 1000 + p, tcpFlags: ACK | PSH, payload: 'hello' }, at + 0.003),
      ];
    });
    const { decisions } = await engineRun(frames, [{ name: 'scan_flood' }]);
    expect(alertsOf(decisions, 'scan_flood')).toEqual([]);
  });

  it('a slow UDP scan is seen; a desktop\'s multicast discovery and answered DNS are not', async () => {
    const frames: RawFrame[] = [];
    for (let i = 0; i < 80; i++) {
      frames.push(frame({ src: SCANNER, dst: TARGET, proto: 'udp', srcPort: 50000, dstPort: 2000 + i, payload: '' }, i * 20));
      // the desktop: SSDP, mDNS, LLMNR, WS-Discovery and 60 more group ports, and DNS that is answered
      frames.push(frame({ src: CLIENT, dst: '239.255.255.250', proto: 'udp', srcPort: 51000, dstPort: 1900 + (i % 64), payload: 'M-SEARCH' }, i * 20 + 1));
      frames.push(frame({ src: CLIENT, dst: '198.18.40.53', proto: 'udp', srcPort: 52000 + i, dstPort: 5000 + i, payload: 'q' }, i * 20 + 2));
      frames.push(frame({ src: '198.18.40.53', dst: CLIENT, proto: 'udp', srcPort: 5000 + i, dstPort: 52000 + i, payload: 'a' }, i * 20 + 2.001));
    }
    const { decisions } = await engineRun(frames, [{ name: 'scan_flood', config: { slow_scan_action: 'block_src' } }]);
    const blocks = blocksOf(decisions);
    expect([...new Set(blocks.map(srcOf))]).toEqual([SCANNER]);
    expect(blocks[0]!.pkt.dstPort).toBe(2059);
    expect(alertsOf(decisions, 'scan_flood')[0]).toMatchObject({ sigId: 1006009, metadata: { distinct_ports: 60 } });
  });

  it('host mode: a resolver\'s 100 answers over an hour to the host\'s lookups (queries unseen) are not a slow scan', async () => {
    const frames = range(1, 100).map((i) => frame({ src: '198.18.40.53', dst: CLIENT, proto: 'udp', srcPort: 53, dstPort: 33000 + i * 311, payload: 'answer' }, i * 36));
    const { decisions } = await engineRun(frames, [{ name: 'scan_flood' }]);
    expect(alertsOf(decisions, 'scan_flood')).toEqual([]);
  });

  it('slow_scan_ports and slow_scan_window_ms come from the config', async () => {
    const frames = synProbes(range(1, 40), 15);
    const strict = await engineRun(frames, [{ name: 'scan_flood', config: { slow_scan_ports: 25, slow_scan_action: 'block_src' } }]);
    expect(blocksOf(strict.decisions)[0]?.pkt.dstPort).toBe(25);
    // a 5-minute window holds at most 20 probes 15 s apart
    const short = await engineRun(frames, [{ name: 'scan_flood', config: { slow_scan_ports: 25, slow_scan_window_ms: 300000 } }]);
    expect(alertsOf(short.decisions, 'scan_flood')).toEqual([]);
  });
});
