// An attacker who wants the inspector's memory rather than its attention: two
// tiny segments per flow, the second just inside the stream depth, made each
// direction's buffer grow to the whole depth (64 KiB for ~120 bytes on the
// wire). Stream buffers of all flows share one memory cap; a segment that
// would need memory past it is dropped (fail closed), as the host then never
// received it and its sender sends it again.
import { describe, expect, it } from 'vitest';
import { Engine } from '../../../host/engine/engine.js';
import type { PacketDecision } from '../../../host/engine/types.js';
import { TcpFlag } from '../../../host/packet/types.js';
import { packet, portVerdictModule } from './support.js';

const DEPTH = 64 * 1024;
const MEMCAP = 4 * 1024 * 1024;

async function engineUnderCap(decisions: PacketDecision[], flowTable?: ConstructorParameters<typeof Engine>[0]['flowTable']): Promise<Engine> {
  return new Engine({
    rules: { defaultPolicy: 'inspect', rules: [] },
    modules: [await portVerdictModule()],
    streamDepth: DEPTH,
    streamMemcap: MEMCAP,
    ...(flowTable ? { flowTable } : {}),
    onDecision: (d) => decisions.push(d),
  });
}

function attack(engine: Engine, flows: number, t: number): void {
  for (let i = 0; i < flows; i++) {
    const src = `198.18.${(i >> 8) & 255}.${i & 255}`;
    const base = { src, srcPort: 40000 + (i % 20000), dstPort: 9000, tcpFlags: TcpFlag.ACK | TcpFlag.PSH, ack: 1 };
    engine.pushDecoded(packet({ ...base, seq: 1000, payload: 'a' }, t));
    engine.pushDecoded(packet({ ...base, seq: 1000 + DEPTH - 10, payload: 'b' }, t));
  }
  engine.flush();
}

describe('stream memory cap', () => {
  it('out-of-order segments near the depth on many flows stay within the cap; what does not fit is dropped and counted', async () => {
    const decisions: PacketDecision[] = [];
    const engine = await engineUnderCap(decisions);
    const before = process.memoryUsage().arrayBuffers;
    // 512 flows: 32 MiB of buffers without a cap.
    attack(engine, 512, 0);
    const grown = process.memoryUsage().arrayBuffers - before;
    expect(engine.streamMemory).toBeLessThanOrEqual(MEMCAP);
    expect(grown).toBeLessThan(3 * MEMCAP);
    const refused = decisions.filter((d) => d.stage === 'memcap');
    expect(refused.length).toBeGreaterThan(400);
    expect(refused.every((d) => d.dropped && d.pkt.payloadLength === 1)).toBe(true);
    expect(engine.counters.reassembly.streamMemcapDrops).toBe(refused.length);
    expect(engine.counters.byStage.memcap).toBe(refused.length);
    // Nothing refused reached a module: the first segment of every flow did.
    expect(decisions.filter((d) => d.stage === 'module')).toHaveLength(512 + 512 - refused.length);
  });

  it('a RST at the end of a segment the cap refused does not end the flow: the receiver never had those bytes', async () => {
    const decisions: PacketDecision[] = [];
    const engine = await engineUnderCap(decisions);
    attack(engine, 512, 0);
    const base = { src: '198.18.250.1', srcPort: 45000, dstPort: 9000, ack: 1 };
    engine.pushDecoded(packet({ ...base, tcpFlags: TcpFlag.ACK | TcpFlag.PSH, seq: 5000, payload: 'refused' }, 1));
    engine.pushDecoded(packet({ ...base, tcpFlags: TcpFlag.RST, seq: 5000 + 'refused'.length }, 1));
    engine.pushDecoded(packet({ ...base, tcpFlags: TcpFlag.ACK, seq: 5000 }, 1));
    const counters = engine.finish();
    const mine = decisions.filter((d) => d.pkt.srcPort === 45000);
    expect(mine[0]!.stage).toBe('memcap');
    expect(counters.reassembly.rstIgnored).toBe(1);
    expect(new Set(mine.map((d) => d.flow!.id)).size).toBe(1);
  });

  it('memory comes back when the flows end, and new flows get it', async () => {
    const decisions: PacketDecision[] = [];
    const engine = await engineUnderCap(decisions, { timeouts: { tcpSyn: 5, tcpEstablished: 5, tcpClosed: 5, udp: 5, icmp: 5, other: 5 } });
    attack(engine, 128, 0);
    expect(engine.counters.reassembly.streamMemcapDrops).toBeGreaterThan(0);
    // Past the established timeout every attack flow has ended and given its buffers back.
    engine.pushDecoded(packet({ src: '198.19.0.1', tcpFlags: TcpFlag.SYN, seq: 1 }, 20));
    engine.flush();
    expect(engine.streamMemory).toBe(0);
    decisions.length = 0;
    attack(engine, 32, 21);
    expect(decisions.filter((d) => d.stage === 'memcap')).toHaveLength(0);
    engine.finish();
    expect(engine.streamMemory).toBe(0);
  });
});
