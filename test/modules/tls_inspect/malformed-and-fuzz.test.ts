import { beforeAll, describe, expect, it } from 'vitest';
import type { InspectItem } from '../../../host/wasm/types.js';
import { Verdict } from '../../../host/verdict.js';
import { item, packet } from '../../host/wasm/helpers.js';
import { compiledModule, instance, run } from '../dns_guard/support.js';
import { fuzzBatches, mutate, Rng } from '../dns_guard/mutate.js';
import { FOXIO_EXAMPLE, clientHello, dtlsRecord, records, serverHello } from './tls-wire.js';

beforeAll(async () => { await compiledModule('tls_inspect'); }, 180_000);

const toServer = (data: Uint8Array, flowId = 1): InspectItem => ({ ...item(packet({ dstPort: 443, payload: data.subarray(0, 1) }), { flowId }), stream: data, streamNew: data.length });

/** The FoxIO hello with the byte at `at` (offset in the handshake message) replaced. */
function patched(at: number, value: number[]): Uint8Array {
  const hs = clientHello(FOXIO_EXAMPLE);
  hs.set(value, at);
  return records(hs);
}

describe('tls_inspect on lying lengths', () => {
  // Offsets in the handshake message: 4 header, 2 version, 32 random, 1+32 session id, then 2 cipher length.
  const CIPHER_LEN = 4 + 2 + 32 + 1 + 32;
  const EXT_LEN = CIPHER_LEN + 2 + 30 + 2;

  it('each lying length gives sid 1003010 with the field named, and no trap', async () => {
    const inst = await instance('tls_inspect');
    const hs = clientHello(FOXIO_EXAMPLE);
    const truncatedExt = (() => { const h = hs.slice(0, hs.length - 3); h[1] = 0; h[2] = (h.length - 4) >> 8; h[3] = (h.length - 4) & 0xff; return records(h); })();
    const cases: [Uint8Array, RegExp][] = [
      [patched(4 + 2 + 32, [200]), /session id length 200 over 32/],
      [patched(CIPHER_LEN, [0xff, 0xf0]), /cipher suites length 65520 runs past/],
      [patched(CIPHER_LEN, [0, 3]), /cipher suites length 3 is not a positive even number/],
      [patched(EXT_LEN, [0xff, 0xff]), /extensions length 65535 runs past/],
      [patched(EXT_LEN + 2 + 2, [0x7f, 0xff]), /extension 27 length 32767 runs past the extensions/],
      [truncatedExt, /extensions length \d+ runs past the message/],
      [Uint8Array.from(new Array(33).fill([22, 3, 1, 0, 0]).flat()), /more than 32 empty records in a row/],
      [Uint8Array.from([22, 3, 1, 0x50, 0]), /record length 20480 out of range/],
      [Uint8Array.from([22, 3, 1, 0, 4, 1, 0xff, 0xff, 0xff]), /hello length 16777215 over 65536/],
      [Uint8Array.from([22, 3, 1, 0, 4, 1, 0, 0, 0, 21, 3, 1, 0, 2, 2, 40]), /ClientHello shorter than version/],
    ];
    const out = run(inst, cases.map(([d], i) => toServer(d, i + 1)));
    expect(out.alerts.map((a) => a.index)).toEqual(cases.map((_, i) => i));
    for (const [i, [, re]] of cases.entries()) {
      expect(out.alerts[i]!.sigId).toBe(1003010);
      expect(String(out.alerts[i]!.metadata?.reason)).toMatch(re);
    }
    expect(out.verdicts.every((v) => v === Verdict.CONTINUE || v === Verdict.ALLOW_FLOW)).toBe(true);
    expect(inst.stats.traps).toBe(0);
  });

  it('SNI and ALPN inner lengths that lie are caught inside their extension', async () => {
    const inst = await instance('tls_inspect');
    const hs = clientHello({ ciphers: [0x1301], extensions: [0x0000, 0x0010], sni: 'a.example', alpn: ['h2'] });
    const sni = hs.slice();
    const i = sni.indexOf(0x61) - 2; // server name length, just before the name
    sni[i] = 0x40;
    const alpn = hs.slice();
    alpn[alpn.length - 3] = 9; // "h2" length byte
    const out = run(inst, [toServer(records(sni), 1), toServer(records(alpn), 2)]);
    expect(out.alerts.map((a) => a.metadata?.reason)).toEqual(['server name length 16393 runs past the list', 'ALPN protocol length 9 runs past the list']);
  });

  it('a ServerHello that lies gets sid 1003011; DTLS records that lie are caught too', async () => {
    const inst = await instance('tls_inspect');
    const sh = serverHello({ cipher: 0x1301 });
    sh[4 + 2 + 32] = 60;
    const d = dtlsRecord(clientHello({ dtls: true, ciphers: [0xc02b], extensions: [] }));
    d[11] = 0xff;
    const out = run(inst, [
      { ...item(packet({ src: '198.18.0.2', dst: '198.18.0.1', srcPort: 443, dstPort: 40000, payload: 'x' }), { flowId: 1, direction: 1 }), stream: records(sh), streamNew: records(sh).length },
      item(packet({ proto: 'udp', dstPort: 4433, payload: d }), { flowId: 2 }),
    ]);
    expect(out.alerts.map((a) => [a.sigId, a.metadata?.reason])).toEqual([
      [1003011, 'session id length 60 is wrong'],
      [1003010, `record length ${0xff00 | d[12]!} runs past the datagram`],
    ]);
  });

  it('1 MB of garbage and a 1 MB stream of tiny records: no trap, memory bounded', async () => {
    const inst = await instance('tls_inspect');
    const rng = new Rng(3);
    const garbage = new Uint8Array(1 << 20);
    for (let i = 0; i < garbage.length; i++) garbage[i] = rng.below(256);
    garbage[0] = 22; garbage[1] = 3;
    // 1 MB of 1-byte handshake records that never complete a hello over 64 KiB
    const tiny = new Uint8Array(1 << 20);
    for (let o = 0; o + 6 <= tiny.length; o += 6) tiny.set([22, 3, 1, 0, 1, o === 0 ? 1 : 0xff], o);
    run(inst, [toServer(records(clientHello(FOXIO_EXAMPLE)), 99)]);
    const before = inst.memoryBytes;
    const out = run(inst, [toServer(garbage, 1), toServer(tiny, 2)]);
    expect(inst.stats.traps).toBe(0);
    expect(out.alerts.map((a) => a.sigId)).toEqual([1003010, 1003010]);
    expect(inst.memoryBytes - before).toBeLessThanOrEqual(1 << 16);
  });
});

describe('tls_inspect fuzz', () => {
  it('1,000,000 mutated ClientHellos, ServerHellos and DTLS datagrams: no trap, bounded memory', async () => {
    const inst = await instance('tls_inspect', { sni_blocklist: ['bad.example'], ja3_blocklist: ['0'.repeat(32)] });
    const seeds = [
      records(clientHello(FOXIO_EXAMPLE)),
      records(clientHello({ ...FOXIO_EXAMPLE, sni: 'x.bad.example', ciphers: [0x0a0a, 0x1301], extensions: [0x0a0a, 0x0000, 0x0010, 0x002b, 0x000d] }), 40),
      records(serverHello({ cipher: 0x1301, extensions: [{ type: 0x002b, data: Uint8Array.from([3, 4]) }, { type: 0x0010, data: Uint8Array.from([0, 3, 2, 0x68, 0x32]) }] })),
    ];
    const dtlsSeed = dtlsRecord(clientHello({ dtls: true, ciphers: [0xc02b, 0xc02f], extensions: [0x0000, 0x000a, 0x000b, 0x000d, 0x0010] }));
    const N = 1_000_000;
    const BATCH = 256;
    const rng = new Rng(11);
    const tcpTo = packet({ dstPort: 443, payload: 'x' });
    const tcpFrom = packet({ src: '198.18.0.2', dst: '198.18.0.1', srcPort: 443, dstPort: 40000, payload: 'x' });
    const udpBase = packet({ proto: 'udp', dstPort: 4433, payload: new Uint8Array(400) });
    const bufs = Array.from({ length: BATCH }, () => new Uint8Array(1024));
    fuzzBatches(inst, N, BATCH, (items, b) => {
      for (let i = 0; i < BATCH; i++) {
        const buf = bufs[i]!;
        const flowId = 1 + ((b * BATCH + i) % 4096);
        if (rng.below(8) === 0) {
          buf.set(udpBase.data.subarray(0, udpBase.payloadOffset));
          const n = mutate(rng, dtlsSeed, buf.subarray(udpBase.payloadOffset, udpBase.payloadOffset + 400));
          items[i] = { pkt: { ...udpBase, data: buf.subarray(0, udpBase.payloadOffset + n), payloadLength: n }, flowId, direction: 0, flags: 0, stream: null, streamNew: 0 };
        } else {
          const k = rng.below(seeds.length);
          const n = mutate(rng, seeds[k]!, buf);
          const server = k === 2;
          items[i] = { pkt: server ? tcpFrom : tcpTo, flowId, direction: server ? 1 : 0, flags: 0, stream: buf.subarray(0, n), streamNew: 1 + rng.below(n) };
        }
      }
    }, (b) => { if (b % 16 === 15) for (let f = 1; f <= 4096; f++) inst.flowEnded(f); });
    expect(inst.stats.events).toBeGreaterThan(1000);
  }, 300_000);
});
