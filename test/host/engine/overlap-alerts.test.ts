// Conflicting retransmissions and fragment overlaps are the classic evasion
// signal: the engine raises its own alert for them, as Suricata's stream and
// defrag events do, without changing any verdict.
import { describe, expect, it } from 'vitest';
import { Engine, ENGINE_MODULE, SID_FRAGMENT_OVERLAP, SID_STREAM_OVERLAP } from '../../../host/engine/engine.js';
import type { PacketDecision } from '../../../host/engine/types.js';
import { fragmentIp } from '../../../host/packet/build.js';
import { decodePacket } from '../../../host/packet/decode.js';
import { LinkType } from '../../../host/packet/types.js';
import { Verdict } from '../../../host/verdict.js';
import { ACK, ATTACK, BENIGN, PSH, StreamRecorder, c2s, handshake } from './evasion-support.js';
import { T0 } from './support.js';

function run(frames: Uint8Array[]) {
  const decisions: PacketDecision[] = [];
  const rec = new StreamRecorder();
  const engine = new Engine({ rules: { defaultPolicy: 'inspect', rules: [] }, modules: [{ name: 'rec', instance: rec }], onDecision: (d) => decisions.push(d) });
  frames.forEach((f, i) => engine.pushDecoded(decodePacket(f, LinkType.ETHERNET, T0, i * 1000)));
  const counters = engine.finish();
  const alerts = decisions.flatMap((d) => d.modules.filter((r) => r.module === ENGINE_MODULE).flatMap((r) => r.alerts.map((a) => ({ index: d.index, sid: a.sigId }))));
  return { decisions, alerts, counters, rec };
}

describe('engine alerts on overlaps with different data', () => {
  it('alerts once per flow on retransmissions that change held stream bytes, and keeps the first copy', () => {
    const { alerts, counters, rec, decisions } = run([...handshake(), c2s(ACK | PSH, 1001, BENIGN), c2s(ACK | PSH, 1001, ATTACK), c2s(ACK | PSH, 1001, ATTACK)]);
    expect(alerts).toEqual([{ index: 4, sid: SID_STREAM_OVERLAP }]);
    expect(counters.reassembly.streamOverlapConflicts).toBe(2);
    expect(counters.alertsBySignature.get(`${ENGINE_MODULE}:${SID_STREAM_OVERLAP}`)?.count).toBe(1);
    expect(rec.toServer()).toEqual([BENIGN]);
    // The alert takes no part in the verdict: the module's CONTINUE stands.
    expect(decisions[4]!.verdict).toBe(Verdict.CONTINUE);
  });

  it('does not alert on a retransmission with the same bytes', () => {
    const { alerts, counters } = run([...handshake(), c2s(ACK | PSH, 1001, ATTACK), c2s(ACK | PSH, 1001, ATTACK)]);
    expect(alerts).toEqual([]);
    expect(counters.reassembly.streamOverlapConflicts).toBe(0);
  });

  it('alerts on the datagram whose fragments overlapped with different bytes', () => {
    const decoy = fragmentIp(c2s(ACK | PSH, 1001, BENIGN), 24, 91);
    const attack = fragmentIp(c2s(ACK | PSH, 1001, ATTACK), 24, 91);
    const frames = [...handshake(), decoy[1]!, ...attack];
    const { alerts, counters } = run(frames);
    expect(alerts).toEqual([{ index: frames.length - 1, sid: SID_FRAGMENT_OVERLAP }]);
    expect(counters.reassembly.fragmentOverlapConflicts).toBe(1);
  });
});
