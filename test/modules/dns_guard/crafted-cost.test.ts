// CPU a crafted DNS message can cost. Compression lets a 2-byte pointer
// stand for a 255-byte name, and a message may hold 256 records: a parser
// that walks every pointer to its end again turns a 4 KB packet into 65,000
// name bytes of work.
import { beforeAll, describe, expect, it } from 'vitest';
import { item, packet } from '../../host/wasm/helpers.js';
import { compareCost } from '../cost.js';
import { compiledModule, instance, run } from './support.js';
import { encodeName } from './dns-wire.js';

beforeAll(async () => { await compiledModule('dns_guard'); }, 180_000);

const u16 = (n: number) => [(n >> 8) & 0xff, n & 0xff];
const LONG = Array.from({ length: 4 }, () => 'a'.repeat(62)).join('.') + '.x';
const LABELS = Array.from({ length: 127 }, () => 'a').join('.');
const header = (flags: number, qd: number, an: number) => [0, 1, ...u16(flags), ...u16(qd), ...u16(an), 0, 0, 0, 0];

/** A response: one question, then `n` CNAME answers whose names and rdata are pointers at offsets `targets(i)`. */
function pointerFlood(name: string, targets: (i: number) => number, n = 255): Uint8Array {
  const out = [...header(0x8180, 1, n), ...encodeName(name), 0, 1, 0, 1];
  for (let i = 0; i < n; i++) { const t = targets(i); out.push(0xc0, t, 0, 5, 0, 1, 0, 0, 0, 1, 0, 2, 0xc0, t); }
  return Uint8Array.from(out);
}

/** The same question and size, the rest of the message bytes nothing reads. */
function plain(name: string, size: number): Uint8Array {
  const m = [...header(0x8180, 1, 0), ...encodeName(name), 0, 1, 0, 1];
  return Uint8Array.from([...m, ...new Array(size - m.length).fill(0)]);
}

const udp = (payload: Uint8Array) => (round: number) =>
  Array.from({ length: 16 }, (_, i) => item(packet({ proto: 'udp', dstPort: 53, payload }), { flowId: round * 16 + i + 1 }));

describe('dns_guard cost of compression pointers', () => {
  // Against the same message cut after its first 32 answers (the ones kept
  // and decoded for the event): the other 223 are only walked to find their
  // end. Measured before the fix: 124, 268 and 244 us a packet, 5-8x; after:
  // 20, 50 and 45 us, 1.1x. (The 32 kept names still cost their decoding:
  // 2 bytes of pointer each stand for up to 255 bytes of name.)
  it.each([
    ['255 pointers to a 253-byte name', LONG, () => 12],
    ['255 pointers to 127 one-byte labels', LABELS, () => 12],
    ['255 pointers each into a different label of 127', LABELS, (i: number) => 12 + 2 * (i % 121)],
  ])('%s: the records past the 32 kept add less than 2x to the cost', async (_, name, targets) => {
    const inst = await instance('dns_guard', { events: false });
    const crafted = pointerFlood(name, targets);
    const c = compareCost(inst, udp(pointerFlood(name, targets, 32)), udp(crafted), 5);
    expect(c.ratio, JSON.stringify(c)).toBeLessThan(3);
    expect(run(inst, udp(crafted)(99)).alerts).toEqual([]);
  }, 120_000);

  // The usual answer points at the question, or into it; the 32 kept ones
  // were each decoded label by label again. Measured before the fixes: ~50
  // us a packet, 24-28x the plain message; after: 6-13 us, 2-3x.
  it.each([
    ['point at', () => 12],
    ['point into different labels of', (i: number) => 12 + 2 * (i % 121)],
  ])('32 kept answers that %s a question of 127 one-byte labels cost no more than 8x a plain message of the same size', async (_, targets) => {
    const inst = await instance('dns_guard', { events: false });
    const crafted = pointerFlood(LABELS, targets);
    const c = compareCost(inst, udp(plain(LABELS, crafted.length)), udp(crafted), 5);
    expect(c.ratio, JSON.stringify(c)).toBeLessThan(8);
  }, 120_000);

  it('names that point into the question, after labels of their own or not, read as the rest of it', async () => {
    const inst = await instance('dns_guard');
    // question "aaaa.bbbbbbbb.example" at 12: "bbbbbbbb" starts at 17, "example" at 26
    const out = [...header(0x8180, 1, 3), ...encodeName('aaaa.bbbbbbbb.example'), 0, 1, 0, 1];
    out.push(0xc0, 17, 0, 5, 0, 1, 0, 0, 0, 1, 0, 2, 0xc0, 26);
    out.push(3, 0x77, 0x77, 0x77, 0xc0, 26, 0, 5, 0, 1, 0, 0, 0, 1, 0, 2, 0xc0, 17);
    out.push(0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 1, 0, 4, 1, 0x7a, 0xc0, 17);
    const r = run(inst, [item(packet({ proto: 'udp', dstPort: 53, payload: Uint8Array.from(out) }), { flowId: 1 })]);
    const ev = r.events[0]!.data as { answers: { rrname: string; rdata: string }[] };
    expect(ev.answers.map((a) => [a.rrname, a.rdata])).toEqual([
      ['bbbbbbbb.example', 'example'], ['www.example', 'bbbbbbbb.example'], ['aaaa.bbbbbbbb.example', 'z.bbbbbbbb.example'],
    ]);
  });

  it('answers and CNAME rdata that point at the question carry its name in the event, and the question is still matched', async () => {
    const inst = await instance('dns_guard', { blocklist: ['Bad.Example'] });
    const msg = pointerFlood('x.bad.example', () => 12, 3);
    const r = run(inst, [item(packet({ proto: 'udp', dstPort: 53, payload: msg }), { flowId: 1 })]);
    expect(r.alerts.map((a) => a.metadata?.rrname)).toEqual(['x.bad.example']);
    const ev = r.events[0]!.data as { answers: { rrname: string; rdata: string }[] };
    expect(ev.answers.map((a) => [a.rrname, a.rdata])).toEqual(Array(3).fill(['x.bad.example', 'x.bad.example']));
  });

  it('a pointer chain too long, or a name too long, in a record past the kept ones is still malformed', async () => {
    const inst = await instance('dns_guard');
    // 40 answers pointing at the question; then one of 122 bytes of labels
    // and a pointer to the 253-byte question: what the walk learnt of the
    // question must not let this one pass.
    const out = [...header(0x8180, 1, 41), ...encodeName(LONG), 0, 1, 0, 1];
    for (let i = 0; i < 40; i++) out.push(0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 1, 2, 3, 4);
    out.push(...encodeName('b'.repeat(60) + '.' + 'b'.repeat(60)).slice(0, -1), 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 1, 2, 3, 4);
    const r = run(inst, [item(packet({ proto: 'udp', dstPort: 53, payload: Uint8Array.from(out) }), { flowId: 1 })]);
    expect(r.alerts.map((a) => a.metadata?.reason)).toEqual(['answer 40: name longer than 255 bytes']);
  });
});
