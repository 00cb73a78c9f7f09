// A module drops a TCP segment for what its bytes say. The stream had taken
// those bytes ("first copy wins"), so the sender's retransmission of them was
// nothing new to the modules, went on as CONTINUE, and reached the server:
// a live curl of a SQL injection that basic_inspect alerted on and dropped got
// its answer 200 ms later. The resent bytes are now handed over again as new.
import { describe, expect, it } from 'vitest';
import { Engine, type ModuleRunner } from '../../../host/engine/engine.js';
import type { PacketDecision } from '../../../host/engine/types.js';
import { decodePacket } from '../../../host/packet/decode.js';
import { LinkType } from '../../../host/packet/types.js';
import type { BatchOutput, InspectItem } from '../../../host/wasm/instance.js';
import { Verdict } from '../../../host/verdict.js';
import { ACK, ATTACK, BENIGN, PSH, c2s, handshake } from './evasion-support.js';
import { T0 } from './support.js';

/** Drops a packet whose new stream bytes hold "UNION" (a stream-scanning WAF), counting what it was shown. */
class StreamWaf implements ModuleRunner {
  shown: string[] = [];
  inspect(items: readonly InspectItem[], count: number, out: BatchOutput): void {
    for (let i = 0; i < count; i++) {
      const it = items[i]!;
      if (it.stream === null || it.streamNew === 0) continue;
      const fresh = new TextDecoder().decode(it.stream.subarray(it.stream.length - it.streamNew));
      this.shown.push(fresh);
      if (fresh.includes('UNION')) out.verdicts[i] = Verdict.DROP;
    }
  }
  flowEnded(): void {}
}

/** Drops the first data packet it sees, then lets everything through (a policer over its rate once). */
class DropOnce implements ModuleRunner {
  dropped = false;
  inspect(items: readonly InspectItem[], count: number, out: BatchOutput): void {
    for (let i = 0; i < count; i++) {
      if (this.dropped || items[i]!.pkt.payloadLength === 0) continue;
      this.dropped = true;
      out.verdicts[i] = Verdict.DROP;
    }
  }
  flowEnded(): void {}
}

/** Drops the first data packet whatever it says (a policer), and any stream bytes holding "UNION" (a WAF). */
class PolicedWaf extends StreamWaf {
  policed = false;
  override inspect(items: readonly InspectItem[], count: number, out: BatchOutput): void {
    super.inspect(items, count, out);
    for (let i = 0; i < count; i++) {
      if (this.policed || items[i]!.pkt.payloadLength === 0) continue;
      this.policed = true;
      out.verdicts[i] = Verdict.DROP;
    }
  }
}

function run(instance: ModuleRunner, frames: Uint8Array[]) {
  const decisions: PacketDecision[] = [];
  const engine = new Engine({ rules: { defaultPolicy: 'inspect', rules: [] }, modules: [{ name: 'm', instance }], batchSize: 1, onDecision: (d) => decisions.push(d) });
  frames.forEach((f, i) => engine.pushDecoded(decodePacket(f, LinkType.ETHERNET, T0 + i, 0)));
  const counters = engine.finish();
  return { verdicts: decisions.map((d) => [d.verdict, d.dropped] as const), counters };
}

describe('a TCP segment a module dropped, sent again', () => {
  it('is judged again and dropped again, each time, not passed as already inspected', () => {
    const waf = new StreamWaf();
    const attack = c2s(ACK | PSH, 1001, ATTACK);
    const { verdicts, counters } = run(waf, [...handshake(), attack, attack, attack]);
    expect(verdicts.slice(3)).toEqual([[Verdict.DROP, true], [Verdict.DROP, true], [Verdict.DROP, true]]);
    expect(waf.shown).toEqual([ATTACK, ATTACK, ATTACK]);
    expect(counters.reassembly.droppedBytesResent).toBe(2);
  });

  it('resent inside a larger segment (other cuts), the dropped bytes and what follows are shown again', () => {
    const waf = new StreamWaf();
    const first = c2s(ACK | PSH, 1001, ATTACK.slice(0, 30));
    const whole = c2s(ACK | PSH, 1001, ATTACK);
    const { verdicts } = run(waf, [...handshake(), first, whole]);
    expect(ATTACK.slice(0, 30)).toContain('UNION');
    expect(verdicts.slice(3).map(([, dropped]) => dropped)).toEqual([true, true]);
    // From the first dropped byte to the stream's end: the whole request, as the receiver will read it.
    expect(waf.shown).toEqual([ATTACK.slice(0, 30), ATTACK]);
  });

  it('a policing drop lets the resent bytes through once the module passes them, and then forgets the range', () => {
    const once = new DropOnce();
    const data = c2s(ACK | PSH, 1001, BENIGN);
    const { verdicts, counters } = run(once, [...handshake(), data, data, c2s(ACK | PSH, 1001 + BENIGN.length, 'more'), data]);
    expect(verdicts.slice(3).map(([, dropped]) => dropped)).toEqual([true, false, false, false]);
    // Shown again once (the resend); after it was delivered, a further duplicate is an ordinary retransmission.
    expect(counters.reassembly.droppedBytesResent).toBe(1);
  });

  // Each showing may cost a module a scan to the stream's end; a sender that
  // keeps resending what the modules keep dropping is not shown it forever.
  it('after three showings that were all dropped, further copies are dropped without the modules', () => {
    const waf = new StreamWaf();
    const attack = c2s(ACK | PSH, 1001, ATTACK);
    const decisions: PacketDecision[] = [];
    const engine = new Engine({ rules: { defaultPolicy: 'inspect', rules: [] }, modules: [{ name: 'm', instance: waf }], batchSize: 1, onDecision: (d) => decisions.push(d) });
    [...handshake(), ...Array<Uint8Array>(6).fill(attack)].forEach((f, i) => engine.pushDecoded(decodePacket(f, LinkType.ETHERNET, T0 + i, 0)));
    const counters = engine.finish();
    expect(waf.shown).toEqual([ATTACK, ATTACK, ATTACK, ATTACK]);
    expect(decisions.slice(3).map((d) => [d.stage, d.dropped])).toEqual([
      ['module', true], ['module', true], ['module', true], ['module', true], ['resent', true], ['resent', true],
    ]);
    expect(decisions.slice(7).every((d) => d.modules.length === 0)).toBe(true);
    expect(counters.reassembly.droppedBytesResent).toBe(5);
    expect(counters.byStage.resent).toBe(2);
  });

  // The receiver never got the first copy, so it takes the resend's bytes:
  // judging the first copy's bytes again let an attack through behind a
  // harmless segment that was dropped for another reason.
  it('a resend with other bytes than the dropped copy is judged on its own bytes, the ones the receiver takes', () => {
    const waf = new PolicedWaf();
    const harmless = BENIGN.slice(0, ATTACK.length);
    const { verdicts } = run(waf, [...handshake(), c2s(ACK | PSH, 1001, harmless), c2s(ACK | PSH, 1001, ATTACK)]);
    expect(verdicts.slice(3).map(([, dropped]) => dropped)).toEqual([true, true]);
    expect(waf.shown).toEqual([harmless, ATTACK]);
  });

  it('benign traffic that is never dropped is never shown twice', () => {
    const waf = new StreamWaf();
    const data = c2s(ACK | PSH, 1001, BENIGN);
    const { counters } = run(waf, [...handshake(), data, data]);
    expect(waf.shown).toEqual([BENIGN]);
    expect(counters.reassembly.droppedBytesResent).toBe(0);
  });
});
