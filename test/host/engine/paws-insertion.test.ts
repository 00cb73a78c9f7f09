// PAWS insertion: with timestamps on, the receiver drops a segment whose
// TSval is older than the last one it took in order. A decoy sent that way
// ahead of the real bytes must not take their place in the inspected stream.
import { describe, expect, it } from 'vitest';
import { ENGINE_MODULE, SID_PAWS } from '../../../host/engine/engine.js';
import { ACK, ATTACK, BENIGN, PSH, SYN, c2s, runFrames, s2c, withTimestamp } from './evasion-support.js';

const ts = withTimestamp;

describe('PAWS insertion', () => {
  const start = [ts(c2s(SYN, 1000), 1000), ts(s2c(SYN | ACK, 5000, 1001), 7000), ts(c2s(ACK, 1001), 1001), ts(c2s(ACK | PSH, 1001, 'GET /a HTTP/1.1\r\n\r\n'), 1002)];
  const next = 1001 + 'GET /a HTTP/1.1\r\n\r\n'.length;

  it('does not write a decoy whose timestamp is older than one already taken, and alerts once', () => {
    const { rec, counters } = runFrames([...start, ts(c2s(ACK | PSH, next, BENIGN), 5), ts(c2s(ACK | PSH, next, ATTACK), 1003)]);
    expect(rec.toServer()).toEqual([`GET /a HTTP/1.1\r\n\r\n${ATTACK}`]);
    expect(counters.alertsBySignature.get(`${ENGINE_MODULE}:${SID_PAWS}`)?.count).toBe(1);
  });

  it('takes segments without timestamps when the handshake did not agree on them, and newer timestamps across the 2^32 wrap', () => {
    const plain = runFrames([c2s(SYN, 1000), s2c(SYN | ACK, 5000, 1001), c2s(ACK, 1001), ts(c2s(ACK | PSH, 1001, BENIGN.slice(0, 10)), 1002), ts(c2s(ACK | PSH, 1011, BENIGN.slice(10)), 5)]);
    expect(plain.rec.toServer()).toEqual([BENIGN]);
    const wrap = runFrames([ts(c2s(SYN, 1000), 2 ** 32 - 2), ts(s2c(SYN | ACK, 5000, 1001), 7000), ts(c2s(ACK | PSH, 1001, BENIGN.slice(0, 10)), 2 ** 32 - 1), ts(c2s(ACK | PSH, 1011, BENIGN.slice(10)), 3)]);
    expect(wrap.rec.toServer()).toEqual([BENIGN]);
  });
});
