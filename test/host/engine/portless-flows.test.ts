// Packets whose TCP/UDP header cannot be parsed all share one port-less flow
// key per host pair (the XDP program's and the flow table's). A flow verdict
// or the inspection cap on that key would let through, or drop, unrelated
// packets uninspected; the engine decides them one by one.
import { describe, expect, it } from 'vitest';
import { Engine } from '../../../host/engine/engine.js';
import type { PacketDecision } from '../../../host/engine/types.js';
import type { RuleSet } from '../../../host/rules/types.js';
import { buildPacket } from '../../../host/packet/build.js';
import { decodePacket } from '../../../host/packet/decode.js';
import { LinkType, type DecodedPacket } from '../../../host/packet/types.js';
import { Verdict } from '../../../host/verdict.js';
import { T0, moduleWith, packet } from './support.js';

const INSPECT_ALL: RuleSet = { defaultPolicy: 'inspect', rules: [] };

/** Answers `verdict` for every packet. */
async function always(verdict: number) {
  const instance = await moduleWith(`always_${verdict}`, `(block $d (loop $l (br_if $d (i32.ge_u (local.get $i) (local.get $count)))
      (i32.store8 offset=61 (i32.add (local.get $meta) (i32.shl (local.get $i) (i32.const 6))) (i32.const ${verdict}))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))`);
  return { name: `always_${verdict}`, instance, policy: 'fail-closed' as const };
}

/** A TCP packet whose IP layer ends 10 bytes into the TCP header: no ports can be read. */
function cutTcp(dstPort: number, t: number): DecodedPacket {
  const frame = buildPacket({ src: '198.18.0.1', dst: '198.18.1.1', proto: 'tcp', srcPort: 40000 + t, dstPort });
  const cut = frame.slice(0, 14 + 20 + 10);
  new DataView(cut.buffer).setUint16(14 + 2, 30);
  return decodePacket(cut, LinkType.ETHERNET, T0 + t, 0);
}

async function run(verdict: number, pkts: DecodedPacket[], maxInspectPackets?: number): Promise<PacketDecision[]> {
  const decisions: PacketDecision[] = [];
  const engine = new Engine({ rules: INSPECT_ALL, modules: [await always(verdict)], batchSize: 1, maxInspectPackets, onDecision: (d) => decisions.push(d) });
  for (const p of pkts) engine.pushDecoded(p);
  engine.finish();
  return decisions.sort((a, b) => a.index - b.index);
}

describe('packets with a port-less flow key are decided one by one', () => {
  it('the cut TCP packets of two connections share one flow (the premise)', async () => {
    const a = cutTcp(80, 0), b = cutTcp(443, 1);
    expect([a.l4Offset, a.dstPort, b.l4Offset, b.dstPort]).toEqual([-1, 0, -1, 0]);
    const ds = await run(Verdict.CONTINUE, [a, b]);
    expect(ds[0]!.flow!.id).toBe(ds[1]!.flow!.id);
  });

  it('ALLOW_FLOW passes the packet but the next port-less packet is inspected again', async () => {
    const ds = await run(Verdict.ALLOW_FLOW, [cutTcp(80, 0), cutTcp(443, 1), cutTcp(22, 2)]);
    expect(ds.map((d) => [d.stage, d.dropped, d.modules.length])).toEqual([['module', false, 1], ['module', false, 1], ['module', false, 1]]);
  });

  it('BLOCK_FLOW drops the packet, not the packets after it', async () => {
    const ds = await run(Verdict.BLOCK_FLOW, [cutTcp(80, 0), cutTcp(443, 1)]);
    expect(ds.map((d) => [d.stage, d.dropped])).toEqual([['module', true], ['module', true]]);
    expect(ds[1]!.modules).toHaveLength(1);
  });

  it('the inspection cap does not hand the port-less key to its policy', async () => {
    const pkts = [0, 1, 2, 3, 4].map((t) => cutTcp(80 + t, t));
    const ds = await run(Verdict.CONTINUE, pkts, 2);
    expect(ds.map((d) => d.stage)).toEqual(['module', 'module', 'module', 'module', 'module']);
  });

  it('a flow with ports still takes flow verdicts and the cap (the rule is narrow)', async () => {
    const allowed = await run(Verdict.ALLOW_FLOW, [packet({ dstPort: 80 }, 0), packet({ dstPort: 80 }, 1)]);
    expect(allowed.map((d) => d.stage)).toEqual(['module', 'flow']);
    const capped = await run(Verdict.CONTINUE, [0, 1, 2].map((t) => packet({ dstPort: 80 }, t)), 2);
    expect(capped.map((d) => d.stage)).toEqual(['module', 'module', 'flow']);
  });
});
