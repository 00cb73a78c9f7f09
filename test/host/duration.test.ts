import { describe, expect, it } from 'vitest';
import { describeDuration, parseDuration } from '../../host/duration.js';
import { SecuxflowError } from '../../host/errors.js';

describe('durations on the command line', () => {
  it('reads seconds and s, m, h, d in any case, with spaces around', () => {
    expect(['90', '90s', '10m', ' 1H ', '2d'].map((t) => parseDuration('--ttl', t, 1, 30 * 86_400))).toEqual([90, 90, 600, 3600, 172_800]);
  });

  it('refuses what is not a duration, and what is out of range, naming the flag and the range', () => {
    const refusal = (text: string): string => {
      try {
        parseDuration('--ttl', text, 1, 86_400);
      } catch (e) {
        expect(e).toBeInstanceOf(SecuxflowError);
        return `${(e as SecuxflowError).code} ${(e as SecuxflowError).message} / ${(e as SecuxflowError).hint}`;
      }
      return 'accepted';
    };
    expect(refusal('1.5h')).toBe('E_USAGE --ttl "1.5h": not a duration / give seconds, or a number with s, m, h or d, for example --ttl 10m');
    expect(refusal('-5')).toMatch(/^E_USAGE --ttl "-5": not a duration/);
    expect(refusal('10w')).toMatch(/^E_USAGE --ttl "10w": not a duration/);
    expect(refusal('0')).toBe('E_USAGE --ttl 0: out of range / give 1s to 1d');
    expect(refusal('2d')).toBe('E_USAGE --ttl 2d: out of range / give 1s to 1d');
    expect(refusal('99999999999999999999d')).toMatch(/out of range/);
  });

  it('describes seconds the way it reads them', () => {
    expect([0, 59, 60, 3725, 86_400, 90_061].map(describeDuration)).toEqual(['0s', '59s', '1m', '1h 2m 5s', '1d', '1d 1h 1m 1s']);
  });
});
