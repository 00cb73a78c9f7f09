// matchTuple decides a flow's 5-tuple (as the kernel's flow keys hold it)
// exactly as match() decides a packet that carries it. A rule change relies
// on it to find the allowed flows the new rules drop (host/kernel/flow-revoke.ts).
import { describe, expect, it } from 'vitest';
import { decodePacket } from '../../../host/packet/decode.js';
import { LinkType } from '../../../host/packet/types.js';
import { RuleMatcher } from '../../../host/rules/match.js';
import { validateRuleSet } from '../../../host/rules/parse.js';
import { randomFrame, randomRuleSet, seededRng } from '../../kernel/support/random-traffic.js';

describe('RuleMatcher.matchTuple', () => {
  it('gives the rule and action match() gives a packet with that tuple, over random rule sets and frames', () => {
    const rng = seededRng(0x7e11);
    let compared = 0;
    let tagged = 0;
    for (let s = 0; s < 60; s++) {
      const matcher = new RuleMatcher(validateRuleSet(randomRuleSet(rng), `random set #${s}`));
      for (let p = 0; p < 300; p++) {
        const pkt = decodePacket(randomFrame(rng), LinkType.ETHERNET);
        // Flow keys exist for IP packets; TCP/UDP ones always with ports (port-less ones are never written),
        // and never for invalid ones (dropped before the flow stage).
        if (pkt.ipVersion === 0 || pkt.invalid !== null || ((pkt.proto === 6 || pkt.proto === 17) && pkt.l4Offset < 0)) continue;
        const want = matcher.match(pkt);
        const got = matcher.matchTuple(pkt.src, pkt.dst, pkt.proto, pkt.srcPort, pkt.dstPort, pkt.vlans.length > 0 ? pkt.vlans[0]! : null);
        expect([got.rule?.id ?? null, got.action], `set ${s} packet ${p}`).toEqual([want.rule?.id ?? null, want.action]);
        compared++;
        if (pkt.vlans.length > 0) tagged++;
      }
    }
    expect(compared).toBeGreaterThan(5000);
    expect(tagged).toBeGreaterThan(500);
  });

  it('is pass with no rule for addresses of different families or lengths', () => {
    const matcher = new RuleMatcher({ defaultPolicy: 'drop', rules: [] });
    expect(matcher.matchTuple(new Uint8Array(4), new Uint8Array(16), 6, 1, 2, null)).toMatchObject({ rule: null, action: 'pass' });
    expect(matcher.matchTuple(new Uint8Array(4), new Uint8Array(4), 6, 1, 2, null)).toMatchObject({ rule: null, action: 'drop' });
  });
});
