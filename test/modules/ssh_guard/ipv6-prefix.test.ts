// Brute force from many addresses of one IPv6 /64 (an audit's evasion: a
// host given a /64 opens every connection from a new address). The host's
// penalty box blocks a BLOCK_SRC'd IPv6 source's whole /64, so the count is
// kept per /64 too; IPv4 stays per address.
import { beforeAll, describe, expect, it } from 'vitest';
import { Verdict } from '../../../host/verdict.js';
import { alertsOf, compiledModule, engineRun, frame, srcOf } from '../dlp/support.js';

beforeAll(async () => { await compiledModule('ssh_guard'); }, 300_000);

/** One SSH connection attempt (its SYN) per source, 200 ms apart. */
/** A packet needs both addresses of one family: an IPv4-mapped source goes to the IPv4-mapped destination. */
const sameFamily = (src: string, dst: string) => (src.startsWith('::ffff:') && !dst.includes(':') ? `::ffff:${dst}` : dst);

function attempts(sources: string[], dst: string) {
  return sources.map((src, i) => frame({ src, dst: sameFamily(src, dst), proto: 'tcp', srcPort: 40000 + i, dstPort: 22, tcpFlags: 0x02 }, i * 0.2));
}

const blockedSources = (decisions: Awaited<ReturnType<typeof engineRun>>['decisions']) =>
  decisions.filter((d) => d.modules.some((m) => m.module === 'ssh_guard' && m.verdict === Verdict.BLOCK_SRC)).map(srcOf);

describe('ssh_guard counts IPv6 sources per /64', () => {
  it('30 connections, each from a new address of one /64, trip the limit at the 11th', async () => {
    const sources = Array.from({ length: 30 }, (_, i) => `2001:db8:bad::${(i + 1).toString(16)}:${(i * 31 + 7).toString(16)}`);
    const { decisions } = await engineRun(attempts(sources, '2001:db8:1::22'), [{ name: 'ssh_guard' }]);
    const blocked = blockedSources(decisions);
    expect(blocked[0]).toBe(sources[10]);
    expect(alertsOf(decisions, 'ssh_guard')[0]).toMatchObject({ sigId: 1004001, metadata: { connections: 11 } });
    // every later attempt from the /64 is refused, by the host's /64 block or the module's own
    const later = decisions.filter((d) => d.index > 10);
    expect(later.every((d) => d.dropped)).toBe(true);
  });

  it('separate /64s and IPv4 neighbours stay apart', async () => {
    const v6 = Array.from({ length: 30 }, (_, i) => `2001:db8:${(i + 1).toString(16)}::1`);
    const v4 = Array.from({ length: 30 }, (_, i) => `198.18.5.${i + 1}`);
    const { decisions } = await engineRun([...attempts(v6, '2001:db8:1::22'), ...attempts(v4, '198.18.0.22')], [{ name: 'ssh_guard' }]);
    expect(blockedSources(decisions)).toEqual([]);
  });

  it('an IPv4-mapped IPv6 source counts with its IPv4 address', async () => {
    const sources = Array.from({ length: 12 }, (_, i) => (i % 2 ? '::ffff:198.18.5.5' : '198.18.5.5'));
    const { decisions } = await engineRun(attempts(sources, '198.18.0.22'), [{ name: 'ssh_guard' }]);
    expect(alertsOf(decisions, 'ssh_guard').map((a) => a.sigId)).toEqual([1004001]);
  });
});
