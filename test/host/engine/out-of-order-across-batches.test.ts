// An audit sent a TLS ClientHello in three segments, last first, with other
// traffic between them so they fell into separate module batches: the
// engine flagged the out-of-order segment's packet STREAM_GAP, which the ABI
// defines as "no more in-order bytes will follow", so tls_inspect (and
// basic_inspect, dlp, ssh_guard, threat_intel) gave up and allowed the flow
// before the hole was filled. STREAM_GAP now means the stream reached its
// depth. The same audit had Linux keep a longer out-of-order copy of held
// bytes than the one inspected; such a segment is now dropped, so the
// receiver keeps the inspected copy.
import { describe, expect, it } from 'vitest';
import { Engine, SID_STREAM_OVERLAP, type EngineModule, type ModuleRunner } from '../../../host/engine/engine.js';
import type { PacketDecision } from '../../../host/engine/types.js';
import { decodePacket } from '../../../host/packet/decode.js';
import { LinkType } from '../../../host/packet/types.js';
import type { BatchOutput, InspectItem } from '../../../host/wasm/instance.js';
import { MetaFlag } from '../../../host/wasm/abi.js';
import { Verdict } from '../../../host/verdict.js';
import { ACK, PSH, SYN, StreamRecorder, c2s, handshake, s2c } from './evasion-support.js';
import { instance } from '../../modules/support.js';
import { clientHello, records } from '../../modules/tls_inspect/tls-wire.js';
import { T0 } from './support.js';

const REQUEST = "GET /?q=x' or '1'='1 HTTP/1.1\r\nHost: a\r\n\r\n";
const CUT1 = 10, CUT2 = 20;

/** The three segments of REQUEST (from ISN 1000), in the order given. */
function segments(order: number[]): Uint8Array[] {
  const parts = [[0, CUT1], [CUT1, CUT2], [CUT2, REQUEST.length]] as const;
  return order.map((i) => c2s(ACK | PSH, 1001 + parts[i]![0], REQUEST.slice(parts[i]![0], parts[i]![1])));
}

/** Records each item's meta flags, in order. */
class FlagRecorder extends StreamRecorder {
  flags: number[] = [];
  override inspect(items: readonly InspectItem[], count: number, out: BatchOutput): void {
    super.inspect(items, count, out);
    for (let i = 0; i < count; i++) this.flags.push(items[i]!.flags);
  }
}

async function tlsInspect(): Promise<EngineModule> {
  return { name: 'tls_inspect', instance: await instance('tls_inspect', { sni_blocklist: ['evil.example'] }), policy: 'fail-closed' };
}

function run(module: EngineModule, frames: Uint8Array[], streamDepth?: number): PacketDecision[] {
  const decisions: PacketDecision[] = [];
  // Batches of one: each packet is its own module batch, as when other traffic comes between them.
  const engine = new Engine({ rules: { defaultPolicy: 'inspect', rules: [] }, modules: [module], batchSize: 1, streamDepth, onDecision: (d) => decisions.push(d) });
  frames.forEach((f, i) => engine.pushDecoded(decodePacket(f, LinkType.ETHERNET, T0 + i, 0)));
  engine.finish();
  return decisions;
}

function handshake443(): Uint8Array[] {
  return [c2s(SYN, 1000, '', { dstPort: 443 }), s2c(SYN | ACK, 5000, 1001, { srcPort: 443 }), c2s(ACK, 1001, '', { dstPort: 443 })];
}

const fake = (m: ModuleRunner): EngineModule => ({ name: 'm', instance: m });

describe('segments out of order, in separate batches', () => {
  it('no packet says STREAM_GAP while the hole can still be filled, and the module gets the whole stream', () => {
    const rec = new FlagRecorder();
    run(fake(rec), [...handshake(), ...segments([2, 0, 1])]);
    expect(rec.flags.some((f) => (f & MetaFlag.STREAM_GAP) !== 0)).toBe(false);
    expect(rec.toServer()).toEqual([REQUEST]);
  });

  it('tls_inspect blocks the SNI of a ClientHello sent last segment first, instead of allowing the flow at the hole', async () => {
    const hello = records(clientHello({ ciphers: [0x1301], extensions: [0, 43], sni: 'evil.example' }));
    const text = new TextDecoder('latin1').decode(hello);
    const cut = [0, 40, 80, hello.length];
    const seg = (i: number): Uint8Array => c2s(ACK | PSH, 1001 + cut[i]!, text.slice(cut[i]!, cut[i + 1]!), { dstPort: 443 });
    const decisions = run(await tlsInspect(), [...handshake443(), seg(2), seg(0), seg(1)]);
    const data = decisions.slice(3);
    expect(data.map((d) => d.verdict)).toEqual([Verdict.CONTINUE, Verdict.CONTINUE, Verdict.BLOCK_FLOW]);
    expect(data[2]!.modules.flatMap((r) => r.alerts.map((a) => a.sigId))).toContain(1003001);
  }, 60_000);

  it('STREAM_GAP comes once the stream reaches its depth: no more in-order bytes will follow', () => {
    const rec = new FlagRecorder();
    run(fake(rec), [...handshake(), ...segments([0, 1, 2])], CUT2);
    const data = rec.flags.slice(-3); // after the handshake
    expect(data.map((f) => (f & MetaFlag.STREAM_GAP) !== 0)).toEqual([false, true, true]);
  });
});

describe('a segment that differs from bytes held past a hole', () => {
  const good = 'SNI=good.example;', evil = 'SNI=evil.example;and the rest';

  it('is dropped with alert 2100001, so the receiver keeps the copy the modules read', () => {
    const rec = new FlagRecorder();
    const head = c2s(ACK | PSH, 1001, 'HEAD:');
    const first = c2s(ACK | PSH, 1006, good);
    const longer = c2s(ACK | PSH, 1006, evil);
    const decisions = run(fake(rec), [...handshake(), first, longer, head]);
    const [d1, d2, d3] = decisions.slice(3);
    expect(d1!.dropped).toBe(false);
    expect(d2).toMatchObject({ stage: 'overlap', verdict: Verdict.DROP, dropped: true });
    expect(d2!.modules.flatMap((r) => r.alerts.map((a) => a.sigId))).toEqual([SID_STREAM_OVERLAP]);
    expect(d3!.dropped).toBe(false);
    // The stream holds the first copy and nothing of the refused one's tail.
    expect(rec.toServer()).toEqual([`HEAD:${good}`]);
  });

  it('a copy with the same bytes (a plain retransmission) is not dropped, and may add bytes past them', () => {
    const rec = new FlagRecorder();
    const first = c2s(ACK | PSH, 1006, good);
    const again = c2s(ACK | PSH, 1006, `${good}more`);
    const head = c2s(ACK | PSH, 1001, 'HEAD:');
    const decisions = run(fake(rec), [...handshake(), first, again, head]);
    expect(decisions.slice(3).map((d) => d.dropped)).toEqual([false, false, false]);
    expect(rec.toServer()).toEqual([`HEAD:${good}more`]);
  });

  it('a RST at the end of the dropped copy does not end the flow (the receiver never had those bytes)', () => {
    const rec = new FlagRecorder();
    const first = c2s(ACK | PSH, 1006, good);
    const longer = c2s(ACK | PSH, 1006, evil);
    const head = c2s(ACK | PSH, 1001, 'HEAD:');
    const rst = c2s(0x04, 1006 + evil.length);
    const after = c2s(ACK | PSH, 1006 + good.length, 'tail');
    const decisions = run(fake(rec), [...handshake(), first, longer, head, rst, after]);
    expect(decisions.at(-1)!.flow!.id).toBe(decisions[3]!.flow!.id);
    expect(rec.toServer()).toEqual([`HEAD:${good}tail`]);
  });
});
