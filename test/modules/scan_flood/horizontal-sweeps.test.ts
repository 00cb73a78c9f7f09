// Horizontal scans (1006008): one port over many hosts. What counts is a
// host that did not take the connection (no SYN-ACK, or a SYN-ACK the prober
// never acknowledged) or did not reply to the datagram, so busy clients that
// really talk to many servers stay out of it.
import { beforeAll, describe, expect, it } from 'vitest';
import { Verdict } from '../../../host/verdict.js';
import type { RawFrame } from '../../../host/capture/types.js';
import { formatIp } from '../../../host/packet/addr.js';
import { alertsOf, compiledModule, engineRun, frame, srcOf } from '../dlp/support.js';

beforeAll(async () => { await compiledModule('scan_flood'); }, 300_000);

const SCANNER = '198.18.40.66';
const CLIENT = '198.18.40.5';
const FIN = 0x01, SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10;

type Decisions = Awaited<ReturnType<typeof engineRun>>['decisions'];

const host = (i: number) => `198.18.${80 + Math.floor(i / 250)}.${1 + (i % 250)}`;
const byTime = (a: RawFrame, b: RawFrame) => a.tsSec - b.tsSec || a.tsNsec - b.tsNsec;

function blocksOf(decisions: Decisions) {
  return decisions.filter((d) => d.modules.some((m) => m.module === 'scan_flood' && m.verdict === Verdict.BLOCK_SRC));
}

/** What each host answers to a probe of `port` from `src` at `at`. */
type Answer = 'nothing' | 'rst' | 'syn-ack, prober resets' | 'syn-ack, prober completes' | 'ack sent blind';

function tcpProbe(src: string, dst: string, port: number, at: number, answer: Answer, srcPort = 40000): RawFrame[] {
  const out = [frame({ src, dst, proto: 'tcp', srcPort, dstPort: port, tcpFlags: SYN }, at)];
  if (answer === 'rst') out.push(frame({ src: dst, dst: src, proto: 'tcp', srcPort: port, dstPort: srcPort, tcpFlags: RST | ACK }, at + 0.0005));
  if (answer.startsWith('syn-ack')) out.push(frame({ src: dst, dst: src, proto: 'tcp', srcPort: port, dstPort: srcPort, tcpFlags: SYN | ACK }, at + 0.0005));
  if (answer === 'syn-ack, prober resets') out.push(frame({ src, dst, proto: 'tcp', srcPort, dstPort: port, tcpFlags: RST }, at + 0.0007));
  if (answer === 'syn-ack, prober completes') {
    out.push(frame({ src, dst, proto: 'tcp', srcPort, dstPort: port, tcpFlags: ACK }, at + 0.0007));
    out.push(frame({ src, dst, proto: 'tcp', srcPort, dstPort: port, tcpFlags: ACK | PSH, payload: 'client hello' }, at + 0.0008));
  }
  if (answer === 'ack sent blind') out.push(frame({ src, dst, proto: 'tcp', srcPort, dstPort: port, tcpFlags: ACK }, at + 0.0001));
  return out;
}

describe('TCP sweeps of one port over many hosts', () => {
  it.each<[Answer]>([['nothing'], ['rst'], ['syn-ack, prober resets'], ['ack sent blind']])(
    'nmap -sS -p445 over 254 hosts that answer with %s: the scanner is blocked at the 30th host', async (answer) => {
      const frames = Array.from({ length: 254 }, (_, i) => tcpProbe(SCANNER, host(i), 445, i * 0.005, answer)).flat();
      const { decisions } = await engineRun(frames, [{ name: 'scan_flood' }]);
      const blocks = blocksOf(decisions);
      expect(blocks.length).toBeGreaterThan(0);
      expect(blocks.map(srcOf).every((s) => s === SCANNER)).toBe(true);
      // the SYN to the 30th host is the one blocked
      expect(formatIp(blocks[0]!.pkt.dst)).toBe(host(29));
      const probesBefore = decisions.filter((d) => d.index < blocks[0]!.index && srcOf(d) === SCANNER && d.pkt.tcpFlags === SYN);
      expect(probesBefore.length).toBe(29);
      expect(alertsOf(decisions, 'scan_flood')[0]).toMatchObject({ sigId: 1006008, metadata: { distinct_hosts: 30, dest_port: 445, action: 'block_src', block_ttl: 600 } });
    });

  it('a browser or NAT opening 400 connections to 200 web servers on 443 in 8 s, every handshake completed, is not a sweep', async () => {
    const frames = Array.from({ length: 400 }, (_, i) => tcpProbe(CLIENT, host(i % 200), 443, i * 0.02, 'syn-ack, prober completes', 30000 + i)).flat();
    const { decisions } = await engineRun(frames, [{ name: 'scan_flood' }]);
    expect(blocksOf(decisions)).toEqual([]);
    expect(alertsOf(decisions, 'scan_flood')).toEqual([]);
  });

  it('a client whose connections mostly complete keeps only its failures in the count: 25 dead hosts among 300 is not a sweep, 30 is', async () => {
    const run = async (dead: number) => {
      const frames = Array.from({ length: 300 }, (_, i) => tcpProbe(CLIENT, host(i), 443, i * 0.03, i % 10 === 0 && i / 10 < dead ? 'nothing' : 'syn-ack, prober completes', 30000 + i)).flat();
      return engineRun(frames, [{ name: 'scan_flood' }]);
    };
    expect(blocksOf((await run(25)).decisions)).toEqual([]);
    const { decisions } = await run(30);
    expect(blocksOf(decisions).map(srcOf)[0]).toBe(CLIENT);
    expect(alertsOf(decisions, 'scan_flood')[0]).toMatchObject({ sigId: 1006008, metadata: { distinct_hosts: 30, dest_port: 443 } });
  });

  it('a FIN sweep of port 80 (one port per host, under the stealth threshold) is a sweep', async () => {
    const frames = Array.from({ length: 60 }, (_, i) => frame({ src: SCANNER, dst: host(i), proto: 'tcp', srcPort: 40000, dstPort: 80, tcpFlags: FIN }, i * 0.01));
    const { decisions } = await engineRun(frames, [{ name: 'scan_flood' }]);
    expect(blocksOf(decisions)[0]?.index).toBe(29);
    expect(alertsOf(decisions, 'scan_flood')[0]).toMatchObject({ sigId: 1006008, metadata: { distinct_hosts: 30 } });
  });

  it('hosts are counted per port: 20 hosts on each of 22, 23, 445 and 3389 is no sweep', async () => {
    const frames = [22, 23, 445, 3389].flatMap((port, k) => Array.from({ length: 20 }, (_, i) => tcpProbe(SCANNER, host(i), port, k * 0.2 + i * 0.005, 'rst')).flat()).sort(byTime);
    const { decisions } = await engineRun(frames, [{ name: 'scan_flood' }]);
    expect(alertsOf(decisions, 'scan_flood').map((a) => a.sigId)).not.toContain(1006008);
  });
});

describe('UDP sweeps', () => {
  it('SNMP probes to 100 hosts on 161 without replies are a sweep; a resolver asking 100 servers on 53 that answer is not', async () => {
    const RESOLVER = '198.18.40.53';
    const frames: RawFrame[] = [];
    for (let i = 0; i < 100; i++) {
      frames.push(frame({ src: SCANNER, dst: host(i), proto: 'udp', srcPort: 50000, dstPort: 161, payload: 'public' }, i * 0.01));
      frames.push(frame({ src: RESOLVER, dst: host(i), proto: 'udp', srcPort: 20000 + i, dstPort: 53, payload: 'query' }, i * 0.01 + 0.002));
      frames.push(frame({ src: host(i), dst: RESOLVER, proto: 'udp', srcPort: 53, dstPort: 20000 + i, payload: 'answer' }, i * 0.01 + 0.004));
    }
    const { decisions } = await engineRun(frames, [{ name: 'scan_flood' }]);
    const blocks = blocksOf(decisions);
    expect([...new Set(blocks.map(srcOf))]).toEqual([SCANNER]);
    expect(blocks[0]!.pkt.dstPort).toBe(161);
    expect(alertsOf(decisions, 'scan_flood')[0]).toMatchObject({ sigId: 1006008, metadata: { distinct_hosts: 30, dest_port: 161 } });
  });
});

describe('sweep window and configuration', () => {
  // one host every 3 s: 20 per 60 s window
  const slowSweep = Array.from({ length: 100 }, (_, i) => tcpProbe(SCANNER, host(i), 3389, i * 3, 'nothing')).flat();

  it('a sweep slower than sweep_hosts per window is not reported with the defaults; a 5-minute window catches it', async () => {
    const defaults = await engineRun(slowSweep, [{ name: 'scan_flood' }]);
    expect(alertsOf(defaults.decisions, 'scan_flood').map((a) => a.sigId)).not.toContain(1006008);
    const wide = await engineRun(slowSweep, [{ name: 'scan_flood', config: { sweep_window_ms: 300000 } }]);
    expect(blocksOf(wide.decisions)[0]?.index).toBe(29);
  });

  it('sweep_hosts sets the threshold; with action alert the sweep is reported once per window and nobody is blocked', async () => {
    const fast = Array.from({ length: 60 }, (_, i) => tcpProbe(SCANNER, host(i), 22, i * 0.01, 'nothing')).flat();
    const strict = await engineRun(fast, [{ name: 'scan_flood', config: { sweep_hosts: 10, block_ttl: 33 } }]);
    const first = blocksOf(strict.decisions)[0]!;
    expect(first.index).toBe(9);
    expect(first.modules.find((m) => m.module === 'scan_flood')!.ttl).toBe(33);
    const quiet = await engineRun(fast, [{ name: 'scan_flood', config: { sweep_hosts: 10, action: 'alert' } }]);
    expect(blocksOf(quiet.decisions)).toEqual([]);
    expect(alertsOf(quiet.decisions, 'scan_flood').map((a) => a.sigId)).toEqual([1006008]);
  });

  it('refuses bad sweep settings naming the field', async () => {
    for (const [config, re] of [
      [{ sweep_hosts: 1 }, /sweep_hosts must be an integer 2\.\./],
      [{ sweep_window_ms: 10 }, /sweep_window_ms must be an integer 1000\.\.3600000/],
    ] as const) {
      const err = await engineRun([], [{ name: 'scan_flood', config }]).then(() => null, (e: unknown) => e);
      expect(String((err as Error)?.message)).toMatch(re);
    }
  });
});
