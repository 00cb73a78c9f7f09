// docs/offline.md: "a capture replays its own clock: ... penalty-box entries end
// as they did on the wire". A BLOCK_SRC verdict reaches the engine when its
// batch is flushed, which on a capture may be at the next packet, long after:
// the block ran from that flush, so a source blocked for 30 s at t=0 was still
// blocked a day later when its next packet came.
import { describe, expect, it } from 'vitest';
import { Engine } from '../../../host/engine/engine.js';
import type { PacketDecision } from '../../../host/engine/types.js';
import { Verdict } from '../../../host/verdict.js';
import { packet, portVerdictModule } from './support.js';

async function run(laterAt: number): Promise<PacketDecision[]> {
  const mod = await portVerdictModule();
  const decisions: PacketDecision[] = [];
  // Batches as a capture run has them: the verdict of the first packet comes
  // when the batch is flushed, here when the second packet ends its idle flow.
  const engine = new Engine({ rules: { defaultPolicy: 'inspect', rules: [] }, modules: [mod], onDecision: (d) => decisions.push(d) });
  // port 9005: the fixture answers BLOCK_SRC with a 30 s ttl
  engine.pushDecoded(packet({ src: '198.18.0.66', dstPort: 9005 }, 0));
  engine.pushDecoded(packet({ src: '198.18.0.66', dstPort: 443, srcPort: 50000 }, laterAt));
  engine.finish();
  return decisions.sort((a, b) => a.index - b.index);
}

describe('BLOCK_SRC ttl on a capture', () => {
  it.each([100, 86_400])('runs from the blocking packet: the source is free again %i s later', async (later) => {
    const d = await run(later);
    expect(d.map((x) => [x.stage, x.verdict])).toEqual([
      ['module', Verdict.BLOCK_SRC],
      ['module', Verdict.CONTINUE],
    ]);
  });
});
