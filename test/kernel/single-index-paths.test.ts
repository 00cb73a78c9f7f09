// A rule set of one index alone (destination ports only, or one direction's
// single addresses only) takes a path of its own in the XDP program's fast
// path. Each frame here is judged by the engine (the rule matcher on the
// decoded packet) and by the program, which must agree on the action, the
// rule and the stage, and count what they decide in the rule's counter.
// The frames are the ones such a path can get wrong: a later fragment whose
// data looks like a listed port, an L4 header cut short by the IP total
// length or by the frame, the other address carrying the listed one.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { KernelTestBench } from '../../host/kernel/testrun.js';
import { SfLpmHas } from '../../host/kernel/codec.js';
import { compileRules, indexMask } from '../../host/kernel/compile.js';
import { buildPacket, fragmentIp, type PacketSpec } from '../../host/packet/build.js';
import { decodePacket } from '../../host/packet/decode.js';
import { LinkType } from '../../host/packet/types.js';
import { RuleMatcher } from '../../host/rules/match.js';
import type { RuleSet } from '../../host/rules/types.js';
import { benchUnderTest, requireKernel } from './support/kernel.js';
import { ruleSet } from './support/rules.js';

const k = requireKernel();

const pkt = (over: Partial<PacketSpec> = {}): Uint8Array =>
  buildPacket({ src: '198.18.1.10', dst: '198.18.2.20', proto: 'tcp', srcPort: 40000, dstPort: 80, ...over });

/** The IPv4 total length rewritten (checksum left alone: neither side checks it). */
function withTotal(frame: Uint8Array, total: number): Uint8Array {
  const f = frame.slice();
  f[16] = total >> 8;
  f[17] = total & 0xff;
  return f;
}

/**
 * The last fragment (offset 32, no MF: the one the fast path reads) of a
 * 64-byte segment whose bytes at the fragment's start read as ports 40000 -> `port`.
 */
function laterFragmentLookingLike(port: number, proto: 'tcp' | 'udp' = 'tcp'): Uint8Array {
  const header = proto === 'tcp' ? 20 : 8;
  const payload = new Uint8Array(64 - header);
  const at = 32 - header;
  payload.set([0x9c, 0x40, port >> 8, port & 0xff], at);
  const frags = fragmentIp(pkt({ proto, dstPort: 9, payload }), 32);
  expect(frags).toHaveLength(2);
  return frags[1]!;
}

describe.skipIf(k.skip)('XDP fast path: rule sets of one index alone', () => {
  let bench: KernelTestBench;
  beforeAll(() => {
    bench = benchUnderTest();
  });
  afterAll(() => bench?.close());

  /** Every frame: the program agrees with the engine; the rules count exactly the frames they decided. */
  function agree(set: RuleSet, mask: number, frames: Array<[string, Uint8Array, number | null, string]>): void {
    expect(indexMask(compileRules(set, { portIndex: true }))).toBe(mask);
    bench.setRules(set);
    const matcher = new RuleMatcher(set);
    const counted = new Map<number, { packets: number; bytes: number }>();
    for (const [what, frame, wantRule, wantStage] of frames) {
      const want = matcher.match(decodePacket(frame, LinkType.ETHERNET));
      const got = bench.run(frame);
      expect({ what, ruleId: want.rule?.id ?? null, action: want.action }).toEqual({ what, ruleId: wantRule, action: got.action });
      expect({ what, ruleId: got.ruleId, stage: got.stage }).toEqual({ what, ruleId: wantRule, stage: wantStage });
      if (got.ruleId !== null) {
        const c = counted.get(got.ruleId) ?? { packets: 0, bytes: 0 };
        counted.set(got.ruleId, { packets: c.packets + 1, bytes: c.bytes + frame.length });
      }
    }
    expect(new Map([...bench.ruleHits()].sort(([a], [b]) => a - b))).toEqual(new Map([...counted].sort(([a], [b]) => a - b)));
  }

  it('destination ports only: TCP, UDP and either, and every frame that carries no such port', () => {
    const set = ruleSet([
      { id: 1, proto: 'tcp', dst_port: 80, action: 'drop' },
      { id: 2, proto: 'udp', dst_port: 53, action: 'pass' },
      { id: 3, dst_port: 8080, action: 'drop' },
      { id: 4, priority: 5, proto: 'tcp', dst_port: 443, action: 'inspect' },
    ], 'inspect');
    const big = pkt({ payload: new Uint8Array(64) });
    agree(set, SfLpmHas.PORTS_DST, [
      ['tcp 80', pkt(), 1, 'port'],
      ['tcp 80 again', pkt({ srcPort: 1 }), 1, 'port'],
      ['udp 53', pkt({ proto: 'udp', dstPort: 53 }), 2, 'port'],
      ['tcp 8080', pkt({ dstPort: 8080 }), 3, 'port'],
      ['udp 8080', pkt({ proto: 'udp', dstPort: 8080 }), 3, 'port'],
      ['tcp 443', pkt({ dstPort: 443 }), 4, 'port'],
      ['tcp 81', pkt({ dstPort: 81 }), null, 'default'],
      ['udp 80', pkt({ proto: 'udp', dstPort: 80 }), null, 'default'],
      ['tcp from port 80', pkt({ srcPort: 80, dstPort: 9 }), null, 'default'],
      ['icmp', pkt({ proto: 'icmp' }), null, 'default'],
      ['proto 47 with port-like bytes', pkt({ proto: 47, payload: Uint8Array.from([0, 80, 0, 80, 0, 0, 0, 0]) }), null, 'default'],
      ['later tcp fragment reading as port 80', laterFragmentLookingLike(80), null, 'default'],
      ['later udp fragment reading as port 53', laterFragmentLookingLike(53, 'udp'), null, 'default'],
      ['first fragment to port 80', fragmentIp(big, 32)[0]!, 1, 'port'],
      ['tcp 80, total length short of the TCP header', withTotal(pkt({ payload: new Uint8Array(8) }), 20 + 12), null, 'default'],
      ['udp 53, total length short of the UDP header', withTotal(pkt({ proto: 'udp', dstPort: 53, payload: new Uint8Array(8) }), 20 + 6), null, 'default'],
      ['tcp 80, frame cut inside the TCP header', pkt().subarray(0, 14 + 20 + 12), null, 'default'],
      ['tcp 80 with IP options', pkt({ ipv4Options: new Uint8Array(8).fill(1) }), 1, 'port'],
      ['tcp 80 in a VLAN', pkt({ vlans: [7] }), 1, 'port'],
    ]);
  });

  it('destination addresses only: the source address never decides', () => {
    const set = ruleSet([
      { id: 7, dst: '198.18.2.20', action: 'drop' },
      { id: 8, dst: '198.18.2.21/32', action: 'pass' },
    ], 'inspect');
    agree(set, SfLpmHas.EXACT_DST_V4, [
      ['to .20', pkt(), 7, 'lpm'],
      ['to .21', pkt({ dst: '198.18.2.21', proto: 'udp' }), 8, 'lpm'],
      ['from .20', pkt({ src: '198.18.2.20', dst: '198.18.2.22' }), null, 'default'],
      ['to .22', pkt({ dst: '198.18.2.22' }), null, 'default'],
      ['later fragment to .20', laterFragmentLookingLike(80), 7, 'lpm'],
      ['to .20, in a VLAN', pkt({ vlans: [7] }), 7, 'lpm'],
    ]);
  });

  it('source addresses only: the destination address never decides', () => {
    const set = ruleSet([{ id: 9, src: '198.18.1.10', action: 'drop' }], 'inspect');
    agree(set, SfLpmHas.EXACT_SRC_V4, [
      ['from .10', pkt(), 9, 'lpm'],
      ['to .10', pkt({ src: '198.18.1.11', dst: '198.18.1.10' }), null, 'default'],
      ['from .11', pkt({ src: '198.18.1.11' }), null, 'default'],
      ['from .10, icmp', pkt({ proto: 'icmp' }), 9, 'lpm'],
    ]);
  });
});
