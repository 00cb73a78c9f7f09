// Stream buffers are recycled between flows (StreamBufferPool): an ended
// flow's buffer must not be handed to a new flow while an item of the
// pending batch still points into it.
import { describe, expect, it } from 'vitest';
import { Engine } from '../../../host/engine/engine.js';
import type { PacketDecision } from '../../../host/engine/types.js';
import { InspectorInstance } from '../../../host/wasm/instance.js';
import { TcpFlag } from '../../../host/packet/types.js';
import { compileFixture } from '../wasm/helpers.js';
import { packet } from './support.js';

describe('engine stream buffers', () => {
  it('a flow evicted mid-batch keeps its stream bytes for its pending packets, and a later flow reusing the buffer sees only its own', async () => {
    const probe = await InspectorInstance.create(await compileFixture('probe'), { clock: 'packet', logger: () => {} });
    const decisions: PacketDecision[] = [];
    const engine = new Engine({
      rules: { defaultPolicy: 'inspect', rules: [] },
      modules: [{ name: 'probe', instance: probe, policy: 'fail-open' }],
      // One flow at a time: every new flow evicts the one before it.
      flowTable: { maxFlows: 1 },
      batchSize: 64,
      onDecision: (d) => decisions.push(d),
    });
    const texts = ['Saaaaaaaaaaaaaaaa', 'Sbbbbbbbb', 'Scccccccccccc', 'Sdd'];
    for (let round = 0; round < 2; round++) {
      texts.forEach((text, i) => engine.pushDecoded(packet({
        srcPort: 41000 + round * 10 + i, tcpFlags: TcpFlag.ACK | TcpFlag.PSH, seq: 7, ack: 1, payload: text,
      }, round * 2 + i * 0.01)));
      // The first round stays pending in one batch; the second runs after a flush, on recycled buffers.
      engine.flush();
    }
    engine.finish();
    const seen = decisions.map((d) => d.modules[0]!.alerts.map((a) => a.message));
    expect(seen).toEqual([...texts, ...texts].map((t) => [t]));
    expect(engine.counters.flows).toBe(8);
  });
});
