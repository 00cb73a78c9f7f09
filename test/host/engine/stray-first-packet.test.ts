// The request must reach modules as to-server stream bytes even when the
// evader first sends a packet from the server's side.
import { describe, expect, it } from 'vitest';
import { ACK, ATTACK, PSH, SYN, c2s, handshake, runFrames, s2c } from './evasion-support.js';

describe('stray first packet from the server side', () => {
  it('hands the request over in the to-server stream after a stray ACK', () => {
    const { rec } = runFrames([s2c(ACK, 5001, 1001), ...handshake(), c2s(ACK | PSH, 1001, ATTACK)]);
    expect(rec.toServer()).toEqual([ATTACK]);
  });

  it('hands the request over in the to-server stream after a stray SYN', () => {
    const { rec } = runFrames([s2c(SYN, 31_337, 0), ...handshake(), c2s(ACK | PSH, 1001, ATTACK)]);
    expect(rec.toServer()).toEqual([ATTACK]);
  });
});
