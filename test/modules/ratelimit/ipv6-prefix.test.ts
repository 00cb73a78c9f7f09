// Rate limits keyed per IPv6 /64 (an audit's evasion: every connection from
// a new address of one /64); IPv4 stays per address, and an IPv4-mapped IPv6
// source shares its IPv4 address's key.
import { beforeAll, describe, expect, it } from 'vitest';
import { Verdict } from '../../../host/verdict.js';
import { compiledModule, engineRun, frame, srcOf } from '../dlp/support.js';

beforeAll(async () => { await compiledModule('ratelimit'); }, 300_000);

const RULE = { rules: [{ name: 'ssh', proto: 'tcp', ports: [22], algorithm: 'sliding_window', limit: 8, window_ms: 60000 }] };

/** A packet needs both addresses of one family: an IPv4-mapped source goes to the IPv4-mapped destination. */
const sameFamily = (src: string, dst: string) => (src.startsWith('::ffff:') && !dst.includes(':') ? `::ffff:${dst}` : dst);

function attempts(sources: string[], dst: string) {
  return sources.map((src, i) => frame({ src, dst: sameFamily(src, dst), proto: 'tcp', srcPort: 40000 + i, dstPort: 22, tcpFlags: 0x02 }, i * 0.2));
}

const blockedSources = (decisions: Awaited<ReturnType<typeof engineRun>>['decisions']) =>
  decisions.filter((d) => d.modules.some((m) => m.module === 'ratelimit' && m.verdict === Verdict.BLOCK_SRC)).map(srcOf);

describe('ratelimit keys IPv6 sources per /64', () => {
  it('connections from rotating addresses of one /64 share one limit', async () => {
    const sources = Array.from({ length: 20 }, (_, i) => `2001:db8:bad::${(i + 1).toString(16)}:${(i * 31 + 7).toString(16)}`);
    const { decisions } = await engineRun(attempts(sources, '2001:db8:1::22'), [{ name: 'ratelimit', config: RULE }]);
    expect(blockedSources(decisions)[0]).toBe(sources[8]);
  });

  it('per-port keys (src_dport) are per /64 too', async () => {
    const rule = { rules: [{ ...RULE.rules[0], key: 'src_dport' }] };
    const sources = Array.from({ length: 20 }, (_, i) => `2001:db8:bad::${(i + 1).toString(16)}`);
    const { decisions } = await engineRun(attempts(sources, '2001:db8:1::22'), [{ name: 'ratelimit', config: rule }]);
    expect(blockedSources(decisions)[0]).toBe(sources[8]);
  });

  it('separate /64s and IPv4 neighbours stay apart; an IPv4-mapped source is its IPv4 address', async () => {
    const v6 = Array.from({ length: 20 }, (_, i) => `2001:db8:${(i + 1).toString(16)}::1`);
    const v4 = Array.from({ length: 20 }, (_, i) => `198.18.5.${i + 1}`);
    const mapped = Array.from({ length: 10 }, (_, i) => (i % 2 ? '::ffff:198.18.9.9' : '198.18.9.9'));
    const frames = [...attempts(v6, '2001:db8:1::22'), ...attempts(v4, '198.18.0.22'), ...attempts(mapped, '198.18.0.22')].sort((a, b) => a.tsSec - b.tsSec || a.tsNsec - b.tsNsec);
    const { decisions } = await engineRun(frames, [{ name: 'ratelimit', config: RULE }]);
    const blocked = blockedSources(decisions);
    // the 9th attempt of the two forms together is the first over the limit of 8
    expect(blocked[0]).toBe('198.18.9.9');
    expect(decisions.find((d) => d.modules.some((m) => m.verdict === Verdict.BLOCK_SRC))!.pkt.srcPort).toBe(40008);
    expect(new Set(blocked)).toEqual(new Set(blocked.filter((s) => s.endsWith('198.18.9.9'))));
  });
});
