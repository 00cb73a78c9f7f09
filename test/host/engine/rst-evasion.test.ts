// A RST the server ignores, then a pause: the rest of the request must still
// join the first part in one inspected stream.
import { describe, expect, it } from 'vitest';
import { ACK, ATTACK, FIN, PSH, RST, SYN, c2s, handshake, runFrames, s2c } from './evasion-support.js';

describe('RST with a sequence number the receiver ignores', () => {
  const half = 20;
  const start = handshake().map((frame, i) => ({ frame, t: i * 0.001 }));

  it('does not end the flow, so the request after a pause is inspected whole', () => {
    const { rec, flows, counters } = runFrames([
      ...start,
      { frame: c2s(ACK | PSH, 1001, ATTACK.slice(0, half)), t: 1 },
      { frame: s2c(RST | ACK, 5001 + 99_999, 1001 + half), t: 1.1 },
      { frame: c2s(ACK | PSH, 1001 + half, ATTACK.slice(half)), t: 20 },
    ]);
    expect(flows).toHaveLength(1);
    expect(rec.toServer()).toEqual([ATTACK]);
    expect(counters.reassembly.rstIgnored).toBe(1);
  });

  it('does not let a SYN with a new ISN after it start a new flow that hides the rest', () => {
    const { rec, flows } = runFrames([
      ...start,
      { frame: c2s(ACK | PSH, 1001, ATTACK.slice(0, half)), t: 1 },
      { frame: s2c(RST | ACK, 5001 + 99_999, 1001 + half), t: 1.1 },
      { frame: c2s(SYN, 424_242), t: 1.2 },
      { frame: c2s(ACK | PSH, 1001 + half, ATTACK.slice(half)), t: 1.3 },
    ]);
    expect(flows).toHaveLength(1);
    expect(rec.toServer()).toEqual([ATTACK]);
  });
});

describe('FINs out of sequence from both sides', () => {
  it('do not close the flow, so the request after a pause is inspected whole', () => {
    const { rec, flows, counters } = runFrames([
      ...handshake().map((frame, i) => ({ frame, t: i * 0.001 })),
      { frame: c2s(ACK | PSH, 1001, ATTACK.slice(0, 20)), t: 1 },
      { frame: c2s(FIN | ACK, 1021 + 999_999), t: 1.1 },
      { frame: s2c(FIN | ACK, 5001 + 999_999, 1021), t: 1.2 },
      { frame: c2s(ACK | PSH, 1021, ATTACK.slice(20)), t: 20 },
    ]);
    expect(flows).toHaveLength(1);
    expect(rec.toServer()).toEqual([ATTACK]);
    expect(counters.reassembly.finIgnored).toBe(2);
  });
});
