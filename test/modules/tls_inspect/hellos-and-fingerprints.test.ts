import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { Verdict } from '../../../host/verdict.js';
import type { InspectItem } from '../../../host/wasm/types.js';
import { item, packet } from '../../host/wasm/helpers.js';
import { compiledModule, instance, run, streamItems } from '../dns_guard/support.js';
import { FOXIO_EXAMPLE, clientHello, dtlsRecord, isGrease, records, serverHello, type ClientHelloSpec } from './tls-wire.js';

beforeAll(async () => { await compiledModule('tls_inspect'); }, 180_000);

const toServer = (payload: Uint8Array, flowId = 1): InspectItem => item(packet({ dstPort: 443, payload }), { flowId });
const toClient = (payload: Uint8Array, flowId = 1): InspectItem =>
  item(packet({ src: '198.18.0.2', dst: '198.18.0.1', srcPort: 443, dstPort: 40000, payload }), { flowId, direction: 1 });
/** One segment carrying the whole stream so far. */
const seg = (it: InspectItem, data: Uint8Array): InspectItem => ({ ...it, stream: data, streamNew: data.length });

// JA3 from the spec's definition, computed here from the same lists.
function expectedJa3(spec: ClientHelloSpec): string {
  const j = (xs: number[] | undefined) => (xs ?? []).filter((v) => !isGrease(v)).join('-');
  return `${spec.version ?? 0x0303},${j(spec.ciphers)},${j(spec.extensions)},${j(spec.groups ?? (spec.extensions.includes(10) ? [0x1d] : []))},${j(spec.points ?? (spec.extensions.includes(11) ? [0] : []))}`;
}

describe('tls_inspect fingerprints', () => {
  it('the FoxIO JA4 example ClientHello gives the published t13d1516h2_8daaf6152771_e5627efa2ab1', async () => {
    const inst = await instance('tls_inspect');
    const data = records(clientHello(FOXIO_EXAMPLE));
    const out = run(inst, [seg(toServer(data), data)]);
    expect(out.alerts).toEqual([]);
    expect(out.events).toHaveLength(1);
    const ev = out.events[0]!.data as Record<string, unknown>;
    expect(ev.ja4).toBe('t13d1516h2_8daaf6152771_e5627efa2ab1');
    expect(ev.sni).toBe('www.example.com');
    expect(ev.version).toBe('TLS 1.3');
    expect(ev.client_alpns).toEqual(['h2', 'http/1.1']);
    const ja3 = ev.ja3 as { hash: string; string: string };
    expect(ja3.string).toBe(expectedJa3(FOXIO_EXAMPLE));
    expect(ja3.hash).toBe(createHash('md5').update(ja3.string).digest('hex'));
  });

  it('a published Chrome 143 ClientHello (browserleaks output) gives its published JA3 hash, JA4 and JA4_r', async () => {
    // Lists in wire order from the published ja3_text; signature algorithms and ALPN from its ja4_r.
    const chrome: ClientHelloSpec = {
      ciphers: [4865, 4866, 4867, 49195, 49199, 49196, 49200, 52393, 52392, 49171, 49172, 156, 157, 47, 53],
      extensions: [45, 51, 16, 65037, 23, 17613, 0, 11, 10, 43, 65281, 35, 18, 5, 13, 27],
      groups: [4588, 29, 23, 24], points: [0],
      sigAlgs: [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601],
      alpn: ['h2', 'http/1.1'], versions: [0x0304, 0x0303], sni: 'tls.browserleaks.com',
    };
    const inst = await instance('tls_inspect');
    const data = records(clientHello(chrome));
    const ev = run(inst, [seg(toServer(data), data)]).events[0]!.data as { ja3: { hash: string; string: string }; ja4: string; ja4_r: string };
    expect(ev.ja3.string).toBe('771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,45-51-16-65037-23-17613-0-11-10-43-65281-35-18-5-13-27,4588-29-23-24,0');
    expect(ev.ja3.hash).toBe('98487aa16281980e7d1120d399efb6a4');
    expect(ev.ja4).toBe('t13d1516h2_8daaf6152771_d8a2da3f94cd');
    expect(ev.ja4_r).toBe('t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_0005,000a,000b,000d,0012,0017,001b,0023,002b,002d,0033,44cd,fe0d,ff01_0403,0804,0401,0503,0805,0501,0806,0601');
  });

  it('GREASE values and extension order do not change JA4; JA3 keeps wire order', async () => {
    const inst = await instance('tls_inspect');
    const shuffled: ClientHelloSpec = {
      ...FOXIO_EXAMPLE,
      ciphers: [0x1a1a, ...FOXIO_EXAMPLE.ciphers],
      extensions: [0x0a0a, ...[...FOXIO_EXAMPLE.extensions].reverse(), 0xfafa],
      versions: [0x2a2a, 0x0304, 0x0303],
      groups: [0x3a3a, 0x001d],
    };
    const a = records(clientHello(shuffled));
    const out = run(inst, [seg(toServer(a), a)]);
    const ev = out.events[0]!.data as { ja4: string; ja3: { string: string; hash: string } };
    expect(ev.ja4).toBe('t13d1516h2_8daaf6152771_e5627efa2ab1');
    expect(ev.ja3.string).toBe(expectedJa3(shuffled));
    expect(ev.ja3.string).not.toContain('6682'); // 0x1a1a
  });

  it('JA4 parts follow the spec for no SNI, no ALPN, TLS 1.2 only, odd ALPN bytes; b and c are SHA-256 truncations', async () => {
    const inst = await instance('tls_inspect');
    const plain: ClientHelloSpec = { ciphers: [0xc02f, 0x009c], extensions: [0x000a, 0x000b, 0x000d], sigAlgs: [0x0401, 0x0403] };
    const oddAlpn: ClientHelloSpec = { ciphers: [0x1301], extensions: [0x0000, 0x0010, 0x002b], alpn: ['\u00ab\u0001x'], versions: [0x0304] };
    const items = [plain, oddAlpn].map((s, i) => { const d = records(clientHello(s)); return seg(toServer(d, i + 1), d); });
    const out = run(inst, items);
    const sha12 = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 12);
    expect((out.events[0]!.data as { ja4: string }).ja4).toBe(`t12i020300_${sha12('009c,c02f')}_${sha12('000a,000b,000d_0401,0403')}`);
    // first byte of "\u00ab" in UTF-8 is 0xc2, last byte 'x' is alphanumeric but the first is not: hex first/last chars
    expect((out.events[1]!.data as { ja4: string }).ja4).toBe(`t13d0103c8_${sha12('1301')}_${sha12('002b')}`);
  });

  it('a ClientHello split across records and TCP segments is read once complete', async () => {
    const inst = await instance('tls_inspect');
    const data = records(clientHello(FOXIO_EXAMPLE), 50); // many small records
    const make = (p: Uint8Array) => toServer(p, 3);
    const items = streamItems(make, data, [1, 3, 7, 60, 120, data.length - 1]);
    const out = run(inst, items);
    expect(out.verdicts).toEqual(items.map(() => Verdict.CONTINUE));
    expect(out.events.map((e) => e.index)).toEqual([items.length - 1]);
    expect((out.events[0]!.data as { ja4: string }).ja4).toBe('t13d1516h2_8daaf6152771_e5627efa2ab1');
  });

  it('the ServerHello gives a JA3S and the negotiated version; the flow is then allowed', async () => {
    const inst = await instance('tls_inspect');
    const ch = records(clientHello(FOXIO_EXAMPLE));
    const sh = records(serverHello({ cipher: 0x1301, extensions: [{ type: 0x002b, data: Uint8Array.from([3, 4]) }, { type: 0x0033, data: new Uint8Array(36) }] }), 16384, 0x0303);
    const out = run(inst, [seg(toServer(ch, 5), ch), seg(toClient(sh, 5), sh)]);
    expect(out.verdicts).toEqual([Verdict.CONTINUE, Verdict.ALLOW_FLOW]);
    const ev = out.events[1]!.data as { ja3s: { hash: string; string: string }; version: string; sni: string; cipher_suite: string };
    expect(ev.version).toBe('TLS 1.3');
    expect(ev.sni).toBe('www.example.com');
    expect(ev.cipher_suite).toBe('0x1301');
    expect(ev.ja3s.string).toBe('771,4865,43-51');
    expect(ev.ja3s.hash).toBe(createHash('md5').update('771,4865,43-51').digest('hex'));
  });

  it('a client that sends records after its hello ends the handshake even when the ServerHello is never seen (ingress-only capture)', async () => {
    const inst = await instance('tls_inspect');
    const ch = records(clientHello(FOXIO_EXAMPLE));
    // TLS 1.3 client second flight: change_cipher_spec (compat) and an encrypted Finished in application_data.
    const flight = Uint8Array.from([20, 3, 3, 0, 1, 1, 23, 3, 3, 0, 5, 1, 2, 3, 4, 5]);
    const both = new Uint8Array(ch.length + flight.length);
    both.set(ch);
    both.set(flight, ch.length);
    const out = run(inst, [seg(toServer(ch, 7), ch), { ...toServer(flight, 7), stream: both, streamNew: flight.length }]);
    expect(out.verdicts).toEqual([Verdict.CONTINUE, Verdict.ALLOW_FLOW]);
    // The hello alone, repeated by a retransmission that adds nothing, keeps waiting for the server.
    const again = await instance('tls_inspect');
    const wait = run(again, [seg(toServer(ch, 8), ch), seg(toServer(ch, 8), ch)]);
    expect(wait.verdicts).toEqual([Verdict.CONTINUE, Verdict.CONTINUE]);
  });

  it('DTLS ClientHello over UDP: d-prefixed JA4 with the DTLS version', async () => {
    const inst = await instance('tls_inspect');
    const spec: ClientHelloSpec = { dtls: true, ciphers: [0xc02b, 0xc02f], extensions: [0x0000, 0x000a, 0x000b, 0x000d, 0x0017], sni: 'dtls.example' };
    const dgram = dtlsRecord(clientHello(spec));
    const out = run(inst, [item(packet({ proto: 'udp', dstPort: 4433, payload: dgram }), { flowId: 9 })]);
    const ev = out.events[0]!.data as { ja4: string; version: string; ja3: { string: string }; sni: string };
    expect(ev.sni).toBe('dtls.example');
    expect(ev.version).toBe('DTLS 1.2');
    expect(ev.ja4.slice(0, 10)).toBe('dd2d020500');
    expect(ev.ja3.string.startsWith('65277,49195-49199,0-10-11-13-23,')).toBe(true);
  });

  it('a non-TLS stream is let go at once (ALLOW_FLOW), non-DTLS datagrams after 8 are waited through; no alert', async () => {
    const inst = await instance('tls_inspect');
    const http = new TextEncoder().encode('GET / HTTP/1.1\r\n\r\n');
    const dns = Array.from({ length: 9 }, () => item(packet({ proto: 'udp', dstPort: 53, payload: 'abc' }), { flowId: 2 }));
    const out = run(inst, [seg(toServer(http, 1), http), ...dns]);
    expect(out.verdicts).toEqual([Verdict.ALLOW_FLOW, ...new Array(8).fill(Verdict.CONTINUE), Verdict.ALLOW_FLOW]);
    expect(out.alerts).toEqual([]);
  });
});

describe('tls_inspect blocklists', () => {
  const hello = (sni: string) => records(clientHello({ ...FOXIO_EXAMPLE, sni }));

  it('SNI suffix list, JA3 and JA4 lists each alert with their sid and apply block_action', async () => {
    const j3 = createHash('md5').update(expectedJa3({ ...FOXIO_EXAMPLE, sni: 'x' })).digest('hex');
    const inst = await instance('tls_inspect', { sni_blocklist: ['bad.example'], ja4_blocklist: ['T13D1516H2_8DAAF6152771_E5627EFA2AB1'] });
    const items = ['bad.example', 'WWW.Bad.Example', 'good.example'].map((s, i) => { const d = hello(s); return seg(toServer(d, i + 1), d); });
    const out = run(inst, items);
    expect(out.verdicts).toEqual([Verdict.BLOCK_FLOW, Verdict.BLOCK_FLOW, Verdict.BLOCK_FLOW]);
    expect(out.alerts.map((a) => [a.index, a.sigId])).toEqual([[0, 1003001], [0, 1003003], [1, 1003001], [1, 1003003], [2, 1003003]]);
    const inst2 = await instance('tls_inspect', { ja3_blocklist: [j3], block_action: 'drop' });
    const d = hello('fine.example');
    const out2 = run(inst2, [seg(toServer(d), d)]);
    expect(out2.verdicts).toEqual([Verdict.DROP]);
    expect(out2.alerts.map((a) => a.sigId)).toEqual([1003002]);
    expect(out2.alerts[0]!.metadata).toMatchObject({ ja3: j3, sni: 'fine.example', action: 'drop' });
  });

  it('old versions alert (sid 1003004) from both sides, min_version configurable', async () => {
    const inst = await instance('tls_inspect');
    const ch = records(clientHello({ version: 0x0301, ciphers: [0x002f], extensions: [0x0000] }));
    const sh = records(serverHello({ version: 0x0301, cipher: 0x002f }));
    const out = run(inst, [seg(toServer(ch, 4), ch), seg(toClient(sh, 4), sh)]);
    expect(out.alerts.map((a) => [a.index, a.sigId, a.metadata?.side])).toEqual([[0, 1003004, 'client'], [1, 1003004, 'server']]);
    const off = await instance('tls_inspect', { min_version: 'off' });
    expect(run(off, [seg(toServer(ch, 4), ch)]).alerts).toEqual([]);
  });

  it('bad config values are refused naming the field', async () => {
    for (const [cfg, msg] of [
      [{ ja3_blocklist: ['xyz'] }, /ja3_blocklist\[0\] \("xyz"\) must be an MD5/],
      [{ ja4_blocklist: ['t13d'] }, /ja4_blocklist\[0\]/],
      [{ sni_blocklist: ['bad host'] }, /sni_blocklist\[0\]/],
      [{ min_version: '2.0' }, /min_version must be one of/],
      [{ ports: [0] }, /ports\[0\] must be a port number/],
    ] as const) {
      await expect(instance('tls_inspect', cfg)).rejects.toThrow(msg);
    }
  });
});
