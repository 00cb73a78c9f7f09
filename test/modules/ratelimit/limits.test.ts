import { beforeAll, describe, expect, it } from 'vitest';
import { Verdict } from '../../../host/verdict.js';
import { SecuxflowError } from '../../../host/errors.js';
import type { RawFrame } from '../../../host/capture/types.js';
import { alertsOf, compiledModule, engineRun, frame, instance, srcOf, tcpSession, type LogLine } from '../dlp/support.js';

beforeAll(async () => { await compiledModule('ratelimit'); }, 300_000);

const SERVER = '198.18.50.2';
const BURSTY = '198.18.50.66';
const CALM = '198.18.50.5';

/** n connections (whole TCP sessions) from src to port, `gap` seconds apart from `at`. */
function connections(src: string, port: number, n: number, gap: number, at = 0, firstClientPort = 30000): RawFrame[] {
  const out: RawFrame[] = [];
  for (let i = 0; i < n; i++) out.push(...tcpSession({ client: src, server: SERVER, serverPort: port, clientPort: firstClientPort + i, toServer: ['x'], at: at + i * gap, step: gap / 20 }));
  return out;
}

/** Per source: the frame index of the first BLOCK_SRC from ratelimit and its ttl. */
function blocks(decisions: Awaited<ReturnType<typeof engineRun>>['decisions']) {
  const out = new Map<string, { frame: number; ttl: number; conn: number }>();
  for (const d of decisions) {
    const m = d.modules.find((x) => x.module === 'ratelimit');
    if (m?.verdict === Verdict.BLOCK_SRC && !out.has(srcOf(d))) out.set(srcOf(d), { frame: d.index, ttl: m.ttl, conn: d.pkt.srcPort - 30000 });
  }
  return out;
}

describe('ratelimit through the engine', () => {
  it('token bucket: the connection past burst (rate refills in between) puts the source in the penalty box', async () => {
    // 40 connections 10 ms apart (100/s) against rate 10/s, burst 5: tokens refill 0.1 per connection
    const frames = [...connections(BURSTY, 80, 40, 0.01), ...connections(CALM, 80, 5, 0.1, 0, 31000)].sort((a, b) => a.tsSec - b.tsSec || a.tsNsec - b.tsNsec);
    const { decisions } = await engineRun(frames, [{ name: 'ratelimit', config: { rules: [{ name: 'web', proto: 'tcp', ports: [80, '8000-8100'], rate: 10, burst: 5, penalty: 120 }] } }]);
    const b = blocks(decisions);
    expect([...b.keys()]).toEqual([BURSTY]);
    // independent count: 5 tokens at start + 0.1 per 10 ms gap; the connection that finds < 1 token is the 6th (index 5)
    expect(b.get(BURSTY)!.conn).toBe(5);
    expect(b.get(BURSTY)!.ttl).toBe(120);
    const a = alertsOf(decisions, 'ratelimit');
    expect(a[0]!.sigId).toBe(1007001);
    expect(a[0]!.metadata).toEqual({ rule: 'web', key: 'src', counting: 'flows', action: 'block_src', rate: 10, burst: 5, penalty: 120 });
    // penalty box: everything from the source after the block is dropped without the module
    const later = decisions.filter((d) => srcOf(d) === BURSTY && d.index > b.get(BURSTY)!.frame);
    expect(later.length).toBeGreaterThan(0);
    expect(later.every((d) => d.dropped)).toBe(true);
    expect(later.some((d) => d.stage === 'penalty')).toBe(true);
    expect(decisions.filter((d) => srcOf(d) === CALM).every((d) => !d.dropped)).toBe(true);
  });

  it('sliding window: limit connections per window; the same count spread over time passes', async () => {
    const config = { rules: [{ name: 'ssh', proto: 'tcp', ports: [22], algorithm: 'sliding_window', limit: 8, window_ms: 1000, penalty: 30 }] };
    const slow = await engineRun(connections(BURSTY, 22, 20, 0.2), [{ name: 'ratelimit', config }]);
    expect(blocks(slow.decisions).size).toBe(0); // 5 per second at most
    const fast = await engineRun(connections(BURSTY, 22, 20, 0.05), [{ name: 'ratelimit', config }]);
    const b = blocks(fast.decisions).get(BURSTY)!;
    expect(b.conn).toBe(8); // the 9th connection inside one second
    expect(b.ttl).toBe(30);
    expect(alertsOf(fast.decisions, 'ratelimit')[0]!.sigId).toBe(1007002);
  });

  it('ports and protocol select the traffic a rule counts', async () => {
    const config = { rules: [{ name: 'dns', proto: 'udp', ports: [53], count: 'packets', rate: 5, burst: 5 }] };
    const tcp = connections(BURSTY, 53, 20, 0.01);
    const udpOther = Array.from({ length: 20 }, (_, i) => frame({ src: BURSTY, dst: SERVER, proto: 'udp', srcPort: 5000, dstPort: 123, payload: 'x' }, i * 0.01));
    const quiet = await engineRun([...tcp, ...udpOther], [{ name: 'ratelimit', config }]);
    expect(blocks(quiet.decisions).size).toBe(0);
    const udp53 = Array.from({ length: 20 }, (_, i) => frame({ src: BURSTY, dst: SERVER, proto: 'udp', srcPort: 5000, dstPort: 53, payload: 'x' }, i * 0.01));
    const loud = await engineRun(udp53, [{ name: 'ratelimit', config }]);
    const b = [...loud.decisions].find((d) => d.modules[0]?.verdict === Verdict.BLOCK_SRC)!;
    expect(b.index).toBe(5); // packets count: the 6th datagram of one flow
  });

  it('key src_dport limits each destination port separately; key src adds them up', async () => {
    const frames = [...connections(BURSTY, 80, 4, 0.01), ...connections(BURSTY, 443, 4, 0.01, 0.005, 31000)].sort((a, b) => a.tsSec - b.tsSec || a.tsNsec - b.tsNsec);
    const perPort = await engineRun(frames, [{ name: 'ratelimit', config: { rules: [{ key: 'src_dport', rate: 0.1, burst: 4 }] } }]);
    expect(blocks(perPort.decisions).size).toBe(0);
    const perSrc = await engineRun(frames, [{ name: 'ratelimit', config: { rules: [{ key: 'src', rate: 0.1, burst: 4 }] } }]);
    expect(blocks(perSrc.decisions).size).toBe(1);
  });

  it('action drop drops only the packets over the limit, alert only reports', async () => {
    const frames = Array.from({ length: 10 }, (_, i) => frame({ src: BURSTY, dst: SERVER, proto: 'udp', srcPort: 5000, dstPort: 53, payload: 'x' }, i * 0.001));
    const drop = await engineRun(frames, [{ name: 'ratelimit', config: { rules: [{ count: 'packets', rate: 1, burst: 3, action: 'drop' }] } }]);
    expect(drop.decisions.map((d) => d.dropped)).toEqual([false, false, false, true, true, true, true, true, true, true]);
    const inst = await instance('ratelimit', { rules: [{ count: 'packets', rate: 1, burst: 3, action: 'alert' }] });
    const out = { verdicts: new Uint8Array(10), verdictArgs: new Uint16Array(10), alerts: [], events: [] } as any;
    inst.inspect(frames.map((f, i) => ({ pkt: drop.decisions[i]!.pkt, flowId: 1, direction: 0 as const, flags: i === 0 ? 2 : 0, stream: null, streamNew: 0 })), 10, out);
    expect(Array.from(out.verdicts)).toEqual(new Array(10).fill(Verdict.CONTINUE));
    expect(out.alerts.length).toBe(7);
  });

  it('the penalty ends after its duration: the source is let in again', async () => {
    const burst = connections(BURSTY, 80, 6, 0.01);
    const back = connections(BURSTY, 80, 1, 0.01, 5, 32000);
    const { decisions } = await engineRun([...burst, ...back], [{ name: 'ratelimit', config: { rules: [{ rate: 1, burst: 3, penalty: 2 }] } }]);
    expect(blocks(decisions).get(BURSTY)!.ttl).toBe(2);
    const backDecisions = decisions.slice(burst.length);
    expect(backDecisions.length).toBe(back.length);
    expect(backDecisions.some((d) => d.dropped)).toBe(false);
  });

  it('IPv6 sources of different /64s are limited apart from each other', async () => {
    const v6 = (src: string, n: number, firstPort: number) => Array.from({ length: n }, (_, i) => frame({ src, dst: '2001:db8::2', proto: 'tcp', srcPort: firstPort + i, dstPort: 80, tcpFlags: 0x02 }, i * 0.01));
    const frames = [...v6('2001:db8:66::66', 10, 30000), ...v6('2001:db8:5::5', 3, 31000)].sort((a, b) => a.tsSec - b.tsSec || a.tsNsec - b.tsNsec);
    const { decisions } = await engineRun(frames, [{ name: 'ratelimit', config: { rules: [{ rate: 1, burst: 4 }] } }]);
    const blocked = new Set(decisions.filter((d) => d.modules[0]?.verdict === Verdict.BLOCK_SRC).map(srcOf));
    expect([...blocked]).toEqual(['2001:db8:66::66']);
  });

  it('two rules over at once: the longer penalty wins', async () => {
    const frames = connections(BURSTY, 80, 3, 0.01);
    const { decisions } = await engineRun(frames, [{ name: 'ratelimit', config: { rules: [{ name: 'a', rate: 1, burst: 1, penalty: 50 }, { name: 'b', rate: 1, burst: 1, penalty: 500 }] } }]);
    const b = blocks(decisions).get(BURSTY)!;
    expect(b.ttl).toBe(500);
    expect(alertsOf(decisions, 'ratelimit').filter((a) => a.frame === b.frame).map((a) => a.metadata!.rule)).toEqual(['a', 'b']);
  });
});

describe('ratelimit configuration', () => {
  it('refuses bad configs naming the rule and field', async () => {
    const cases: [unknown, RegExp][] = [
      [undefined, /no rules/],
      [{ rules: [] }, /rules must be a non-empty array/],
      [{ rules: [{ rate: 0 }] }, /rules\[0\]\.rate must be a number > 0/],
      [{ rules: [{ rate: 5 }, { algorithm: 'sliding_window' }] }, /rules\[1\]\.limit must be an integer >= 1/],
      [{ rules: [{ rate: 5, limit: 3 }] }, /rules\[0\]: limit and window_ms belong to sliding_window/],
      [{ rules: [{ rate: 5, ports: ['90-80'] }] }, /rules\[0\]\.ports\[0\] must be a port 0\.\.65535 or a range/],
      [{ rules: [{ rate: 5, key: 'dst' }] }, /rules\[0\]\.key must be "src" or "src_dport"/],
      [{ rules: [{ rate: 5, proto: 'sctp' }] }, /rules\[0\]\.proto must be tcp, udp, icmp, icmpv6 or any/],
      [{ rules: [{ rate: 5, penalty: 0 }] }, /rules\[0\]\.penalty must be an integer 1\.\.65535/],
      [{ rules: [{ rate: 5, every: 1 }] }, /rules\[0\]: unknown field "every"/],
      [{ capacity: 20000, rules: [{ rate: 5 }, { rate: 6 }] }, /rules x capacity is 40000 keys; at most 32768/],
    ];
    for (const [config, re] of cases) {
      const logs: LogLine[] = [];
      const err = await instance('ratelimit', config, logs).then(() => null, (e: unknown) => e);
      expect(err, String(re)).toBeInstanceOf(SecuxflowError);
      expect(String((err as Error).message)).toMatch(re);
    }
  });
});
