// The engine's rule matcher on the TypeScript decoder and the real XDP
// program under BPF_PROG_TEST_RUN must agree on the action and the matched
// rule for every packet: >= 10,000 random frames over >= 50 random rule sets.
// SECUXFLOW_DIFF_SEED replays a run.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { KernelTestBench, MIN_TEST_FRAME } from '../../host/kernel/testrun.js';
import { decodePacket } from '../../host/packet/decode.js';
import { LinkType } from '../../host/packet/types.js';
import { RuleMatcher } from '../../host/rules/match.js';
import { validateRuleSet } from '../../host/rules/parse.js';
import { requireKernel } from './support/kernel.js';
import { randomFrame, randomRuleSet, seededRng } from './support/random-traffic.js';

const k = requireKernel();
const SEED = Number(process.env.SECUXFLOW_DIFF_SEED ?? 0x5ec0f10e);
const RULE_SETS = 200;
const PACKETS_PER_SET = 500;
const INDEX_ONLY_SETS = 60;

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe.skipIf(k.skip)('differential: TypeScript engine vs XDP program', () => {
  let bench: KernelTestBench;
  beforeAll(() => {
    // SECUXFLOW_XDP_OBJECT runs the comparison against another build (mutation checks).
    const objectPath = process.env.SECUXFLOW_XDP_OBJECT;
    bench = new KernelTestBench(objectPath ? { objectPath } : {});
    bench.setPuntFallback('open');
  });
  afterAll(() => bench?.close());

  /** Compares sets × packets random frames; returns how many each stage decided. */
  function compare(sets: number, packets: number, indexOnly: boolean, budgetMs: number): Map<string, number> {
    const rng = seededRng(SEED + (indexOnly ? 1 : 0));
    const deadline = Date.now() + budgetMs;
    let compared = 0;
    let shortFrames = 0;
    const stages = new Map<string, number>();
    for (let s = 0; s < sets; s++) {
      const raw = randomRuleSet(rng, indexOnly);
      const set = validateRuleSet(raw, `random set #${s}`);
      const matcher = new RuleMatcher(set);
      bench.setRules(set);
      for (let p = 0; p < packets; p++) {
        expect(Date.now(), 'differential run exceeded its time budget').toBeLessThan(deadline);
        const frame = randomFrame(rng);
        const decoded = decodePacket(frame, LinkType.ETHERNET);
        const want = matcher.match(decoded);
        if (frame.length < MIN_TEST_FRAME) {
          // The kernel never sees such frames under test runs; the engine must treat them as non-IP.
          expect(want).toEqual({ rule: null, action: 'pass' });
          shortFrames++;
          continue;
        }
        const got = bench.run(frame);
        const wantId = want.rule?.id ?? null;
        const wantXdp = want.action === 'drop' ? 'drop' : 'pass';
        if (got.action !== want.action || got.ruleId !== wantId || got.xdpAction !== wantXdp || (decoded.ipVersion === 0) !== (got.stage === 'non-ip')) {
          const report = {
            seed: SEED, indexOnly, ruleSet: s, packet: p, frameHex: hex(frame),
            engine: { action: want.action, ruleId: wantId, ipVersion: decoded.ipVersion, proto: decoded.proto, l4Offset: decoded.l4Offset,
              srcPort: decoded.srcPort, dstPort: decoded.dstPort, vlans: decoded.vlans, malformed: decoded.malformed },
            kernel: got,
            rules: raw,
          };
          expect.fail(`first disagreement:\n${JSON.stringify(report, null, 2)}`);
        }
        stages.set(got.stage, (stages.get(got.stage) ?? 0) + 1);
        compared++;
      }
    }
    expect(compared + shortFrames).toBe(sets * packets);
    process.stdout.write(`differential${indexOnly ? ' (index-only sets)' : ''}: ${compared} compared, ${shortFrames} short frames, stages ${JSON.stringify(Object.fromEntries(stages))}\n`);
    return stages;
  }

  it(`agrees on ${RULE_SETS * PACKETS_PER_SET} random packets over ${RULE_SETS} rule sets (seed ${SEED})`, () => {
    const stages = compare(RULE_SETS, PACKETS_PER_SET, false, 110_000);
    // The generator must reach every rule stage, or the comparison proves little.
    for (const stage of ['non-ip', 'lpm', 'port', 'scan', 'default']) expect(stages.get(stage) ?? 0, `packets decided at stage ${stage}`).toBeGreaterThan(100);
  }, 130_000);

  // Rule sets without scanned rules send untagged plain IPv4 frames down the
  // program's fast path, which must make the general path's decisions on
  // the same malformed, fragmented and truncated frames.
  it(`agrees on ${INDEX_ONLY_SETS * PACKETS_PER_SET} random packets over ${INDEX_ONLY_SETS} index-only rule sets`, () => {
    const stages = compare(INDEX_ONLY_SETS, PACKETS_PER_SET, true, 50_000);
    expect(stages.get('scan') ?? 0).toBe(0);
    for (const stage of ['lpm', 'port', 'default']) expect(stages.get(stage) ?? 0, `packets decided at stage ${stage}`).toBeGreaterThan(100);
  }, 60_000);
});
