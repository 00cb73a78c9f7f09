// `secuxflow flow delete` beside a running daemon: the kernel entries go,
// and each engine ends the flows the same selector picks, so their next
// packets are judged afresh. Without it the engine repeats the old verdict
// (stage 'flow'), and basic_inspect, which keeps a block for a flow's life,
// would block a benign packet of the flow too.
import { describe, expect, it } from 'vitest';
import { Engine } from '../../../host/engine/engine.js';
import type { FlowRecord, PacketDecision } from '../../../host/engine/types.js';
import { Verdict } from '../../../host/verdict.js';
import { ALL_FLOWS, flowSelectorFrom, type FlowSelector } from '../../../host/flow/selector.js';
import { instance } from '../../modules/support.js';
import { packet } from './support.js';

const CLIENT = '198.18.0.1';
const SERVER = '198.18.1.1';
const BAD = 'hello FLAG-ME';

async function engineWithBasicInspect(): Promise<{ engine: Engine; decisions: PacketDecision[]; records: FlowRecord[] }> {
  const config = { patterns: [{ sid: 1000060, content: 'FLAG-ME', action: 'block_flow', msg: 'flagged' }] };
  const mod = { name: 'basic_inspect', instance: await instance('basic_inspect', config), policy: 'fail-closed' as const };
  const decisions: PacketDecision[] = [];
  const records: FlowRecord[] = [];
  const engine = new Engine({
    rules: { defaultPolicy: 'inspect', rules: [] }, modules: [mod], batchSize: 1,
    onDecision: (d) => decisions.push(d), onFlowEnd: (r) => records.push(r),
  });
  return { engine, decisions, records };
}

const udp = (srcPort: number, payload: string, t: number) => packet({ src: CLIENT, dst: SERVER, proto: 'udp', srcPort, dstPort: 5353, payload }, t);

describe('releasing decided flows from the engine', () => {
  it('a released blocked flow is judged afresh: a benign packet passes, the flagged content is blocked again', async () => {
    const { engine, decisions, records } = await engineWithBasicInspect();
    engine.pushDecoded(udp(40000, BAD, 0));
    engine.pushDecoded(udp(40000, 'benign', 1));
    expect(decisions.map((d) => [d.stage, d.verdict])).toEqual([['module', Verdict.BLOCK_FLOW], ['flow', Verdict.BLOCK_FLOW]]);

    const ids = engine.releaseFlows({ host: CLIENT, port: null, verdict: 'block' });
    expect(ids).toEqual([decisions[0]!.flow!.id]);
    expect(records.map((r) => [r.reason, r.verdict])).toEqual([['released', 'block_flow']]);

    engine.pushDecoded(udp(40000, 'benign', 2));
    engine.pushDecoded(udp(40000, BAD, 3));
    engine.finish();
    expect(decisions.slice(2).map((d) => [d.stage, d.verdict, d.dropped])).toEqual([
      ['module', Verdict.CONTINUE, false],
      ['module', Verdict.BLOCK_FLOW, true],
    ]);
    // A new flow in the engine's table, with a new id.
    expect(decisions[2]!.flow!.id).not.toBe(decisions[0]!.flow!.id);
  });

  it('releases only what the selector picks, and never an undecided flow', async () => {
    const { engine, decisions } = await engineWithBasicInspect();
    engine.pushDecoded(udp(40001, BAD, 0)); // blocked
    engine.pushDecoded(udp(40002, BAD, 0)); // blocked
    engine.pushDecoded(udp(40003, 'benign', 0)); // undecided: still inspected
    const flowOf = (sport: number): number => decisions.find((d) => d.pkt.srcPort === sport)!.flow!.id;
    const none: FlowSelector[] = [
      { host: '198.18.9.9', port: null, verdict: null },
      { host: null, port: 1234, verdict: null },
      { host: null, port: null, verdict: 'allow' },
    ];
    for (const sel of none) expect(engine.releaseFlows(sel), JSON.stringify(sel)).toEqual([]);
    expect(engine.releaseFlows({ host: SERVER, port: 40002, verdict: null })).toEqual([flowOf(40002)]);
    expect(engine.releaseFlows(ALL_FLOWS)).toEqual([flowOf(40001)]);
    engine.finish();
  });
});

describe('the flow.release request', () => {
  it('takes host, port and verdict, each optional, and refuses anything else naming it', () => {
    expect(flowSelectorFrom({})).toEqual(ALL_FLOWS);
    expect(flowSelectorFrom({ host: '::ffff:192.0.2.7', port: 443, verdict: 'block' })).toEqual({ host: '192.0.2.7', port: 443, verdict: 'block' });
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ host: 7 }, /"host" is not a string/],
      [{ host: '192.0.2.0/24' }, /"host" "192.0.2.0\/24" is not an IP address/],
      [{ port: 65536 }, /"port" 65536 is not a port number/],
      [{ port: '80' }, /"port" "80" is not a port number/],
      [{ verdict: 'drop' }, /"verdict" "drop" is not allow or block/],
    ];
    for (const [p, message] of bad) {
      expect(() => flowSelectorFrom(p), JSON.stringify(p)).toThrow(message);
    }
  });
});
