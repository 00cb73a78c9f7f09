// Ways an attacker tried to get bytes a module had dropped to the receiver
// anyway, found by an audit of the resend fix. In each, the receiver (Linux)
// would hand the attack to the application; each packet carrying its bytes
// must be dropped. The module scans new stream bytes with a lookback, as
// basic_inspect does, so a match is reported on the packet that completes it.
import { describe, expect, it } from 'vitest';
import { Engine, type ModuleRunner } from '../../../host/engine/engine.js';
import type { PacketDecision } from '../../../host/engine/types.js';
import { decodePacket } from '../../../host/packet/decode.js';
import { LinkType } from '../../../host/packet/types.js';
import type { BatchOutput, InspectItem } from '../../../host/wasm/instance.js';
import { Verdict } from '../../../host/verdict.js';
import { ACK, PSH, RST, c2s, handshake, withTimestamp, SYN, s2c } from './evasion-support.js';
import { T0 } from './support.js';

const PATTERN = 'UNION';
const ATTACK = 'GET /?q=1 UNION SELECT pw FROM users HTTP/1.1\r\n\r\n';
const at = (offset: number) => 1001 + offset;

/**
 * Drops a packet whose new stream bytes complete "UNION". With allowOnHole it
 * says ALLOW_FLOW on a segment that leaves a hole (as basic_inspect did when
 * the engine still flagged a hole STREAM_GAP, and as any module that decides
 * on what it has seen may); with police, it also drops the first data packet
 * whatever it says (a rate limit).
 */
class Waf implements ModuleRunner {
  constructor(private readonly allowOnHole = false, private police = false) {}
  inspect(items: readonly InspectItem[], count: number, out: BatchOutput): void {
    for (let i = 0; i < count; i++) {
      const it = items[i]!;
      if (this.police && it.pkt.payloadLength > 0) { this.police = false; out.verdicts[i] = Verdict.DROP; continue; }
      if (this.allowOnHole && it.pkt.payloadLength > 0 && it.streamNew === 0) { out.verdicts[i] = Verdict.ALLOW_FLOW; continue; }
      if (it.stream === null || it.streamNew === 0) continue;
      const newStart = it.stream.length - it.streamNew;
      const from = Math.max(0, newStart - (PATTERN.length - 1));
      const text = new TextDecoder().decode(it.stream.subarray(from));
      for (let k = text.indexOf(PATTERN); k >= 0; k = text.indexOf(PATTERN, k + 1)) {
        if (from + k + PATTERN.length > newStart) out.verdicts[i] = Verdict.DROP;
      }
    }
  }
  flowEnded(): void {}
}

/** Runs the frames through one batch (the offline reader's size), returning each packet's dropped flag and the stage counts. */
function run(frames: Uint8Array[], waf = new Waf()) {
  const decisions: PacketDecision[] = [];
  const engine = new Engine({ rules: { defaultPolicy: 'inspect', rules: [] }, modules: [{ name: 'waf', instance: waf }], batchSize: 64, onDecision: (d) => decisions.push(d) });
  frames.forEach((f, i) => engine.pushDecoded(decodePacket(f, LinkType.ETHERNET, T0 + i, 0)));
  const counters = engine.finish();
  decisions.sort((a, b) => a.index - b.index);
  return { dropped: decisions.map((d) => d.dropped), stages: decisions.map((d) => d.stage), counters };
}

describe('bytes a module dropped, and the receiver still lacks', () => {
  it('a dropped copy that began before the stream: its resend is judged and dropped', () => {
    const { dropped } = run([...handshake(), c2s(ACK | PSH, 1000, `X${ATTACK}`), c2s(ACK | PSH, 1001, ATTACK)]);
    expect(dropped.slice(3)).toEqual([true, true]);
  });

  it('bytes the receiver already had are not taken over by a resend: the attack it completes stays in view', () => {
    const cut = ATTACK.indexOf(PATTERN) + 2;
    const junk = 'x'.repeat(cut) + ATTACK.slice(cut);
    const { dropped } = run([...handshake(), c2s(ACK | PSH, 1001, ATTACK.slice(0, cut)), c2s(ACK | PSH, 1001, ATTACK), c2s(ACK | PSH, 1001, junk)]);
    // The head passes (half a pattern); head + tail completes it: dropped; junk over the head the receiver has, same tail: dropped.
    expect(dropped.slice(3)).toEqual([false, true, true]);
  });

  it('a benign piece passed inside a dropped range leaves the rest of it undelivered', () => {
    // A harmless request dropped by the rate limit; its head resent and passed; the rest resent carrying the attack.
    const harmless = 'h'.repeat(ATTACK.length);
    const cut = ATTACK.indexOf(PATTERN) - 2;
    const { dropped } = run([...handshake(), c2s(ACK | PSH, 1001, harmless), c2s(ACK | PSH, 1001, ATTACK.slice(0, cut)), c2s(ACK | PSH, at(cut), ATTACK.slice(cut))], new Waf(false, true));
    expect(dropped.slice(3)).toEqual([true, false, true]);
  });

  it('more separate dropped ranges than are kept: the direction fails closed, dropping its later payload', () => {
    const frames = [...handshake()];
    // Nine attacks, each followed by benign bytes that pass: nine ranges apart.
    let seq = 1001;
    for (let i = 0; i < 9; i++) {
      frames.push(c2s(ACK | PSH, seq, ATTACK), c2s(ACK | PSH, seq + ATTACK.length, 'ok'));
      seq += ATTACK.length + 2;
    }
    frames.push(c2s(ACK | PSH, 1001, ATTACK), c2s(ACK | PSH, seq, 'harmless'));
    const { dropped, stages } = run(frames);
    expect(dropped.slice(-2)).toEqual([true, true]);
    expect(stages.slice(-2)).toEqual(['resent', 'resent']);
  });

  it('a module that allows the flow while dropped bytes are outstanding does not get it allowed; their resend is dropped', () => {
    const waf = new Waf(true);
    const frames = [...handshake(), c2s(ACK | PSH, 1001, ATTACK), c2s(ACK | PSH, at(5000), 'z'), c2s(ACK | PSH, at(ATTACK.length), 'next'), c2s(ACK | PSH, 1001, ATTACK)];
    const { dropped, stages } = run(frames, waf);
    expect(dropped.slice(3)).toEqual([true, false, false, true]);
    expect(stages[6]).toBe('resent');
  });

  it('a RST at the end of the dropped bytes, which the receiver ignores, does not end what the engine knows', () => {
    const end = at(ATTACK.length);
    const { dropped } = run([...handshake(), c2s(ACK | PSH, 1001, ATTACK), c2s(RST, end), c2s(SYN, end - 1), c2s(ACK | PSH, end, 'z'), c2s(ACK | PSH, 1001, ATTACK)]);
    expect(dropped[dropped.length - 1]).toBe(true);
  });

  it("a dropped segment's timestamp does not move PAWS: the receiver's next real segment is still judged", () => {
    const hs = [withTimestamp(c2s(SYN, 1000), 100), withTimestamp(s2c(SYN | ACK, 5000, 1001), 100), withTimestamp(c2s(ACK, 1001), 101)];
    const benign = 'GET /?q=1 onion select pw from users HTTP/1.1\r\n\r\n';
    const { dropped } = run([
      ...hs,
      withTimestamp(c2s(ACK | PSH, 1001, ATTACK), 0x70000000), // dropped; the receiver never sees this TSval
      withTimestamp(c2s(ACK | PSH, 1001, benign), 200), // the receiver takes these bytes
      withTimestamp(c2s(ACK | PSH, at(benign.length), ATTACK), 201), // and these, in order
    ]);
    expect(benign.length).toBe(ATTACK.length);
    expect(dropped.slice(3)).toEqual([true, false, true]);
  });
});
