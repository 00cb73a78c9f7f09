// Evasions and a false positive an audit found (IPv6 /64 rotation, probe
// flags other than FIN/NULL/Xmas, padded UDP probes from reflector ports,
// key-table churn, SYN-flood attribution), each built as the audit's
// captures were shaped.
import { beforeAll, describe, expect, it } from 'vitest';
import { Verdict } from '../../../host/verdict.js';
import type { RawFrame } from '../../../host/capture/types.js';
import { alertsOf, compiledModule, engineRun, frame, srcOf } from '../dlp/support.js';

beforeAll(async () => { await compiledModule('scan_flood'); }, 300_000);

const TARGET = '198.18.40.2';
const SCANNER = '198.18.40.66';
const FIN = 0x01, SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10, URG = 0x20, ECE = 0x40, CWR = 0x80;

type Decisions = Awaited<ReturnType<typeof engineRun>>['decisions'];

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

/** Every decision where scan_flood answered BLOCK_SRC, in order. */
function blocksOf(decisions: Decisions) {
  return decisions.filter((d) => d.modules.some((m) => m.module === 'scan_flood' && m.verdict === Verdict.BLOCK_SRC));
}

/** A packet needs both addresses of one family: an IPv4-mapped source goes to the IPv4-mapped destination. */
const sameFamily = (src: string, dst: string) => (src.startsWith('::ffff:') && !dst.includes(':') ? `::ffff:${dst}` : dst);

/** A TCP probe per port from `src(i)`, `gap` seconds apart, as nmap sends them (one fixed source port, no payload). */
function tcpProbes(ports: number[], flags: number, src: (i: number) => string = () => SCANNER, gap = 0.01, dst = TARGET): RawFrame[] {
  return ports.map((p, i) => frame({ src: src(i), dst: sameFamily(src(i), dst), proto: 'tcp', srcPort: 40000, dstPort: p, tcpFlags: flags }, i * gap));
}

const byTime = (a: RawFrame, b: RawFrame) => a.tsSec - b.tsSec || a.tsNsec - b.tsNsec;

describe('IPv6 sources are counted per /64 (F2)', () => {
  it('a SYN scan whose every probe comes from a new address in one /64 is blocked', async () => {
    const frames = tcpProbes(range(1, 60), SYN, (i) => `2001:db8:bad:0:${(i * 7919 % 65535 + 1).toString(16)}:${(i + 1).toString(16)}::1`, 0.01, '2001:db8:1::5');
    const { decisions } = await engineRun(frames, [{ name: 'scan_flood' }]);
    const blocks = blocksOf(decisions);
    expect(blocks.length).toBeGreaterThan(0);
    expect(blocks[0]!.index).toBe(19); // the 20th distinct port, whichever address of the /64 sent it
    expect(alertsOf(decisions, 'scan_flood')[0]).toMatchObject({ sigId: 1006001, metadata: { distinct_ports: 20 } });
  });

  it('a FIN scan rotating inside one /64 is blocked at the stealth threshold', async () => {
    const frames = tcpProbes(range(1, 20), FIN, (i) => `2001:db8:bad::${(i + 1).toString(16)}:1`, 0.01, '2001:db8:1::5');
    const { decisions } = await engineRun(frames, [{ name: 'scan_flood' }]);
    expect(blocksOf(decisions)[0]?.index).toBe(4);
  });

  it('IPv4 stays per address: 30 neighbours of one /24 each probing two ports are not a scan', async () => {
    const frames = tcpProbes(range(1, 60), SYN, (i) => `198.18.60.${1 + (i >> 1)}`);
    const { decisions } = await engineRun(frames, [{ name: 'scan_flood' }]);
    expect(blocksOf(decisions)).toEqual([]);
  });

  it('an IPv4-mapped IPv6 source counts with its IPv4 address', async () => {
    // 30 ports, alternately from 198.18.40.66 and ::ffff:198.18.40.66: 15 each, 30 together
    const frames = tcpProbes(range(1, 30), SYN, (i) => (i % 2 === 0 ? SCANNER : `::ffff:${SCANNER}`));
    const { decisions } = await engineRun(frames, [{ name: 'scan_flood' }]);
    expect(blocksOf(decisions)[0]?.index).toBe(19);
  });
});

describe('stealth probes with other flag combinations (F1)', () => {
  it.each([
    ['-sA (ACK)', ACK, 1006006, 20],
    ['-sM (FIN+ACK, Maimon)', FIN | ACK, 1006006, 20],
    ['SYN+FIN', SYN | FIN, 1006007, 5],
    ['PSH', PSH, 1006007, 5],
    ['URG', URG, 1006007, 5],
    ['FIN+URG', FIN | URG, 1006007, 5],
    ['FIN+PSH', FIN | PSH, 1006007, 5],
    ['FIN+ECE', FIN | ECE, 1006007, 5],
    ['ECE', ECE, 1006007, 5],
    ['CWR', CWR, 1006007, 5],
  ])('%s probes to 200 ports at 100/s are blocked', async (_name, flags, sid, threshold) => {
    const { decisions } = await engineRun(tcpProbes(range(1, 200), flags), [{ name: 'scan_flood' }]);
    const blocks = blocksOf(decisions);
    expect(blocks[0]?.index).toBe(threshold - 1);
    expect(alertsOf(decisions, 'scan_flood')[0]).toMatchObject({ sigId: sid, metadata: { distinct_ports: threshold, action: 'block_src' } });
  });

  it('connections picked up mid-stream are not a scan: data segments, and a server\'s ACKs and FINs to its clients', async () => {
    const CLIENT = '198.18.40.5';
    // a client whose 60 connections to distinct ports the engine meets mid-stream, each with data
    const withData = range(1, 60).map((p, i) => frame({ src: CLIENT, dst: TARGET, proto: 'tcp', srcPort: 41000 + i, dstPort: p, tcpFlags: ACK | PSH, payload: 'data' }, i * 0.01));
    // a server's side of 60 idle client connections it closes or acknowledges, to the clients' ephemeral ports
    const serverSide = range(1, 60).map((i) => frame({ src: TARGET, dst: CLIENT, proto: 'tcp', srcPort: 443, dstPort: 50000 + i, tcpFlags: i % 2 ? ACK : FIN | ACK }, i * 0.01 + 0.005));
    const { decisions } = await engineRun([...withData, ...serverSide].sort(byTime), [{ name: 'scan_flood' }]);
    expect(blocksOf(decisions)).toEqual([]);
    expect(alertsOf(decisions, 'scan_flood')).toEqual([]);
  });

  it('a SYN-ACK or RST the engine meets first (backscatter of someone else\'s spoofed flood) is not a probe', async () => {
    const frames = [...tcpProbes(range(1, 60), SYN | ACK), ...tcpProbes(range(1, 60), RST, () => '198.18.40.67')];
    const { decisions } = await engineRun(frames.sort(byTime), [{ name: 'scan_flood' }]);
    expect(blocksOf(decisions)).toEqual([]);
  });
});

describe('UDP probes from a reflector port (F4)', () => {
  it.each([53, 123])('a padded UDP scan from source port %i at 10/s is still a UDP scan', async (sport) => {
    const frames = range(1, 60).map((p, i) => frame({ src: SCANNER, dst: TARGET, proto: 'udp', srcPort: sport, dstPort: p, payload: 'x'.repeat(512) }, i * 0.1));
    const { decisions } = await engineRun(frames, [{ name: 'scan_flood' }]);
    // reflector-shaped probes are named a scan from the amplification threshold (20) on
    expect(blocksOf(decisions)[0]?.index).toBe(19);
    expect(alertsOf(decisions, 'scan_flood')[0]).toMatchObject({ sigId: 1006005, metadata: { distinct_ports: 20 } });
  });
});

describe('key-table churn (F3)', () => {
  it('a scanner keeps its count while one-packet spoofed sources churn the table past its capacity', async () => {
    // capacity 64: after every 5 probes, 100 one-packet DNS queries from new addresses (more than the table holds)
    const frames: RawFrame[] = [];
    let t = 0;
    for (let burst = 0; burst < 8; burst++) {
      for (let k = 0; k < 5; k++) frames.push(frame({ src: SCANNER, dst: TARGET, proto: 'tcp', srcPort: 40000, dstPort: 1 + burst * 5 + k, tcpFlags: SYN }, t += 0.005));
      for (let k = 0; k < 100; k++) {
        const n = burst * 100 + k;
        frames.push(frame({ src: `198.19.${n >> 8}.${n & 255}`, dst: TARGET, proto: 'udp', srcPort: 1024 + k, dstPort: 53, payload: 'query' }, t += 0.0005));
      }
    }
    const { decisions } = await engineRun(frames, [{ name: 'scan_flood', config: { capacity: 64 } }]);
    const blocks = blocksOf(decisions);
    expect(blocks.map(srcOf)[0]).toBe(SCANNER);
    expect(blocks[0]!.pkt.dstPort).toBe(20);
  });
});

describe('SYN-flood attribution (F7)', () => {
  it('a busy client sending one SYN to a flooded server is not blocked as the flooder', async () => {
    const PROXY = '198.18.40.200';
    const frames: RawFrame[] = [];
    // 450 SYN/s at TARGET, each from a new address, for 2 s
    for (let i = 0; i < 900; i++) frames.push(frame({ src: `198.19.${100 + (i >> 8)}.${i & 255}`, dst: TARGET, proto: 'tcp', srcPort: 1024 + i, dstPort: 80, tcpFlags: SYN }, i / 450));
    // the proxy: 120 connections/s to other servers on 443, and one to TARGET; its
    // connections complete their handshakes (200 hosts on one port in 2 s that never
    // do would be a sweep, 1006008)
    for (let i = 0; i < 240; i++) {
      const server = `198.18.70.${1 + (i % 200)}`;
      frames.push(frame({ src: PROXY, dst: server, proto: 'tcp', srcPort: 20000 + i, dstPort: 443, tcpFlags: SYN }, i / 120 + 0.0001));
      frames.push(frame({ src: server, dst: PROXY, proto: 'tcp', srcPort: 443, dstPort: 20000 + i, tcpFlags: SYN | ACK }, i / 120 + 0.0011));
      frames.push(frame({ src: PROXY, dst: server, proto: 'tcp', srcPort: 20000 + i, dstPort: 443, tcpFlags: ACK }, i / 120 + 0.0012));
    }
    frames.push(frame({ src: PROXY, dst: TARGET, proto: 'tcp', srcPort: 30000, dstPort: 80, tcpFlags: SYN }, 1.5001));
    const { decisions } = await engineRun(frames.sort(byTime), [{ name: 'scan_flood' }]);
    expect(blocksOf(decisions).map(srcOf)).toEqual([]);
    expect(alertsOf(decisions, 'scan_flood').map((a) => a.sigId)).not.toContain(1006010);
    expect(alertsOf(decisions, 'scan_flood').map((a) => a.sigId)).toContain(1006013);
  });
});
