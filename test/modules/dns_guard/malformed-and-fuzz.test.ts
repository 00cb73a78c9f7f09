import { beforeAll, describe, expect, it } from 'vitest';
import type { DecodedPacket } from '../../../host/packet/types.js';
import { item, packet } from '../../host/wasm/helpers.js';
import { compiledModule, instance, run } from './support.js';
import { dnsMessage, ipv4, nameRdata, tcpFramed } from './dns-wire.js';
import { fuzzBatches, mutate, Rng } from './mutate.js';

beforeAll(async () => { await compiledModule('dns_guard'); }, 180_000);

const udp = (msg: Uint8Array, flowId = 1) => item(packet({ proto: 'udp', dstPort: 53, payload: msg }), { flowId });
const header = (qd: number, an = 0) => [0x12, 0x34, 0x01, 0x00, 0, qd, 0, an, 0, 0, 0, 0];

describe('dns_guard on hostile names', () => {
  it('self, forward and out-of-bounds pointers, hop chains, 255-byte names, reserved label types: alert 1002010, no trap', async () => {
    const inst = await instance('dns_guard');
    const selfPointer = Uint8Array.from([...header(1), 0xc0, 12, 0, 1, 0, 1]);
    const forward = Uint8Array.from([...header(1), 0xc0, 20, 0, 1, 0, 1, 0, 0, 1, 0x61, 0]);
    const outside = Uint8Array.from([...header(1), 0x3f, 0xff, 0, 1, 0, 1]);
    const farPointer = Uint8Array.from([...header(1), 0xff, 0xff, 0, 1, 0, 1]);
    const tooLong = Uint8Array.from([...header(1), ...Array.from({ length: 5 }, () => [63, ...new Array(63).fill(0x61)]).flat(), 0, 0, 1, 0, 1]);
    const reserved = Uint8Array.from([...header(1), 0x41, 0x61, 0, 0, 1, 0, 1]);
    // 40 questions, each a bare pointer to the previous one: question k needs k hops
    const chain = [...header(40), 0, 0, 1, 0, 1];
    let prev = 12;
    for (let k = 1; k < 40; k++) { const at = chain.length; chain.push(0xc0 | (prev >> 8), prev & 0xff, 0, 1, 0, 1); prev = at; }
    const cases = [selfPointer, forward, outside, farPointer, tooLong, reserved, Uint8Array.from(chain), new Uint8Array(5)];
    const out = run(inst, cases.map((c, i) => udp(c, i + 1)));
    expect(out.alerts.map((a) => a.index)).toEqual(cases.map((_, i) => i));
    expect(out.alerts.every((a) => a.sigId === 1002010 && a.severity === 3)).toBe(true);
    expect(out.alerts.map((a) => a.metadata?.reason)).toEqual([
      'question 0: compression pointer does not point backwards',
      'question 0: compression pointer does not point backwards',
      'question 0: name runs past the end of the message',
      'question 0: compression pointer does not point backwards',
      'question 0: name longer than 255 bytes',
      'question 0: reserved label type',
      'question 33: too many compression pointers',
      'shorter than the 12-byte header',
    ]);
    expect(inst.stats.traps).toBe(0);
  });

  it('an answer whose rdata length lies, and a CNAME rdata with a loop, are reported, not trusted', async () => {
    const inst = await instance('dns_guard');
    const good = dnsMessage({ response: true, questions: [{ name: 'a.example' }], answers: [{ name: 12, type: 'A', rdata: ipv4('198.18.0.1') }] });
    const lying = good.slice();
    lying[lying.length - 5] = 0x40; // rdlength 4 -> 64
    const loopy = dnsMessage({ response: true, questions: [{ name: 'a.example' }], answers: [{ name: 12, type: 'CNAME', rdata: Uint8Array.from([0xc0, 0xff]) }] });
    // point the CNAME rdata at itself
    const at = loopy.length - 2;
    loopy[at + 1] = at & 0xff;
    const out = run(inst, [udp(lying, 1), udp(loopy, 2)]);
    expect(out.alerts.map((a) => [a.index, a.sigId, a.metadata?.reason])).toEqual([[0, 1002010, 'answer 0 rdata length 64 runs past the message']]);
    // the loop only breaks the rdata text: the answer is still listed, without rdata
    expect((out.events[0]!.data as { answers: unknown[] }).answers).toEqual([{ rrname: 'a.example', rrtype: 'CNAME', ttl: 300 }]);
  });

  it('1 MB of garbage over UDP and TCP: no trap, memory does not grow with it', async () => {
    const inst = await instance('dns_guard');
    const rng = new Rng(7);
    const garbage = new Uint8Array(1 << 20);
    for (let i = 0; i < garbage.length; i++) garbage[i] = rng.below(256);
    run(inst, [udp(dnsMessage({ questions: [{ name: 'warm.example' }] }))]);
    const before = inst.memoryBytes;
    for (let round = 0; round < 3; round++) {
      const tcp = item(packet({ proto: 'tcp', dstPort: 53, payload: garbage.subarray(0, 1400) }), { flowId: 50 + round, stream: garbage, streamNew: 1400 });
      const big = item(packet({ proto: 'udp', dstPort: 53, payload: garbage.subarray(0, 65000) }), { flowId: 60 + round });
      run(inst, [tcp, big]);
      inst.flowEnded(50 + round);
    }
    expect(inst.stats.traps).toBe(0);
    expect(inst.memoryBytes - before).toBeLessThanOrEqual(1 << 16);
  });
});

describe('dns_guard fuzz', () => {
  it('1,000,000 mutated messages over UDP and TCP: no trap, no error, bounded memory', async () => {
    const inst = await instance('dns_guard', { blocklist: ['evil.example'], rate_queries: 50 });
    const seeds = [
      dnsMessage({ questions: [{ name: 'www.example.com' }] }),
      dnsMessage({ questions: [{ name: 'c2.evil.example', type: 'TXT' }, { name: 'x.example', type: 'AAAA' }] }),
      dnsMessage({
        response: true, questions: [{ name: 'www.example.com' }],
        answers: [{ name: 12, type: 'CNAME', rdata: Uint8Array.from([3, 0x77, 0x65, 0x62, 0xc0, 16]) }, { name: 'web.example.com', type: 'A', rdata: ipv4('198.18.1.1') },
          { name: 12, type: 'MX', rdata: Uint8Array.from([0, 10, ...nameRdata('mail.example')]) }, { name: 12, type: 'TXT', rdata: Uint8Array.from([3, 0x61, 0x62, 0x63, 1, 0x0a]) }],
      }),
      dnsMessage({ response: true, rcode: 3, questions: [{ name: 'a'.repeat(63) + '.tunnel.example' }] }),
    ];
    const N = 1_000_000;
    const BATCH = 256;
    const rng = new Rng(20261122);
    const udpBase = packet({ proto: 'udp', dstPort: 53, payload: new Uint8Array(600) });
    const tcpBase = packet({ proto: 'tcp', dstPort: 53, payload: new Uint8Array(1) });
    const bufs = Array.from({ length: BATCH }, () => new Uint8Array(udpBase.data.length));
    const streams = Array.from({ length: BATCH }, () => new Uint8Array(1400));
    fuzzBatches(inst, N, BATCH, (items, b) => {
      for (let i = 0; i < BATCH; i++) {
        const seed = seeds[rng.below(seeds.length)]!;
        if (rng.below(4) === 0) {
          // TCP: one or two framed messages, possibly with a lying length prefix
          const s = streams[i]!;
          const n = mutate(rng, tcpFramed(seed, seed), s);
          items[i] = { pkt: tcpBase, flowId: 1_000 + (b % 64), direction: 0, flags: 0, stream: s.subarray(0, n), streamNew: n };
        } else {
          const f = bufs[i]!;
          f.set(udpBase.data.subarray(0, udpBase.payloadOffset));
          const n = mutate(rng, seed, f.subarray(udpBase.payloadOffset));
          const pkt: DecodedPacket = { ...udpBase, data: f.subarray(0, udpBase.payloadOffset + n), payloadLength: n };
          items[i] = { pkt, flowId: 1 + i, direction: rng.below(2) as 0 | 1, flags: 0, stream: null, streamNew: 0 };
        }
      }
    }, (b) => { if (b % 64 === 63) for (let f = 0; f < 64; f++) inst.flowEnded(1_000 + f); });
  }, 300_000);
});
