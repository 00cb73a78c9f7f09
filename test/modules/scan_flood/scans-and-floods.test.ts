import { beforeAll, describe, expect, it } from 'vitest';
import { Verdict } from '../../../host/verdict.js';
import { SecuxflowError } from '../../../host/errors.js';
import type { RawFrame } from '../../../host/capture/types.js';
import { alertsOf, compiledModule, engineRun, frame, instance, srcOf, tcpSession, type LogLine } from '../dlp/support.js';

beforeAll(async () => { await compiledModule('scan_flood'); }, 300_000);

const SCANNER = '198.18.40.66';
const TARGET = '198.18.40.2';
const CLIENT = '198.18.40.5';

/** One probe per port from the scanner, 2 ms apart, starting at `at`. */
function probes(ports: number[], spec: { proto: 'tcp' | 'udp'; tcpFlags?: number; src?: string; dst?: string }, at = 0): RawFrame[] {
  return ports.map((p, i) => frame({ src: spec.src ?? SCANNER, dst: spec.dst ?? TARGET, proto: spec.proto, srcPort: 50000, dstPort: p, ...(spec.tcpFlags !== undefined ? { tcpFlags: spec.tcpFlags } : {}), ...(spec.proto === 'udp' ? { payload: '' } : {}) }, at + i * 0.002));
}

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

/** The first decision where scan_flood answered BLOCK_SRC, per source. */
function firstBlocks(decisions: Awaited<ReturnType<typeof engineRun>>['decisions']) {
  const out = new Map<string, { frame: number; ttl: number; sid: number | undefined }>();
  for (const d of decisions) {
    const m = d.modules.find((x) => x.module === 'scan_flood');
    if (m?.verdict === Verdict.BLOCK_SRC && !out.has(srcOf(d))) out.set(srcOf(d), { frame: d.index, ttl: m.ttl, sid: m.alerts[0]?.sigId });
  }
  return out;
}

describe('scan_flood on captures built by the test, through the engine', () => {
  it.each([
    ['SYN', 0x02, 1006001, 20],
    ['FIN', 0x01, 1006002, 5],
    ['NULL', 0x00, 1006003, 5],
    ['Xmas', 0x29, 1006004, 5],
  ])('a %s scan is blocked at its threshold; a client with normal connections is not', async (_name, flags, sid, threshold) => {
    const frames = [
      ...tcpSession({ client: CLIENT, server: TARGET, serverPort: 80, toServer: ['GET / HTTP/1.1\r\n\r\n'], at: 0 }),
      ...probes(range(1, 40), { proto: 'tcp', tcpFlags: flags }, 0.05),
      ...tcpSession({ client: CLIENT, server: TARGET, serverPort: 443, clientPort: 40001, toServer: ['hello'], at: 0.3 }),
    ];
    const { decisions } = await engineRun(frames, [{ name: 'scan_flood' }]);
    const blocks = firstBlocks(decisions);
    expect([...blocks.keys()]).toEqual([SCANNER]);
    const b = blocks.get(SCANNER)!;
    expect(b.sid).toBe(sid);
    expect(b.ttl).toBe(600);
    // the probe that reached the threshold is the one blocked: frames before it were probes 1..threshold-1
    const firstProbe = decisions.findIndex((d) => srcOf(d) === SCANNER);
    expect(b.frame - firstProbe).toBe(threshold - 1);
    // after the block every later probe is dropped (the engine's penalty box, or the
    // module again for probes already in the same batch)
    const after = decisions.filter((d) => d.index > b.frame && srcOf(d) === SCANNER);
    expect(after.length).toBeGreaterThan(0);
    expect(after.filter((d) => !d.dropped)).toEqual([]);
    expect(decisions.filter((d) => srcOf(d) === CLIENT).every((d) => !d.dropped)).toBe(true);
    const alert = alertsOf(decisions, 'scan_flood')[0]!;
    expect(alert.metadata).toMatchObject({ distinct_ports: threshold, action: 'block_src', block_ttl: 600 });
  });

  it('a UDP scan counts distinct ports; repeated datagrams to one port do not', async () => {
    const repeats = Array.from({ length: 50 }, (_, i) => frame({ src: CLIENT, dst: TARGET, proto: 'udp', srcPort: 40000 + i, dstPort: 53, payload: 'q' }, i * 0.001));
    const frames = [...repeats, ...probes(range(100, 130), { proto: 'udp' }, 0.1)];
    const { decisions } = await engineRun(frames, [{ name: 'scan_flood' }]);
    const blocks = firstBlocks(decisions);
    expect([...blocks.keys()]).toEqual([SCANNER]);
    expect(blocks.get(SCANNER)!.sid).toBe(1006005);
    expect(decisions[blocks.get(SCANNER)!.frame]!.pkt.dstPort).toBe(114); // the 15th distinct port
  });

  it('ports spread wider than the window are not a scan (sliding window)', async () => {
    // 30 SYNs to distinct ports, one every second: at most 10 in any 10 s window
    const frames = range(1, 30).map((p, i) => frame({ src: SCANNER, dst: TARGET, proto: 'tcp', srcPort: 50000, dstPort: p, tcpFlags: 0x02 }, i * 1.0));
    const { decisions } = await engineRun(frames, [{ name: 'scan_flood' }]);
    expect(firstBlocks(decisions).size).toBe(0);
    const fast = await engineRun(frames.map((f, i) => ({ ...f, tsSec: 1_700_000_000, tsNsec: i * 1_000_000 })), [{ name: 'scan_flood' }]);
    expect(firstBlocks(fast.decisions).size).toBe(1);
  });

  it('a SYN flood on one destination blocks the flooding source, not a client that connects during it', async () => {
    const frames: RawFrame[] = [];
    for (let i = 0; i < 600; i++) {
      frames.push(frame({ src: SCANNER, dst: TARGET, proto: 'tcp', srcPort: 1024 + i, dstPort: 80, tcpFlags: 0x02 }, i * 0.001));
      if (i % 100 === 50) frames.push(frame({ src: CLIENT, dst: TARGET, proto: 'tcp', srcPort: 40000 + i, dstPort: 80, tcpFlags: 0x02 }, i * 0.001 + 0.0005));
    }
    const { decisions } = await engineRun(frames, [{ name: 'scan_flood' }]);
    const blocks = firstBlocks(decisions);
    expect([...blocks.keys()]).toEqual([SCANNER]);
    expect(blocks.get(SCANNER)!.sid).toBe(1006010);
    const meta = alertsOf(decisions, 'scan_flood')[0]!.metadata!;
    expect(meta.syns_to_destination).toBe(400);
    expect(meta.syns_from_source as number).toBeGreaterThanOrEqual(100);
    expect(decisions.filter((d) => srcOf(d) === CLIENT).every((d) => !d.dropped)).toBe(true);
  });

  it('a SYN flood from spoofed sources raises one destination alert per window and blocks nobody', async () => {
    // 1600 SYNs in 1.6 s, each from a different address; the window is 1 s
    const frames = Array.from({ length: 1600 }, (_, i) => frame({ src: `198.18.${100 + (i >> 8)}.${i & 255}`, dst: TARGET, proto: 'tcp', srcPort: 1024 + i, dstPort: 80, tcpFlags: 0x02 }, i * 0.001));
    const { decisions } = await engineRun(frames, [{ name: 'scan_flood' }]);
    expect(firstBlocks(decisions).size).toBe(0);
    const a = alertsOf(decisions, 'scan_flood');
    expect(a.map((x) => x.sigId)).toEqual([1006013, 1006013]);
    // the first when the 400th SYN arrives, the next once a window has passed since
    expect(a[0]!.frame).toBe(399);
    expect(a[0]!.metadata).toMatchObject({ syns_to_destination: 400, dest_port: 80, action: 'alert' });
    expect(a[1]!.frame - a[0]!.frame).toBeGreaterThanOrEqual(1000);
  });

  it('an ICMP echo flood (IPv4 and IPv6) is blocked; a few pings are not', async () => {
    const v4 = Array.from({ length: 300 }, (_, i) => frame({ src: SCANNER, dst: TARGET, proto: 'icmp', icmpType: 8, payload: 'ping' }, i * 0.001));
    const v6 = Array.from({ length: 300 }, (_, i) => frame({ src: '2001:db8::66', dst: '2001:db8::2', proto: 'icmp', icmpType: 128, payload: 'ping' }, i * 0.001));
    const pings = Array.from({ length: 5 }, (_, i) => frame({ src: CLIENT, dst: TARGET, proto: 'icmp', icmpType: 8, payload: 'ping' }, i * 0.05));
    const { decisions } = await engineRun([...pings, ...v4, ...v6], [{ name: 'scan_flood' }]);
    const blocks = firstBlocks(decisions);
    expect(new Set(blocks.keys())).toEqual(new Set([SCANNER, '2001:db8::66']));
    for (const b of blocks.values()) expect(b.sid).toBe(1006011);
  });

  it('UDP amplification: large unsolicited responses from 53/123/1900/11211 block the reflector; answered queries do not', async () => {
    const big = 'x'.repeat(1200);
    const reflected = [53, 123, 1900, 11211].map((port, k) => Array.from({ length: 25 }, (_, i) =>
      frame({ src: `198.18.41.${k + 1}`, dst: TARGET, proto: 'udp', srcPort: port, dstPort: 3000 + i, payload: big }, i * 0.002)));
    // a resolver's large answers to queries the client sent first
    const answered: RawFrame[] = [];
    for (let i = 0; i < 30; i++) {
      answered.push(frame({ src: CLIENT, dst: '198.18.41.53', proto: 'udp', srcPort: 41000 + i, dstPort: 53, payload: 'query' }, i * 0.002));
      answered.push(frame({ src: '198.18.41.53', dst: CLIENT, proto: 'udp', srcPort: 53, dstPort: 41000 + i, payload: big }, i * 0.002 + 0.001));
    }
    const { decisions } = await engineRun([...reflected.flat(), ...answered], [{ name: 'scan_flood' }]);
    const blocks = firstBlocks(decisions);
    expect(new Set(blocks.keys())).toEqual(new Set(['198.18.41.1', '198.18.41.2', '198.18.41.3', '198.18.41.4']));
    for (const b of blocks.values()) expect(b.sid).toBe(1006012);
  });
});

describe('scan_flood configuration', () => {
  it('thresholds, ttl and alert-only action come from the config', async () => {
    const frames = probes(range(1, 12), { proto: 'tcp', tcpFlags: 0x02 });
    const strict = await engineRun(frames, [{ name: 'scan_flood', config: { syn_scan_ports: 10, block_ttl: 42 } }]);
    const b = firstBlocks(strict.decisions).get(SCANNER)!;
    expect(b.ttl).toBe(42);
    expect(strict.decisions[b.frame]!.pkt.dstPort).toBe(10);
    const quiet = await engineRun(frames, [{ name: 'scan_flood', config: { syn_scan_ports: 10, action: 'alert' } }]);
    expect(firstBlocks(quiet.decisions).size).toBe(0);
    // alert-only: reported once per window, not once per probe
    expect(alertsOf(quiet.decisions, 'scan_flood').map((a) => a.sigId)).toEqual([1006001]);
  });

  it('refuses bad configs naming the field', async () => {
    const cases: [unknown, RegExp][] = [
      [{ syn_scan_ports: 1 }, /syn_scan_ports must be an integer 2\.\.65536/],
      [{ action: 'drop' }, /action must be "block_src" or "alert"/],
      [{ amplification_ports: [53, 70000] }, /amplification_ports\[1\] must be a port number/],
      [{ capacity: 10_000_000 }, /capacity must be an integer 16\.\.8192/],
      [{ scan_window: 5 }, /unknown field "scan_window"/],
    ];
    for (const [config, re] of cases) {
      const logs: LogLine[] = [];
      const err = await instance('scan_flood', config, logs).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(SecuxflowError);
      expect(String((err as Error).message)).toMatch(re);
    }
  });
});
