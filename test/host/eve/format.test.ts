import { describe, expect, it } from 'vitest';
import { eveTimestamp, protoName } from '../../../host/eve/format.js';

describe('EVE formatting', () => {
  it('timestamps use Suricata\'s form with microseconds, in UTC', () => {
    expect(eveTimestamp(1_767_225_600, 0)).toBe('2026-01-01T00:00:00.000000+0000');
    expect(eveTimestamp(1_767_225_600, 123_456_789)).toBe('2026-01-01T00:00:00.123456+0000');
    // far-future times keep their microseconds (past 2255 a count of microseconds exceeds 2^53),
    // and a year past 9999 its seconds (the ISO text grows a sign and two digits)
    expect(eveTimestamp(100_000_000_000, 7_000)).toBe('5138-11-16T09:46:40.000007+0000');
    expect(eveTimestamp(253_402_300_800 + 59, 1_000)).toBe('+010000-01-01T00:00:59.000001+0000');
    expect(eveTimestamp(1_767_225_659, 999_999_999)).toBe('2026-01-01T00:00:59.999999+0000');
    expect(eveTimestamp(0, 1_500_000_000)).toBe('1970-01-01T00:00:01.500000+0000'); // nsec beyond a second carries
  });

  it('the per-second text it reuses follows the second, forwards and backwards, whatever the order', () => {
    const secs = [1_767_225_600, 1_767_225_600, 1_767_225_601, 1_767_225_599, 1_767_225_601, 0, 4_102_444_799, 1_767_225_600];
    for (const [i, sec] of secs.entries()) {
      const nsec = (i * 137_000_123) % 1_000_000_000;
      const iso = new Date(sec * 1000).toISOString().slice(0, 19);
      expect(eveTimestamp(sec, nsec)).toBe(`${iso}.${String(Math.floor(nsec / 1000)).padStart(6, '0')}+0000`);
    }
    // a carry into the next second must not reuse the previous second's text
    expect(eveTimestamp(1_767_225_600, 999_999_000)).toBe('2026-01-01T00:00:00.999999+0000');
    expect(eveTimestamp(1_767_225_600, 1_000_000_000)).toBe('2026-01-01T00:00:01.000000+0000');
  });

  it('protocol names follow Suricata (IPv6-ICMP for 58), unknown ones stay numeric', () => {
    expect([6, 17, 1, 58, 47].map(protoName)).toEqual(['TCP', 'UDP', 'ICMP', 'IPv6-ICMP', '47']);
  });
});
