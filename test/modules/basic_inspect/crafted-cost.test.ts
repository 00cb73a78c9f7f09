// CPU a crafted payload can cost against a pattern set whose patterns share
// a prefix (as rule sets for one application's paths do): every position
// where that prefix starts compared every pattern in full.
import { beforeAll, describe, expect, it } from 'vitest';
import { item, packet } from '../../host/wasm/helpers.js';
import { compareCost } from '../cost.js';
import { builtModule, instance, run } from '../support.js';

beforeAll(() => { builtModule('basic_inspect'); }, 180_000);

const enc = (s: string) => new TextEncoder().encode(s);
const patterns = Array.from({ length: 50 }, (_, i) => ({ sid: 1000100 + i, content: `GET /admin/${String(i).padStart(2, '0')}`, msg: `admin ${i}` }));
const udp = (payload: Uint8Array) => (round: number) =>
  Array.from({ length: 16 }, (_, i) => item(packet({ proto: 'udp', dstPort: 9999, payload }), { flowId: round * 16 + i + 1 }));

describe('basic_inspect cost of near misses', () => {
  // Measured before the fix: ~65 us a 1,400-byte packet, 19x plain text;
  // after: about the same as plain text.
  it('1,400 bytes of near misses of 50 patterns sharing a prefix cost no more than 5x plain text', async () => {
    const inst = await instance('basic_inspect', { patterns });
    const miss = enc('GET /admin/xx'.repeat(110)).subarray(0, 1400);
    const text = enc('The quick brown fox jumps over the lazy dog. '.repeat(40)).subarray(0, 1400);
    const c = compareCost(inst, udp(text), udp(miss), 5);
    expect(c.ratio, JSON.stringify(c)).toBeLessThan(5);
  }, 120_000);

  it('still reports each matching pattern once, at its first match, exact and case-insensitive alike', async () => {
    const inst = await instance('basic_inspect', { patterns: [...patterns, { sid: 2000001, content: 'Secret', nocase: true, msg: 's' }, { sid: 2000002, content: 'ab', msg: 'ab' }] });
    const out = run(inst, udp(enc('xx GET /admin/07 GET /admin/07 sECRET abab GET /admin/49'))(0).slice(0, 1));
    expect(out.alerts.map((a) => [a.sigId, a.metadata?.match_offset])).toEqual([[1000107, 3], [1000149, 43], [2000001, 31], [2000002, 38]]);
  });
});
