// Urgent data: most receivers take the urgent byte out of the stream, so
// "UNI" + urgent "X" + "ON" reaches the server as UNION while the inspected
// stream reads UNIXON. The engine cannot know the receiver's choice: it says so.
import { describe, expect, it } from 'vitest';
import { Engine, ENGINE_MODULE, SID_URGENT_DATA } from '../../../host/engine/engine.js';
import type { PacketDecision } from '../../../host/engine/types.js';
import { decodePacket } from '../../../host/packet/decode.js';
import { LinkType, TcpFlag } from '../../../host/packet/types.js';
import { ACK, PSH, StreamRecorder, c2s, handshake } from './evasion-support.js';
import { T0 } from './support.js';

describe('TCP urgent data in an inspected stream', () => {
  it('raises the engine\'s alert once per flow, on the first segment with urgent data', () => {
    const frames = [...handshake(), c2s(ACK | PSH, 1001, 'GET /?q=1 UNI'), c2s(ACK | PSH | TcpFlag.URG, 1014, 'XON SELECT'), c2s(ACK | PSH | TcpFlag.URG, 1024, ' x')];
    const decisions: PacketDecision[] = [];
    const engine = new Engine({ rules: { defaultPolicy: 'inspect', rules: [] }, modules: [{ name: 'rec', instance: new StreamRecorder() }], onDecision: (d) => decisions.push(d) });
    frames.forEach((f, i) => engine.pushDecoded(decodePacket(f, LinkType.ETHERNET, T0, i * 1000)));
    engine.finish();
    const alerts = decisions.flatMap((d) => d.modules.filter((r) => r.module === ENGINE_MODULE).flatMap((r) => r.alerts.map((a) => ({ index: d.index, sid: a.sigId }))));
    expect(alerts).toEqual([{ index: 4, sid: SID_URGENT_DATA }]);
  });
});
