// The engine's rule matcher on the TypeScript decoder and the real XDP
// program under BPF_PROG_TEST_RUN must agree on the action and the matched
// rule for every packet: >= 10,000 random frames over >= 50 random rule sets.
// A share of the frames is put under an MPLS label stack or in a PPPoE
// session (valid, cut short, with odd headers), and a last test checks that
// the daemon's flow key of such a packet is the one the program builds.
// SECUXFLOW_DIFF_SEED replays a run.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { KernelTestBench, MIN_TEST_FRAME } from '../../host/kernel/testrun.js';
import { decodePacket } from '../../host/packet/decode.js';
import { LinkType, type DecodedPacket } from '../../host/packet/types.js';
import { flowKeyOf } from '../../host/daemon/writeback.js';
import { RuleMatcher } from '../../host/rules/match.js';
import { validateRuleSet } from '../../host/rules/parse.js';
import { benchUnderTest, requireKernel } from './support/kernel.js';
import { randomFrame, randomRuleSet, seededRng, type Rng } from './support/random-traffic.js';

const k = requireKernel();
const SEED = Number(process.env.SECUXFLOW_DIFF_SEED ?? 0x5ec0f10e);
const RULE_SETS = 200;
const PACKETS_PER_SET = 500;
const INDEX_ONLY_SETS = 60;

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
const int = (rng: Rng, lo: number, hi: number): number => lo + Math.floor(rng() * (hi - lo + 1));

/** Where the ethertype after the VLAN tags sits, -1 when the frame ends first. */
function etherTypeAt(f: Uint8Array): number {
  let at = 12;
  for (;;) {
    if (at + 2 > f.length) return -1;
    const t = (f[at]! << 8) | f[at + 1]!;
    if (t !== 0x8100 && t !== 0x88a8 && t !== 0x9100) return at;
    at += 4;
  }
}

type Encap = 'mpls' | 'pppoe' | null;

/**
 * A random frame, in 4 of 10 cases moved under an MPLS label stack or into a
 * PPPoE session: the stack depth runs past the bound of 8, the bottom bit
 * goes missing, a control word or another nibble follows, the PPPoE header
 * and PPP protocol take odd values, and the frame may end inside the new
 * header. The random frame itself may already be cut or corrupted.
 */
function randomEncapsulatedFrame(rng: Rng): { frame: Uint8Array; encap: Encap } {
  const frame = randomFrame(rng);
  const r = rng();
  if (r >= 0.4) return { frame, encap: null };
  const at = etherTypeAt(frame);
  if (at < 0) return { frame, encap: null };
  const inner = (frame[at]! << 8) | frame[at + 1]!;
  let shim: Uint8Array;
  let type: number;
  let encap: Encap;
  if (r < 0.22) {
    encap = 'mpls';
    type = rng() < 0.8 ? 0x8847 : 0x8848;
    const labels = pick(rng, [1, 1, 1, 2, 2, 3, 5, 7, 8, 8, 9, 10]);
    const cw = rng() < 0.1; // a pseudowire control word after the stack: not IP
    shim = new Uint8Array(4 * labels + (cw ? 4 : 0));
    for (let i = 0; i < labels; i++) {
      // Reserved labels now and then: explicit nulls, router alert, GAL (13, never IP at the bottom).
      const label = rng() < 0.25 ? pick(rng, [0, 1, 2, 3, 7, 13, 13, 14]) : int(rng, 16, 0xfffff);
      const lse = (label << 12) | (int(rng, 0, 7) << 9) | int(rng, 0, 255);
      shim[4 * i] = lse >>> 24; shim[4 * i + 1] = (lse >>> 16) & 0xff; shim[4 * i + 2] = (lse >>> 8) & 0xfe; shim[4 * i + 3] = lse & 0xff;
    }
    const odd = rng();
    if (odd < 0.85) shim[4 * (labels - 1) + 2]! |= 1; // the usual bottom of stack
    else if (odd < 0.93) shim[4 * int(rng, 0, labels - 1) + 2]! |= 1; // bottom bit early: what follows is the payload
    // else: no bottom bit at all
  } else {
    encap = 'pppoe';
    type = rng() < 0.92 ? 0x8864 : 0x8863;
    shim = new Uint8Array(8);
    shim[0] = rng() < 0.9 ? 0x11 : pick(rng, [0x10, 0x21, 0x01, 0x00]);
    shim[1] = rng() < 0.9 ? 0x00 : pick(rng, [0x09, 0x07, 0xa7]);
    const session = int(rng, 0, 0xffff);
    shim[2] = session >> 8; shim[3] = session & 0xff;
    const len = rng() < 0.8 ? frame.length - at - 2 + 2 : int(rng, 0, 0xffff); // the length field is not read
    shim[4] = (len >> 8) & 0xff; shim[5] = len & 0xff;
    const ppp = rng() < 0.85 ? (inner === 0x86dd ? 0x0057 : inner === 0x0800 ? 0x0021 : 0xc021) : pick(rng, [0xc021, 0x8021, 0x8057, 0x0021, 0x0057, 0x2145]);
    shim[6] = ppp >> 8; shim[7] = ppp & 0xff;
  }
  let out = new Uint8Array(frame.length + shim.length);
  out.set(frame.subarray(0, at), 0);
  out[at] = type >> 8; out[at + 1] = type & 0xff;
  out.set(shim, at + 2);
  out.set(frame.subarray(at + 2), at + 2 + shim.length);
  if (rng() < 0.08) out = out.slice(0, int(rng, at + 2, Math.min(out.length, at + 2 + shim.length + 2))); // cut inside the new header
  return { frame: out, encap };
}

describe.skipIf(k.skip)('differential: TypeScript engine vs XDP program', () => {
  let bench: KernelTestBench;
  beforeAll(() => {
    bench = benchUnderTest();
  });
  afterAll(() => bench?.close());

  /** Compares sets × packets random frames; returns how many each stage decided. */
  function compare(sets: number, packets: number, indexOnly: boolean, budgetMs: number): Map<string, number> {
    const rng = seededRng(SEED + (indexOnly ? 1 : 0));
    const deadline = Date.now() + budgetMs;
    let compared = 0;
    let shortFrames = 0;
    const stages = new Map<string, number>();
    const encapsulated = { mpls: { ip: 0, other: 0 }, pppoe: { ip: 0, other: 0 } };
    for (let s = 0; s < sets; s++) {
      const raw = randomRuleSet(rng, indexOnly);
      const set = validateRuleSet(raw, `random set #${s}`);
      const matcher = new RuleMatcher(set);
      bench.setRules(set);
      for (let p = 0; p < packets; p++) {
        expect(Date.now(), 'differential run exceeded its time budget').toBeLessThan(deadline);
        const { frame, encap } = randomEncapsulatedFrame(rng);
        const decoded = decodePacket(frame, LinkType.ETHERNET);
        if (encap !== null) encapsulated[encap][decoded.ipVersion === 0 ? 'other' : 'ip']++;
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
        if (got.action !== want.action || got.ruleId !== wantId || got.xdpAction !== wantXdp || (decoded.ipVersion === 0) !== (got.stage === 'non-ip')
          || (decoded.invalid !== null) !== (got.stage === 'invalid')) {
          const report = {
            seed: SEED, indexOnly, ruleSet: s, packet: p, frameHex: hex(frame),
            engine: { action: want.action, ruleId: wantId, ipVersion: decoded.ipVersion, proto: decoded.proto, l4Offset: decoded.l4Offset,
              srcPort: decoded.srcPort, dstPort: decoded.dstPort, vlans: decoded.vlans, malformed: decoded.malformed, invalid: decoded.invalid },
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
    process.stdout.write(`differential${indexOnly ? ' (index-only sets)' : ''}: ${compared} compared, ${shortFrames} short frames, stages ${JSON.stringify(Object.fromEntries(stages))}, encapsulated ${JSON.stringify(encapsulated)}\n`);
    // Both kinds of encapsulation, with IP inside and without, must have been compared in numbers.
    for (const kind of ['mpls', 'pppoe'] as const) {
      expect(encapsulated[kind].ip, `${kind} frames with IP inside`).toBeGreaterThan(sets * packets / 40);
      expect(encapsulated[kind].other, `${kind} frames without IP inside`).toBeGreaterThan(sets * packets / 400);
    }
    return stages;
  }

  it(`agrees on ${RULE_SETS * PACKETS_PER_SET} random packets over ${RULE_SETS} rule sets (seed ${SEED})`, () => {
    const stages = compare(RULE_SETS, PACKETS_PER_SET, false, 110_000);
    // The generator must reach every rule stage, or the comparison proves little.
    for (const stage of ['non-ip', 'invalid', 'lpm', 'port', 'scan', 'default']) expect(stages.get(stage) ?? 0, `packets decided at stage ${stage}`).toBeGreaterThan(100);
  }, 130_000);

  // Rule sets without scanned rules send untagged plain IPv4 frames down the
  // program's fast path, which must make the general path's decisions on
  // the same malformed, fragmented and truncated frames.
  it(`agrees on ${INDEX_ONLY_SETS * PACKETS_PER_SET} random packets over ${INDEX_ONLY_SETS} index-only rule sets`, () => {
    const stages = compare(INDEX_ONLY_SETS, PACKETS_PER_SET, true, 50_000);
    expect(stages.get('scan') ?? 0).toBe(0);
    for (const stage of ['invalid', 'lpm', 'port', 'default']) expect(stages.get(stage) ?? 0, `packets decided at stage ${stage}`).toBeGreaterThan(100);
  }, 60_000);

  // The daemon writes verdicts under flowKeyOf(decoded packet); the program
  // looks them up under the key it builds from the frame. For every IP
  // frame (encapsulated or not) a verdict written under the daemon's key
  // must decide that frame in the kernel. Last in the file: it turns the
  // flow stage on, which keeps frames off the fast path.
  it('finds the verdict written under the daemon\'s flow key, MPLS and PPPoE frames included', () => {
    const rng = seededRng(SEED + 2);
    bench.setRules(validateRuleSet({ default_policy: 'pass', rules: [] }, 'empty'));
    const seen = { mpls: 0, pppoe: 0, plain: 0 };
    for (let n = 0; n < 4000; n++) {
      const { frame, encap } = randomEncapsulatedFrame(rng);
      if (frame.length < MIN_TEST_FRAME) continue;
      const decoded: DecodedPacket = decodePacket(frame, LinkType.ETHERNET);
      // Invalid packets are dropped before the flow stage: the daemon never sees them.
      if (decoded.ipVersion === 0 || decoded.invalid !== null) continue;
      const key = flowKeyOf(decoded);
      bench.addFlowVerdict(key, 'block');
      const got = bench.run(frame);
      expect(bench.removeFlowVerdict(key)).toBe(true);
      if (got.stage !== 'flow' || got.xdpAction !== 'drop') {
        expect.fail(`the kernel missed the daemon's flow key:\n${JSON.stringify({ seed: SEED, n, frameHex: hex(frame), key: { ...key, src: hex(key.src), dst: hex(key.dst) }, kernel: got }, null, 2)}`);
      }
      seen[encap ?? 'plain']++;
    }
    process.stdout.write(`differential flow keys: ${JSON.stringify(seen)}\n`);
    for (const kind of ['mpls', 'pppoe', 'plain'] as const) expect(seen[kind], `${kind} frames keyed`).toBeGreaterThan(300);
  }, 60_000);
});
