import { describe, expect, it } from 'vitest';
import { Engine } from '../../../host/engine/engine.js';
import type { PacketDecision } from '../../../host/engine/types.js';
import type { RuleSet } from '../../../host/rules/types.js';
import { validateRuleSet } from '../../../host/rules/parse.js';
import { Verdict, VERDICT_NAMES } from '../../../host/verdict.js';
import { decodePacket } from '../../../host/packet/decode.js';
import { LinkType } from '../../../host/packet/types.js';
import { T0, packet, portVerdictModule } from './support.js';

const INSPECT_ALL: RuleSet = { defaultPolicy: 'inspect', rules: [] };


async function run(rules: RuleSet, pkts: ReturnType<typeof packet>[], policy: 'fail-open' | 'fail-closed' = 'fail-closed') {
  const mod = await portVerdictModule('port_verdict', policy);
  const decisions: PacketDecision[] = [];
  // batchSize 1 makes every packet see the decisions of the ones before it,
  // as a live run with a small batch would.
  const engine = new Engine({ rules, modules: [mod], batchSize: 1, onDecision: (d) => decisions.push(d) });
  for (const p of pkts) engine.pushDecoded(p);
  const counters = engine.finish();
  decisions.sort((a, b) => a.index - b.index);
  return { decisions, counters };
}

describe('engine verdicts, one module', () => {
  it('CONTINUE and PASS deliver the packet and keep the flow in user space', async () => {
    const { decisions } = await run(INSPECT_ALL, [packet({ dstPort: 9000 }, 0), packet({ dstPort: 9001 }, 1), packet({ dstPort: 9001 }, 2)]);
    expect(decisions.map((d) => [d.stage, d.verdict, d.dropped])).toEqual([
      ['module', Verdict.CONTINUE, false],
      ['module', Verdict.PASS, false],
      ['module', Verdict.PASS, false],
    ]);
  });

  it('an alert a module ties to no packet (pkt_index -1) during on_batch is kept, with the batch\'s first packet, and the run goes on', async () => {
    const mod = await portVerdictModule();
    const decisions: PacketDecision[] = [];
    const engine = new Engine({ rules: INSPECT_ALL, modules: [mod], batchSize: 8, onDecision: (d) => decisions.push(d) });
    engine.pushDecoded(packet({ dstPort: 9000, srcPort: 40100 }, 0));
    engine.pushDecoded(packet({ dstPort: 9200, srcPort: 40101 }, 1));
    engine.pushDecoded(packet({ dstPort: 9001, srcPort: 40102 }, 2));
    engine.finish();
    decisions.sort((a, b) => a.index - b.index);
    expect(decisions.map((d) => d.verdict)).toEqual([Verdict.CONTINUE, Verdict.CONTINUE, Verdict.PASS]);
    expect(decisions.map((d) => d.modules.flatMap((r) => r.alerts.map((a) => a.sigId)))).toEqual([[4299], [], []]);
  });

  it('ALLOW_FLOW moves the rest of the flow to the fast path', async () => {
    const { decisions } = await run(INSPECT_ALL, [packet({ dstPort: 9002 }, 0), packet({ dstPort: 9002 }, 1)]);
    expect(decisions[0]).toMatchObject({ stage: 'module', verdict: Verdict.ALLOW_FLOW, dropped: false });
    expect(decisions[1]).toMatchObject({ stage: 'flow', verdict: Verdict.ALLOW_FLOW, dropped: false });
    expect(decisions[1]!.modules).toHaveLength(0);
  });

  it('DROP drops only that packet: the flow is still inspected', async () => {
    const { decisions } = await run(INSPECT_ALL, [packet({ dstPort: 9003 }, 0), packet({ dstPort: 9003 }, 1)]);
    expect(decisions.map((d) => [d.stage, d.dropped])).toEqual([['module', true], ['module', true]]);
    expect(decisions[0]!.modules[0]!.alerts[0]!.sigId).toBe(4203);
  });

  it('BLOCK_FLOW drops the rest of the flow without inspection, other flows unaffected', async () => {
    const { decisions } = await run(INSPECT_ALL, [
      packet({ dstPort: 9004 }, 0),
      packet({ dstPort: 9004 }, 1),
      packet({ dstPort: 9000, srcPort: 40001 }, 2),
    ]);
    expect(decisions[0]).toMatchObject({ stage: 'module', verdict: Verdict.BLOCK_FLOW, dropped: true });
    expect(decisions[1]).toMatchObject({ stage: 'flow', verdict: Verdict.BLOCK_FLOW, dropped: true });
    expect(decisions[2]).toMatchObject({ stage: 'module', dropped: false });
  });

  // In one batch the module has already seen the later packets when the
  // first one blocks the flow; the kernel would have dropped them unseen, so
  // what the module said of them must not depend on where a batch ended.
  it('BLOCK_FLOW mid-batch: the flow\'s later packets in that batch are dropped with no module alerts reported', async () => {
    const mod = await portVerdictModule();
    const decisions: PacketDecision[] = [];
    const engine = new Engine({ rules: INSPECT_ALL, modules: [mod], batchSize: 8, onDecision: (d) => decisions.push(d) });
    engine.pushDecoded(packet({ dstPort: 9004 }, 0));
    engine.pushDecoded(packet({ dstPort: 9004 }, 1));
    const counters = engine.finish();
    decisions.sort((a, b) => a.index - b.index);
    expect(decisions[0]).toMatchObject({ stage: 'module', verdict: Verdict.BLOCK_FLOW, dropped: true });
    expect(decisions[0]!.modules.flatMap((r) => r.alerts)).not.toEqual([]);
    expect(decisions[1]).toMatchObject({ stage: 'flow', verdict: Verdict.BLOCK_FLOW, dropped: true });
    expect(decisions[1]!.modules.flatMap((r) => [...r.alerts, ...r.events])).toEqual([]);
    expect(counters.alerts).toBe(decisions[0]!.modules.flatMap((r) => r.alerts).length);
  });

  it('BLOCK_SRC puts the source in the penalty box for the module ttl, then lets it back', async () => {
    const { decisions } = await run(INSPECT_ALL, [
      packet({ dstPort: 9005 }, 0),
      packet({ dstPort: 443, srcPort: 50000 }, 10), // another flow, same source, inside the 30 s ttl
      packet({ dstPort: 443, srcPort: 50000, src: '198.18.0.2' }, 11), // another source
      packet({ dstPort: 443, srcPort: 50001 }, 31), // after the ttl
    ]);
    expect(decisions[0]).toMatchObject({ verdict: Verdict.BLOCK_SRC, dropped: true });
    expect(decisions[0]!.modules[0]!.ttl).toBe(30);
    expect(decisions[1]).toMatchObject({ stage: 'penalty', dropped: true });
    expect(decisions[2]).toMatchObject({ stage: 'module', dropped: false });
    expect(decisions[3]).toMatchObject({ stage: 'module', dropped: false });
  });

  it('a module trap applies its failure policy and is counted', async () => {
    const closed = await run(INSPECT_ALL, [packet({ dstPort: 9100 }, 0), packet({ dstPort: 9001, srcPort: 40002 }, 1)]);
    expect(closed.decisions[0]).toMatchObject({ dropped: true });
    expect(closed.decisions[0]!.modules[0]!.failure).toMatch(/port_verdict/);
    expect(closed.counters.moduleFailures).toBe(1);
    // the instance keeps working after a trap
    expect(closed.decisions[1]).toMatchObject({ verdict: Verdict.PASS, dropped: false });

    const open = await run(INSPECT_ALL, [packet({ dstPort: 9100 }, 0)], 'fail-open');
    expect(open.decisions[0]).toMatchObject({ dropped: false, verdict: Verdict.PASS });
  });
});

describe('engine stages before modules', () => {
  it('a drop rule drops without running modules; a pass rule passes', async () => {
    const rules = validateRuleSet({
      default_policy: 'inspect',
      rules: [
        { id: 1, priority: 10, dst_port: 22, proto: 'tcp', action: 'drop' },
        { id: 2, priority: 20, dst: '198.18.1.0/24', dst_port: '8000-8999', action: 'pass' },
      ],
    }, 'test');
    const { decisions, counters } = await run(rules, [
      packet({ dstPort: 22 }, 0),
      packet({ dstPort: 8080 }, 1),
      packet({ dstPort: 9003 }, 2),
    ]);
    expect(decisions[0]).toMatchObject({ stage: 'rule', dropped: true });
    expect(decisions[0]!.rule!.id).toBe(1);
    expect(decisions[0]!.modules).toHaveLength(0);
    expect(decisions[1]).toMatchObject({ stage: 'rule', dropped: false });
    expect(decisions[1]!.rule!.id).toBe(2);
    expect(decisions[2]).toMatchObject({ stage: 'module', dropped: true });
    expect(counters.byStage.rule).toBe(2);
    expect(counters.drop).toBe(2);
    expect(counters.pass).toBe(1);
  });

  it('the default policy applies when no rule matches', async () => {
    const { decisions } = await run({ defaultPolicy: 'drop', rules: [] }, [packet({ dstPort: 9001 }, 0)]);
    expect(decisions[0]).toMatchObject({ stage: 'default', dropped: true, ruleAction: 'drop' });
  });

  it('reply packets of a flow are matched in their own direction', async () => {
    const rules = validateRuleSet({ default_policy: 'pass', rules: [{ id: 7, src: '198.18.1.1', action: 'drop' }] }, 'test');
    const { decisions } = await run(rules, [
      packet({ dstPort: 9001 }, 0),
      packet({ src: '198.18.1.1', dst: '198.18.0.1', srcPort: 9001, dstPort: 40000 }, 1),
    ]);
    expect(decisions[0]).toMatchObject({ stage: 'default', dropped: false });
    expect(decisions[1]).toMatchObject({ stage: 'rule', dropped: true, direction: 1 });
  });

  it('a rule naming a module that is not loaded is refused up front', async () => {
    const mod = await portVerdictModule();
    const rules = validateRuleSet({ rules: [{ id: 1, action: 'inspect', modules: ['http_waf'] }] }, 'test');
    expect(() => new Engine({ rules, modules: [mod] })).toThrow(/http_waf.*not loaded/);
  });
});

describe('engine counters', () => {
  it('byStage and byVerdict count every decided frame under its own stage and verdict', async () => {
    const rules = validateRuleSet({
      default_policy: 'inspect',
      rules: [{ id: 1, priority: 10, dst_port: 22, proto: 'tcp', action: 'drop' }],
    }, 'test');
    const arp = decodePacket(new Uint8Array(42).fill(6, 12, 14), LinkType.ETHERNET, T0 + 1, 0);
    const pkts = [
      packet({ dstPort: 22 }, 0),
      ...[0, 1, 2, 3, 4, 5].map((v) => packet({ src: `198.18.0.${10 + v}`, dstPort: 9000 + v }, 1 + v / 10)),
      // Later packets of the ALLOW_FLOW and BLOCK_FLOW flows (flow stage), then the BLOCK_SRC source (penalty).
      packet({ src: '198.18.0.12', dstPort: 9002 }, 2),
      packet({ src: '198.18.0.14', dstPort: 9004 }, 2.1),
      packet({ src: '198.18.0.15', srcPort: 42000, dstPort: 9001 }, 2.2),
      arp,
    ];
    const { decisions, counters } = await run(rules, pkts);
    const byStage: Record<string, number> = {};
    const byVerdict: Record<string, number> = {};
    for (const d of decisions) {
      byStage[d.stage] = (byStage[d.stage] ?? 0) + d.sources.length;
      byVerdict[VERDICT_NAMES[d.verdict]!] = (byVerdict[VERDICT_NAMES[d.verdict]!] ?? 0) + d.sources.length;
    }
    expect(Object.keys(byStage).sort()).toEqual(['flow', 'module', 'non-ip', 'penalty', 'rule']);
    expect(Object.keys(byVerdict).sort()).toEqual([...VERDICT_NAMES].sort());
    expect(Object.fromEntries(Object.entries(counters.byStage).filter(([, n]) => n > 0))).toEqual(byStage);
    expect(Object.fromEntries(Object.entries(counters.byVerdict).filter(([, n]) => n > 0))).toEqual(byVerdict);
    expect(Object.values(counters.byStage).reduce((a, b) => a + b, 0)).toBe(pkts.length);
  });
});
