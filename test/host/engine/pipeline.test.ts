import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Engine, type EngineModule } from '../../../host/engine/engine.js';
import type { FlowRecord, PacketDecision } from '../../../host/engine/types.js';
import { buildPacket, fragmentIp } from '../../../host/packet/build.js';
import { decodePacket } from '../../../host/packet/decode.js';
import { LinkType, TcpFlag } from '../../../host/packet/types.js';
import { loadInspectorFile } from '../../../host/wasm/loader.js';
import { InspectorInstance } from '../../../host/wasm/instance.js';
import { shippedModulesDir } from '../../../host/paths.js';
import { Verdict } from '../../../host/verdict.js';
import { T0 } from './support.js';

async function basicInspect(): Promise<EngineModule> {
  const compiled = await loadInspectorFile(join(shippedModulesDir(), 'basic_inspect.wasm'), 'basic_inspect');
  return { name: 'basic_inspect', instance: await InspectorInstance.create(compiled, { clock: 'packet', logger: () => {} }), policy: 'fail-closed' };
}

async function runAll(frames: { data: Uint8Array; t: number }[], batchSize = 64) {
  const decisions: PacketDecision[] = [];
  const flows: FlowRecord[] = [];
  const engine = new Engine({
    rules: { defaultPolicy: 'inspect', rules: [] },
    modules: [await basicInspect()],
    batchSize,
    onDecision: (d) => decisions.push(d),
    onFlowEnd: (r) => flows.push(r),
  });
  for (const f of frames) engine.pushDecoded(decodePacket(f.data, LinkType.ETHERNET, T0 + Math.floor(f.t), Math.round((f.t % 1) * 1e9)));
  const counters = engine.finish();
  return { decisions, flows, counters };
}

const client = { src: '198.18.0.1', dst: '198.18.1.1', srcPort: 40000, dstPort: 80, proto: 'tcp' as const };
const server = { src: '198.18.1.1', dst: '198.18.0.1', srcPort: 80, dstPort: 40000, proto: 'tcp' as const };

describe('engine pipeline with real modules', () => {
  it('sees a pattern split across two TCP segments that arrive out of order once, and judges the dropped bytes again when resent', async () => {
    const req = "GET /search?q=1' OR '1'='1 HTTP/1.1\r\nHost: shop.example\r\n\r\n";
    const cut = req.indexOf("'1'=") + 2; // inside the pattern
    const a = req.slice(0, cut);
    const b = req.slice(cut);
    const frames = [
      { data: buildPacket({ ...client, tcpFlags: TcpFlag.SYN, seq: 999 }), t: 0 },
      { data: buildPacket({ ...server, tcpFlags: TcpFlag.SYN | TcpFlag.ACK, seq: 5000, ack: 1000 }), t: 0.001 },
      { data: buildPacket({ ...client, tcpFlags: TcpFlag.ACK, seq: 1000, ack: 5001 }), t: 0.002 },
      { data: buildPacket({ ...client, seq: 1000 + a.length, ack: 5001, payload: b }), t: 0.003 }, // second half first
      { data: buildPacket({ ...client, seq: 1000, ack: 5001, payload: a }), t: 0.004 },
      { data: buildPacket({ ...client, seq: 1000, ack: 5001, payload: a }), t: 0.005 }, // retransmission
    ];
    const { decisions } = await runAll(frames);
    const alerts = decisions.flatMap((d) => d.modules.flatMap((m) => m.alerts.map((al) => ({ index: d.index, sid: al.sigId }))));
    // The retransmission resends bytes the drop kept from the server: shown again, dropped again (not passed as inspected).
    expect(alerts).toEqual([{ index: 4, sid: 1000001 }, { index: 5, sid: 1000001 }]);
    expect(decisions.find((d) => d.index === 3)!.dropped).toBe(false); // half a request is not an attack yet
    expect(decisions.find((d) => d.index === 4)!.dropped).toBe(true);
    expect(decisions.find((d) => d.index === 5)!.dropped).toBe(true);
  });

  it('reassembles IPv4 fragments before rules and modules, and gives every fragment the datagram verdict', async () => {
    const whole = buildPacket({ src: '198.18.0.7', dst: '198.18.1.1', proto: 'udp', srcPort: 5000, dstPort: 9999,
      payload: 'x'.repeat(40) + "' or '1'='1" + 'y'.repeat(40) });
    const frags = fragmentIp(whole, 32);
    expect(frags.length).toBeGreaterThanOrEqual(3);
    // last fragment first: the engine must hold the others until the datagram completes
    const order = [frags.length - 1, ...frags.keys()].filter((v, i, arr) => arr.indexOf(v) === i);
    const { decisions, counters } = await runAll(order.map((i, k) => ({ data: frags[i]!, t: k * 0.001 })));
    expect(decisions).toHaveLength(1);
    const d = decisions[0]!;
    expect(d.sources).toHaveLength(frags.length);
    expect(d.pkt.dstPort).toBe(9999);
    expect(d.modules[0]!.alerts.map((a) => a.sigId)).toEqual([1000001]);
    expect(d.dropped).toBe(true);
    expect(counters.drop).toBe(frags.length);
    expect(counters.datagramsReassembled).toBe(1);
  });

  it('keeps its own copy of held fragments: a source that reuses its frame buffer (AF_XDP) does not change them', async () => {
    const whole = buildPacket({ src: '198.18.0.10', dst: '198.18.1.1', proto: 'udp', srcPort: 5000, dstPort: 9999, payload: 'f'.repeat(90) });
    const frags = fragmentIp(whole, 32);
    const decisions: PacketDecision[] = [];
    const engine = new Engine({ rules: { defaultPolicy: 'pass', rules: [] }, modules: [], onDecision: (d) => decisions.push(d) });
    const slot = new Uint8Array(2048);
    frags.forEach((f, k) => {
      slot.fill(0xee);
      slot.set(f);
      engine.pushDecoded(decodePacket(slot.subarray(0, f.length), LinkType.ETHERNET, T0, k * 1000));
    });
    engine.finish();
    expect(decisions).toHaveLength(1);
    expect(decisions[0]!.sources.map((p) => [...p.data])).toEqual(frags.map((f) => [...f]));
    expect(decisions[0]!.sources.map((p) => [...p.src])).toEqual(frags.map(() => [198, 18, 0, 10]));
  });

  it('a datagram that never completes is counted and dropped at the end, not lost', async () => {
    const whole = buildPacket({ src: '198.18.0.8', dst: '198.18.1.1', proto: 'udp', srcPort: 5000, dstPort: 53, payload: 'z'.repeat(100) });
    const frags = fragmentIp(whole, 32);
    const { decisions, counters } = await runAll(frags.slice(1).map((data, k) => ({ data, t: k * 0.001 })));
    expect(decisions).toHaveLength(frags.length - 1);
    expect(decisions.every((d) => d.stage === 'fragment' && d.dropped)).toBe(true);
    expect(counters.fragmentsIncomplete).toBe(frags.length - 1);
    expect(counters.packetsRead).toBe(frags.length - 1);
  });

  it('fragments of a datagram that times out are decided when the reassembler gives it up, not at the end', async () => {
    const whole = buildPacket({ src: '198.18.0.9', dst: '198.18.1.1', proto: 'udp', srcPort: 5000, dstPort: 53, payload: 'q'.repeat(100) });
    const frags = fragmentIp(whole, 32).slice(1);
    const decisions: PacketDecision[] = [];
    const engine = new Engine({ rules: { defaultPolicy: 'pass', rules: [] }, modules: [], onDecision: (d) => decisions.push(d) });
    frags.forEach((f, k) => engine.pushDecoded(decodePacket(f, LinkType.ETHERNET, T0, k * 1000)));
    expect(engine.counters.fragmentsIncomplete).toBe(0);
    engine.pushDecoded(decodePacket(buildPacket({ ...client, payload: 'later' }), LinkType.ETHERNET, T0 + 45, 0));
    expect(engine.counters.fragmentsIncomplete).toBe(frags.length);
    expect(decisions.filter((d) => d.stage === 'fragment')).toHaveLength(frags.length);
    engine.finish();
    expect(engine.counters.fragmentsIncomplete).toBe(frags.length);
  });

  it('malformed and non-IP frames still get a decision and never throw', async () => {
    const good = buildPacket({ ...client, payload: 'hello' });
    const frames = [
      { data: good.subarray(0, 20), t: 0 },             // cut inside the IP header
      { data: good.subarray(0, 40), t: 0.1 },           // cut inside the TCP header
      { data: new Uint8Array(60).fill(0xff), t: 0.2 },  // broadcast garbage
      { data: new Uint8Array(0), t: 0.3 },               // empty
    ];
    const { decisions, counters } = await runAll(frames);
    expect(decisions).toHaveLength(4);
    expect(counters.packetsRead).toBe(4);
    expect(counters.malformed).toBeGreaterThanOrEqual(2);
    expect(counters.pass + counters.drop).toBe(4);
  });

  it('flow records carry both directions\' counters and the flow verdict', async () => {
    const frames = [
      { data: buildPacket({ ...client, payload: 'GET / HTTP/1.1\r\n\r\n', seq: 1 }), t: 0 },
      { data: buildPacket({ ...server, payload: 'HTTP/1.1 200 OK\r\n\r\n', seq: 1 }), t: 0.01 },
      { data: buildPacket({ ...client, srcPort: 40001, payload: '${jndi:ldap://x/a}', seq: 1 }), t: 0.02 },
    ];
    const { flows } = await runAll(frames);
    expect(flows).toHaveLength(2);
    const clean = flows.find((f) => f.flow.clientPort === 40000)!;
    expect(clean.flow.pktsToServer).toBe(1);
    expect(clean.flow.pktsToClient).toBe(1);
    expect(clean.flow.bytesToServer).toBe(frames[0]!.data.length);
    expect(clean.reason).toBe('shutdown');
    const bad = flows.find((f) => f.flow.clientPort === 40001)!;
    expect(bad.verdict).toBe('block_flow');
  });

  it('batching does not change decisions: batch size 1 and 256 agree', async () => {
    const frames = Array.from({ length: 60 }, (_, i) => ({
      data: buildPacket({ ...client, srcPort: 41000 + (i % 7), seq: 1 + i * 10, payload: i % 9 === 0 ? "' or '1'='1" : `chunk ${i}` }),
      t: i * 0.01,
    }));
    const one = await runAll(frames, 1);
    const many = await runAll(frames, 256);
    const view = (ds: PacketDecision[]) => ds.sort((a, b) => a.index - b.index).map((d) => [d.index, d.verdict, d.dropped]);
    expect(view(many.decisions)).toEqual(view(one.decisions));
    expect(one.decisions.some((d) => d.verdict === Verdict.DROP)).toBe(true);
  });
});
