import { describe, expect, it } from 'vitest';
import { Engine } from '../../../host/engine/engine.js';
import { MAX_PENALTY_SOURCES, PenaltyBox } from '../../../host/engine/penalty-box.js';
import type { PacketDecision } from '../../../host/engine/types.js';
import { statsRecord } from '../../../host/eve/format.js';
import { Verdict } from '../../../host/verdict.js';
import { packet, portVerdictModule } from './support.js';
import { parseIp } from '../../../host/packet/addr.js';
import { isNet6Key, net6Of, parsePenaltyEntry, penaltyEntryName } from '../../../host/kernel/penalty-entry.js';
import type { SecuxflowError } from '../../../host/errors.js';

const ip = (i: number): Uint8Array => Uint8Array.of(10, (i >> 16) & 255, (i >> 8) & 255, i & 255);
const dotted = (i: number): string => ip(i).join('.');

describe('penalty box bounds', () => {
  it('full of live entries: a new source is refused, a known one is extended, and expired ones make room', () => {
    const box = new PenaltyBox(3);
    for (let i = 0; i < 3; i++) expect(box.block(ip(i), 0, 10)).toBe(true);
    expect(box.block(ip(9), 5, 10)).toBe(false);
    expect(box.isBlocked(ip(9), 5)).toBe(false);
    expect(box.block(ip(1), 5, 10)).toBe(true); // already in: its deadline moves to 15
    expect(box.size).toBe(3);
    // at 12, sources 0 and 2 have expired: the full box makes room for 9
    expect(box.block(ip(9), 12, 10)).toBe(true);
    expect(box.isBlocked(ip(9), 13)).toBe(true);
    expect(box.isBlocked(ip(1), 13)).toBe(true);
    expect(box.isBlocked(ip(0), 13)).toBe(false);
    expect(box.size).toBeLessThanOrEqual(3);
  });

  it(`BLOCK_SRC from ${MAX_PENALTY_SOURCES + 1} spoofed sources: the engine holds the kernel's ${MAX_PENALTY_SOURCES}, counts the refusal in its stats, and blocks again once the ttl ends`, async () => {
    const mod = await portVerdictModule();
    const decisions = new Map<number, PacketDecision>();
    const engine = new Engine({ rules: { defaultPolicy: 'inspect', rules: [] }, modules: [mod], batchSize: 1, onDecision: (d) => { if (d.index >= MAX_PENALTY_SOURCES) decisions.set(d.index, d); } });
    // port 9005: the fixture answers BLOCK_SRC with a 30 s ttl; batches of one, so each
    // packet sees the verdicts before it, as a live run's small batches do
    for (let i = 0; i < MAX_PENALTY_SOURCES; i++) engine.pushDecoded(packet({ src: dotted(i), dstPort: 9005 }, 0));
    const late = dotted(MAX_PENALTY_SOURCES);
    engine.pushDecoded(packet({ src: late, dstPort: 9005 }, 1));
    engine.pushDecoded(packet({ src: late, dstPort: 443, srcPort: 50000 }, 2));
    const afterTtl = dotted(MAX_PENALTY_SOURCES + 1);
    engine.pushDecoded(packet({ src: afterTtl, dstPort: 9005 }, 40));
    engine.pushDecoded(packet({ src: afterTtl, dstPort: 443, srcPort: 50000 }, 41));
    const c = engine.finish();
    const d = [...decisions.values()].sort((a, b) => a.index - b.index);
    expect(d.map((x) => [x.stage, x.verdict])).toEqual([
      ['module', Verdict.BLOCK_SRC], // refused by the full box
      ['module', Verdict.CONTINUE], // so the source is not blocked
      ['module', Verdict.BLOCK_SRC], // the first 65,536 have expired: room again
      ['penalty', Verdict.DROP],
    ]);
    expect(c.penaltyFull).toBe(1);
    expect((statsRecord(c, 0, 41) as { stats: { penalty: { full: number } } }).stats.penalty.full).toBe(1);
  }, 60_000);
});

describe('penalty box release', () => {
  it('an operator\'s release takes one source out, a clear takes all, and a full box has room again', () => {
    const box = new PenaltyBox(2);
    expect(box.block(ip(1), 0, 100)).toBe(true);
    expect(box.block(ip(2), 0, 100)).toBe(true);
    expect(box.block(ip(3), 1, 100)).toBe(false); // full of live entries
    expect(box.release(ip(1))).toBe(true);
    expect(box.release(ip(1))).toBe(false);
    expect(box.isBlocked(ip(1), 2)).toBe(false);
    expect(box.isBlocked(ip(2), 2)).toBe(true);
    expect(box.block(ip(3), 2, 100)).toBe(true);
    expect(box.clear()).toBe(2);
    expect([box.size, box.isBlocked(ip(2), 3), box.isBlocked(ip(3), 3)]).toEqual([0, false, false]);
  });

  it('Engine.releaseSources: the released source\'s next packets are judged again, others stay dropped', async () => {
    const mod = await portVerdictModule();
    const stages = new Map<number, string>();
    const engine = new Engine({ rules: { defaultPolicy: 'inspect', rules: [] }, modules: [mod], batchSize: 1, onDecision: (d) => { stages.set(d.index, d.stage); } });
    // port 9005: the fixture answers BLOCK_SRC with a 30 s ttl
    engine.pushDecoded(packet({ src: '10.0.0.1', dstPort: 9005 }, 0));
    engine.pushDecoded(packet({ src: '10.0.0.2', dstPort: 9005 }, 0));
    engine.pushDecoded(packet({ src: '10.0.0.1', dstPort: 443, srcPort: 50001 }, 1));
    expect(engine.releaseSources([Uint8Array.of(10, 0, 0, 1), Uint8Array.of(10, 0, 0, 9)])).toBe(1);
    engine.pushDecoded(packet({ src: '10.0.0.1', dstPort: 443, srcPort: 50002 }, 2));
    engine.pushDecoded(packet({ src: '10.0.0.2', dstPort: 443, srcPort: 50003 }, 2));
    expect(engine.bounds().penaltySources).toBe(1);
    expect(engine.releaseSources(null)).toBe(1);
    engine.pushDecoded(packet({ src: '10.0.0.2', dstPort: 443, srcPort: 50004 }, 3));
    engine.finish();
    expect([...stages.values()]).toEqual(['module', 'module', 'penalty', 'module', 'penalty', 'module']);
  });
});

describe('IPv6 sources and their /64', () => {
  const v6 = (s: string): Uint8Array => parseIp(s);

  it('a /64 entry holds every address in it, and no other; an IPv4 source never matches one', () => {
    const box = new PenaltyBox();
    expect(box.block(net6Of(v6('2001:db8:1:2::9'))!, 0, 10)).toBe(true);
    expect(box.isBlocked(v6('2001:db8:1:2::9'), 5)).toBe(true);
    expect(box.isBlocked(v6('2001:db8:1:2:ffff:1:2:3'), 5)).toBe(true);
    expect(box.isBlocked(v6('2001:db8:1:3::9'), 5)).toBe(false);
    expect(box.isBlocked(Uint8Array.of(0, 0, 0, 0), 5)).toBe(false);
    expect(box.isBlocked(v6('::ffff:0.0.0.1'), 5)).toBe(false);
    expect(box.isBlocked(v6('2001:db8:1:2::9'), 11)).toBe(false);
  });

  it('an expired entry of the address does not hide a live one of its /64', () => {
    const box = new PenaltyBox();
    box.block(v6('2001:db8::7'), 0, 1);
    box.block(net6Of(v6('2001:db8::7'))!, 0, 100);
    expect(box.isBlocked(v6('2001:db8::7'), 50)).toBe(true);
  });

  it.each([[64, true], [128, false]] as const)('BLOCK_SRC with block_ipv6_prefix %i: another address of the /64 blocked: %s', async (prefix, otherBlocked) => {
    const decisions: PacketDecision[] = [];
    const engine = new Engine({
      rules: { defaultPolicy: 'inspect', rules: [] }, modules: [await portVerdictModule()], batchSize: 1, blockIpv6Prefix: prefix,
      onDecision: (d) => decisions.push(d),
    });
    engine.pushDecoded(packet({ src: '2001:db8:5::a', dst: '2001:db8:9::1', dstPort: 9005 }, 0)); // BLOCK_SRC
    engine.pushDecoded(packet({ src: '2001:db8:5::a', dst: '2001:db8:9::1', srcPort: 40001, dstPort: 9000 }, 1));
    engine.pushDecoded(packet({ src: '2001:db8:5::b', dst: '2001:db8:9::1', srcPort: 40002, dstPort: 9000 }, 2));
    engine.pushDecoded(packet({ src: '2001:db8:6::a', dst: '2001:db8:9::1', srcPort: 40003, dstPort: 9000 }, 3));
    engine.finish();
    decisions.sort((a, b) => a.index - b.index);
    expect(decisions.map((d) => d.stage)).toEqual(['module', 'penalty', otherBlocked ? 'penalty' : 'module', 'module']);
  });
});

describe('penalty box entries as typed and shown', () => {
  it('takes addresses and IPv6 /64s, names them as block list does, and refuses the rest saying what to do', () => {
    expect(penaltyEntryName(parsePenaltyEntry('192.0.2.7'))).toBe('192.0.2.7');
    expect(penaltyEntryName(parsePenaltyEntry('::ffff:192.0.2.7'))).toBe('192.0.2.7');
    expect(penaltyEntryName(parsePenaltyEntry('2001:DB8::7'))).toBe('2001:db8::7');
    expect(penaltyEntryName(parsePenaltyEntry('2001:db8:1:2::/64'))).toBe('2001:db8:1:2::/64');
    expect(penaltyEntryName(parsePenaltyEntry('192.0.2.7/32'))).toBe('192.0.2.7');
    expect(penaltyEntryName(parsePenaltyEntry('2001:db8::7/128'))).toBe('2001:db8::7');
    // The network of an address given with /64, as a CIDR names it.
    expect(penaltyEntryName(parsePenaltyEntry('2001:db8:1:2:3:4:5:6/64'))).toBe('2001:db8:1:2::/64');
    const refused: [string, RegExp, RegExp][] = [
      ['192.0.2.0/24', /single addresses and IPv6 \/64s, not other networks/, /rule add --src 192\.0\.2\.0\/24 --action drop/],
      ['2001:db8::/48', /not other networks/, /rule add --src 2001:db8::\/48/],
      ['2001:db8:1:2::', /subnet-router anycast address of its \/64/, /give 2001:db8:1:2::\/64/],
      ['not-an-ip', /"not-an-ip" is not an IPv4 or IPv6 address/, /2001:db8:1:2::\/64/],
    ];
    for (const [text, message, hint] of refused) {
      let err: SecuxflowError | null = null;
      try {
        parsePenaltyEntry(text);
      } catch (e) {
        err = e as SecuxflowError;
      }
      expect(err, text).toMatchObject({ code: 'E_USAGE' });
      expect(err!.message).toMatch(message);
      expect(err!.hint).toMatch(hint);
    }
    expect(isNet6Key(parseIp('::'))).toBe(true);
    expect(isNet6Key(Uint8Array.of(0, 0, 0, 0))).toBe(false);
  });
});
