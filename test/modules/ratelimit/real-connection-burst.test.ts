// A burst of real TCP connections (curl in a loop) from one namespace address
// beside a calm client on another, captured with tcpdump and run through the
// engine with ratelimit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Verdict } from '../../../host/verdict.js';
import { alertsOf, compiledModule, engineRun, srcOf } from '../dlp/support.js';
import { startEchoServers } from '../../kernel/lab/traffic.js';
import { capture, makePair, readFrames, type Pair } from '../scan_flood/lab.js';
import { moduleLabSkip } from '../lab/gate.js';

const skip = moduleLabSkip(['curl']);
let pair: Pair;

beforeAll(async () => {
  await compiledModule('ratelimit');
  if (skip) return;
  pair = await makePair('rtl', 62);
  await startEchoServers(pair.lab, pair.serverNs, pair.server.addr, 8080, 8053, 120_000);
}, 300_000);

afterAll(() => { pair?.lab.cleanupSync(); });

describe.skipIf(skip)('ratelimit on a real connection burst', () => {
  it('30 back-to-back curl connections exceed 5/s burst 10; two calm connections do not', async () => {
    const url = `http://${pair.server.addr}:8080/`;
    const pcap = await capture(pair, 'burst', async () => {
      await pair.lab.exec(pair.clientNs, ['curl', '-s', '--max-time', '2', '--interface', pair.client2, url], { timeoutMs: 5_000 });
      const loop = `for i in $(seq 1 30); do curl -s --max-time 1 --interface ${pair.client.addr} ${url} >/dev/null; done; true`;
      const r = await pair.lab.exec(pair.clientNs, ['sh', '-c', loop], { timeoutMs: 60_000 });
      expect(r.code).toBe(0);
      await pair.lab.exec(pair.clientNs, ['curl', '-s', '--max-time', '2', '--interface', pair.client2, url], { timeoutMs: 5_000 });
    });
    const frames = readFrames(pcap);
    const { decisions } = await engineRun(frames, [{ name: 'ratelimit', config: { rules: [{ name: 'echo', proto: 'tcp', ports: [8080], rate: 5, burst: 10, penalty: 300 }] } }]);
    // independent of the module: the SYNs each client sent
    const syns = (src: string) => decisions.filter((d) => srcOf(d) === src && (d.pkt.tcpFlags & 0x12) === 0x02).length;
    expect(syns(pair.client.addr)).toBe(30);
    expect(syns(pair.client2)).toBe(2);
    const blockedBy = new Set(decisions.filter((d) => d.modules.some((m) => m.module === 'ratelimit' && m.verdict === Verdict.BLOCK_SRC)).map(srcOf));
    expect([...blockedBy]).toEqual([pair.client.addr]);
    const first = alertsOf(decisions, 'ratelimit')[0]!;
    expect(first.sigId).toBe(1007001);
    expect(first.metadata).toMatchObject({ rule: 'echo', penalty: 300 });
    expect(decisions.filter((d) => srcOf(d) === pair.client2).some((d) => d.dropped)).toBe(false);
  }, 120_000);
});
