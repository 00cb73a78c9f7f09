// never_block: a BLOCK_SRC verdict on a listed source (or, for IPv6, on a
// source whose /64 holds a listed address) blocks the flow, not the source:
// FIN probes forged in a resolver's name must not cut the resolver off.
import { describe, expect, it } from 'vitest';
import { Engine } from '../../../host/engine/engine.js';
import { NeverBlock, parseNeverBlock, MAX_NEVER_BLOCK } from '../../../host/engine/never-block.js';
import type { PacketDecision } from '../../../host/engine/types.js';
import { statsRecord } from '../../../host/eve/format.js';
import { parseIp } from '../../../host/packet/addr.js';
import { Verdict } from '../../../host/verdict.js';
import { packet, portVerdictModule } from './support.js';

async function run(neverBlock: string[] | undefined, pkts: Parameters<typeof packet>[], blockIpv6Prefix: 64 | 128 = 64) {
  const mod = await portVerdictModule();
  const decisions: PacketDecision[] = [];
  const engine = new Engine({
    rules: { defaultPolicy: 'inspect', rules: [] }, modules: [mod], batchSize: 1, blockIpv6Prefix,
    ...(neverBlock ? { neverBlock } : {}),
    onDecision: (d) => { decisions.push(d); },
  });
  for (const p of pkts) engine.pushDecoded(packet(...p));
  const counters = engine.finish();
  return { decisions: decisions.sort((a, b) => a.index - b.index).map((d) => [d.stage, d.verdict]), counters };
}

// port 9005: the fixture module answers BLOCK_SRC (30 s ttl); 443 CONTINUE
const dstFor = (src: string): string => (src.includes(':') ? '2001:db8:ffff::1' : '198.18.1.1');
const blockSrc = (src: string, at: number, srcPort = 40000): Parameters<typeof packet> => [{ src, dst: dstFor(src), dstPort: 9005, srcPort }, at];
const later = (src: string, at: number, srcPort = 50000): Parameters<typeof packet> => [{ src, dst: dstFor(src), dstPort: 443, srcPort }, at];

describe('never_block in the engine', () => {
  it('a listed source gets its flow blocked, its other connections still pass; an unlisted one is put in the box', async () => {
    const { decisions, counters } = await run(['198.18.0.53', '10.0.0.0/8'], [
      blockSrc('198.18.0.53', 0), blockSrc('198.18.0.53', 1), later('198.18.0.53', 2),
      blockSrc('10.9.9.9', 3), later('10.9.9.9', 4),
      blockSrc('198.18.0.66', 5), later('198.18.0.66', 6),
    ]);
    expect(decisions).toEqual([
      ['module', Verdict.BLOCK_FLOW], ['flow', Verdict.BLOCK_FLOW], ['module', Verdict.CONTINUE],
      ['module', Verdict.BLOCK_FLOW], ['module', Verdict.CONTINUE],
      ['module', Verdict.BLOCK_SRC], ['penalty', Verdict.DROP],
    ]);
    expect(counters.penaltySpared).toBe(2);
    expect((statsRecord(counters, 0, 6) as { stats: { penalty: { spared: number } } }).stats.penalty.spared).toBe(2);
  });

  it('IPv6: a source whose /64 holds a listed address is spared while the box takes /64s, and blocked when it takes addresses', async () => {
    const pkts = [blockSrc('2001:db8:1:2::66', 0), later('2001:db8:1:2::53', 1)];
    const by64 = await run(['2001:db8:1:2::53'], pkts, 64);
    expect(by64.decisions).toEqual([['module', Verdict.BLOCK_FLOW], ['module', Verdict.CONTINUE]]);
    const by128 = await run(['2001:db8:1:2::53'], pkts, 128);
    expect(by128.decisions).toEqual([['module', Verdict.BLOCK_SRC], ['module', Verdict.CONTINUE]]);
    expect(by128.counters.penaltySpared).toBe(0);
  });

  it('without a list nothing changes', async () => {
    const { decisions, counters } = await run(undefined, [blockSrc('198.18.0.53', 0), later('198.18.0.53', 1)]);
    expect(decisions).toEqual([['module', Verdict.BLOCK_SRC], ['penalty', Verdict.DROP]]);
    expect(counters.penaltySpared).toBe(0);
  });
});

describe('never_block parsing and matching', () => {
  it('normalises CIDRs and names the entry that is not one', () => {
    expect(parseNeverBlock(['192.0.2.77/24', '2001:DB8::1'], 'never_block')).toEqual(['192.0.2.0/24', '2001:db8::1/128']);
    expect(() => parseNeverBlock(['10.0.0.0/8', '10.0.0.300'], 'never_block')).toThrow(/never_block\[1\]: "10\.0\.0\.300" is not a CIDR/);
    expect(() => parseNeverBlock([42], 'never_block')).toThrow(/never_block\[0\]/);
    expect(() => parseNeverBlock(Array.from({ length: MAX_NEVER_BLOCK + 1 }, () => '10.0.0.1'), 'never_block')).toThrow(/at most 1024/);
  });

  it('an IPv4-mapped source is matched as its IPv4 address; families never mix', () => {
    const nb = new NeverBlock(['198.18.0.0/24', '::/0']);
    expect(nb.shields(parseIp('::ffff:198.18.0.9'), 64)).toBe(true);
    expect(nb.shields(parseIp('198.18.1.9'), 64)).toBe(false);
    expect(new NeverBlock(['::/0']).shields(parseIp('198.18.1.9'), 64)).toBe(false);
  });
});
