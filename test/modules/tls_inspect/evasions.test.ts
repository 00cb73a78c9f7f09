// Hellos that a real endpoint reads but an inspector reading only the first
// handshake message would miss (audit of tls_inspect, findings F1, F4, F5, F7):
// a second ClientHello after a HelloRetryRequest, empty records around the
// hello, junk datagrams before a DTLS hello, a DTLS hello in fragments.
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { Verdict } from '../../../host/verdict.js';
import type { InspectItem } from '../../../host/wasm/types.js';
import { item, packet } from '../../host/wasm/helpers.js';
import { Rng } from '../dns_guard/mutate.js';
import { compiledModule, instance, run } from '../dns_guard/support.js';
import { FOXIO_EXAMPLE, HRR_RANDOM, clientHello, concat, dtlsRecord, record, records, serverHello, type ClientHelloSpec } from './tls-wire.js';

beforeAll(async () => { await compiledModule('tls_inspect'); }, 180_000);

const BLOCK_EVIL = { sni_blocklist: ['evil.example'] };
const hello = (sni: string, max = 16384) => records(clientHello({ ...FOXIO_EXAMPLE, sni }), max, 0x0303);
const tls13 = { type: 0x002b, data: Uint8Array.from([3, 4]) };
const helloRetryRequest = records(serverHello({ cipher: 0x1301, random: HRR_RANDOM, extensions: [tls13, { type: 0x0033, data: Uint8Array.from([0, 0x1d]) }] }), 16384, 0x0303);
const realServerHello = records(serverHello({ cipher: 0x1301, extensions: [tls13, { type: 0x0033, data: new Uint8Array(36) }] }), 16384, 0x0303);
const changeCipherSpec = record(20, [1]);
const emptyHandshake = record(22, []);

const toServerPkt = packet({ dstPort: 443, payload: 'x' });
const toClientPkt = packet({ src: '198.18.0.2', dst: '198.18.0.1', srcPort: 443, dstPort: 40000, payload: 'x' });

/**
 * One direction of a TCP flow: each call gives the item of a segment that
 * adds `part` to the stream, carrying the stream so far, as the host does.
 */
function direction(flowId: number, toClient = false): (part: Uint8Array) => InspectItem {
  let stream: Uint8Array = new Uint8Array(0);
  return (part) => {
    stream = concat(stream, part);
    return { pkt: toClient ? toClientPkt : toServerPkt, flowId, direction: toClient ? 1 : 0, flags: 0, stream, streamNew: part.length };
  };
}

const datagram = (payload: Uint8Array, flowId: number): InspectItem => item(packet({ proto: 'udp', dstPort: 4444, payload }), { flowId });
/** Bytes [from, from + n) of a DTLS handshake message's body, as one fragment with its own 12-byte header. */
function dtlsFragment(message: Uint8Array, from: number, n: number): Uint8Array {
  const header = message.slice(0, 12);
  header.set([from >> 16, (from >> 8) & 0xff, from & 0xff, n >> 16, (n >> 8) & 0xff, n & 0xff], 6);
  return concat(header, message.subarray(12 + from, 12 + from + n));
}
const dtlsHello = (sni: string) => clientHello({ dtls: true, ciphers: [0xc02b, 0xc02f], extensions: [0x0000, 0x000a, 0x000d], sni });

describe('tls_inspect after a HelloRetryRequest (both directions seen)', () => {
  it('the HRR does not end the inspection: the second ClientHello is checked and blocks', async () => {
    const inst = await instance('tls_inspect', BLOCK_EVIL);
    const client = direction(1);
    const server = direction(1, true);
    const first = run(inst, [client(hello('good.example')), server(helloRetryRequest)]);
    expect(first.verdicts).toEqual([Verdict.CONTINUE, Verdict.CONTINUE]);
    const second = run(inst, [client(concat(changeCipherSpec, hello('evil.example')))]);
    expect(second.verdicts).toEqual([Verdict.BLOCK_FLOW]);
    expect(second.alerts.map((a) => [a.sigId, a.metadata?.sni])).toEqual([[1003001, 'evil.example']]);
    expect([...first.events, ...second.events].map((e) => [e.data.handshake, e.data.sni])).toEqual([
      ['client_hello', 'good.example'], ['hello_retry_request', 'good.example'], ['client_hello', 'evil.example'],
    ]);
  });

  it('JA3 and JA4 blocklists apply to the second ClientHello too', async () => {
    const plain: ClientHelloSpec = { ciphers: [0xc02f], extensions: [0x0000, 0x000a], sni: 'a.example' };
    const ja3 = createHash('md5').update('771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,27-0-51-16-17513-23-45-13-5-35-18-43-65281-11-10-21,29-23-24,0').digest('hex');
    const inst = await instance('tls_inspect', { ja3_blocklist: [ja3], ja4_blocklist: ['t13d1516h2_8daaf6152771_e5627efa2ab1'] });
    const client = direction(2);
    const server = direction(2, true);
    const out = run(inst, [client(records(clientHello(plain))), server(helloRetryRequest), client(hello('b.example'))]);
    expect(out.verdicts).toEqual([Verdict.CONTINUE, Verdict.CONTINUE, Verdict.BLOCK_FLOW]);
    expect(out.alerts.map((a) => [a.index, a.sigId])).toEqual([[2, 1003002], [2, 1003003]]);
  });

  it('the ServerHello after the second ClientHello ends the inspection as before', async () => {
    const inst = await instance('tls_inspect', BLOCK_EVIL);
    const client = direction(3);
    const server = direction(3, true);
    const out = run(inst, [
      client(hello('good.example')), server(helloRetryRequest),
      client(concat(changeCipherSpec, hello('www.good.example'))), server(concat(changeCipherSpec, realServerHello)),
    ]);
    expect(out.verdicts).toEqual([Verdict.CONTINUE, Verdict.CONTINUE, Verdict.CONTINUE, Verdict.ALLOW_FLOW]);
    expect(out.alerts).toEqual([]);
    expect(out.events.map((e) => [e.data.handshake, e.data.sni])).toEqual([
      ['client_hello', 'good.example'], ['hello_retry_request', 'good.example'],
      ['client_hello', 'www.good.example'], ['server_hello', 'www.good.example'],
    ]);
  });

  it('packets of a flow let go earlier in the same batch do not read its hellos again', async () => {
    // The host stops feeding a flow after ALLOW_FLOW only from the next batch on.
    const inst = await instance('tls_inspect');
    const client = direction(5);
    const server = direction(5, true);
    const out = run(inst, [
      client(hello('a.example')), server(realServerHello), client(concat(changeCipherSpec, record(23, [1, 2]))),
      server(record(23, [3, 4])), client(record(23, [5, 6])),
    ]);
    expect(out.verdicts).toEqual([Verdict.CONTINUE, ...new Array(4).fill(Verdict.ALLOW_FLOW)]);
    expect(out.events.map((e) => e.data.handshake)).toEqual(['client_hello', 'server_hello']);
  });

  it('a second ClientHello that lies after an HRR is reported malformed, like a first one', async () => {
    const inst = await instance('tls_inspect');
    const client = direction(4);
    const server = direction(4, true);
    const lying = clientHello(FOXIO_EXAMPLE);
    lying[4 + 2 + 32] = 200; // session id length
    const out = run(inst, [client(hello('good.example')), server(helloRetryRequest), client(records(lying))]);
    expect(out.alerts.map((a) => [a.index, a.sigId, a.metadata?.reason])).toEqual([[2, 1003010, 'session id length 200 over 32']]);
  });
});

describe('tls_inspect: a second ClientHello seen from the client side only (host mode)', () => {
  it('change_cipher_spec then a ClientHello for a listed name, in a later segment: blocked', async () => {
    const inst = await instance('tls_inspect', BLOCK_EVIL);
    const client = direction(1);
    expect(run(inst, [client(hello('good.example'))]).verdicts).toEqual([Verdict.CONTINUE]);
    const out = run(inst, [client(concat(changeCipherSpec, hello('evil.example')))]);
    expect(out.verdicts).toEqual([Verdict.BLOCK_FLOW]);
    expect(out.alerts.map((a) => a.sigId)).toEqual([1003001]);
  });

  it('both hellos in one segment, or the second split over records and segments: blocked', async () => {
    const inst = await instance('tls_inspect', BLOCK_EVIL);
    const together = direction(2);
    expect(run(inst, [together(concat(hello('good.example'), hello('evil.example')))]).verdicts).toEqual([Verdict.BLOCK_FLOW]);
    const split = direction(3);
    const second = concat(changeCipherSpec, hello('evil.example', 40));
    const out = run(inst, [split(hello('good.example')), split(second.subarray(0, 3)), split(second.subarray(3, 90)), split(second.subarray(90))]);
    expect(out.verdicts).toEqual([Verdict.CONTINUE, Verdict.CONTINUE, Verdict.CONTINUE, Verdict.BLOCK_FLOW]);
  });

  it('a second flight that is not a ClientHello ends the inspection without an alert', async () => {
    const inst = await instance('tls_inspect', BLOCK_EVIL);
    const rng = new Rng(5);
    const finished = (first: number[]) => { const f = Array.from({ length: 40 }, () => rng.below(256)); f.splice(0, first.length, ...first); return record(22, f); };
    const flights = [
      finished([]), // TLS 1.2: the encrypted Finished, random bytes
      finished([1, 0, 0, 32]), // ... whose bytes happen to read as a short ClientHello
      finished([1, 0, 0, 36, 3, 3]),
      record(22, [16, 0, 0, 2, 0, 0]), // TLS 1.2 ClientKeyExchange
      record(23, [1, 2, 3]), // TLS 1.3 application data
    ];
    const items = flights.flatMap((f, i) => { const c = direction(10 + i); return [c(hello('good.example')), c(concat(changeCipherSpec, f))]; });
    const out = run(inst, items);
    expect(out.verdicts).toEqual(flights.flatMap(() => [Verdict.CONTINUE, Verdict.ALLOW_FLOW]));
    expect(out.alerts).toEqual([]);
  });

  it('at most two ClientHellos are read a flow (TLS allows one HelloRetryRequest)', async () => {
    const inst = await instance('tls_inspect', BLOCK_EVIL);
    const client = direction(1);
    const out = run(inst, [client(hello('a.example')), client(hello('b.example')), client(hello('evil.example'))]);
    expect(out.verdicts).toEqual([Verdict.CONTINUE, Verdict.CONTINUE, Verdict.ALLOW_FLOW]);
    expect(out.events.map((e) => e.data.sni)).toEqual(['a.example', 'b.example']);
  });
});

describe('tls_inspect skips empty handshake records, as OpenSSL does', () => {
  it('an empty record before the hello and between its records: blocked', async () => {
    const inst = await instance('tls_inspect', BLOCK_EVIL);
    const split = hello('evil.example', 60);
    const between = concat(emptyHandshake, split.subarray(0, 65), emptyHandshake, emptyHandshake, split.subarray(65));
    const out = run(inst, [direction(1)(concat(emptyHandshake, hello('evil.example'))), direction(2)(between)]);
    expect(out.verdicts).toEqual([Verdict.BLOCK_FLOW, Verdict.BLOCK_FLOW]);
    expect(out.alerts.map((a) => a.sigId)).toEqual([1003001, 1003001]);
  });

  it('empty records in their own segments, then the hello: blocked', async () => {
    const inst = await instance('tls_inspect', BLOCK_EVIL);
    const client = direction(1);
    const out = run(inst, [client(emptyHandshake), client(concat(emptyHandshake, emptyHandshake.subarray(0, 2))), client(concat(emptyHandshake.subarray(2), hello('evil.example')))]);
    expect(out.verdicts).toEqual([Verdict.CONTINUE, Verdict.CONTINUE, Verdict.BLOCK_FLOW]);
  });

  it('32 empty records in a row are skipped; the 33rd makes the hello malformed', async () => {
    const inst = await instance('tls_inspect', BLOCK_EVIL);
    const empties = (n: number) => concat(...Array.from({ length: n }, () => emptyHandshake));
    const out = run(inst, [direction(1)(concat(empties(32), hello('evil.example'))), direction(2)(concat(empties(33), hello('evil.example')))]);
    expect(out.alerts.map((a) => [a.index, a.sigId, a.metadata?.reason])).toEqual([
      [0, 1003001, undefined], [1, 1003010, 'more than 32 empty records in a row'],
    ]);
  });
});

describe('tls_inspect on DTLS', () => {
  it('a datagram that is not DTLS before the ClientHello (in another batch) does not let the flow go', async () => {
    const inst = await instance('tls_inspect', BLOCK_EVIL);
    expect(run(inst, [datagram(Uint8Array.from([0]), 1)]).verdicts).toEqual([Verdict.CONTINUE]);
    const out = run(inst, [datagram(dtlsRecord(dtlsHello('evil.example')), 1)]);
    expect(out.verdicts).toEqual([Verdict.BLOCK_FLOW]);
    expect(out.alerts.map((a) => a.sigId)).toEqual([1003001]);
  });

  it('a DTLS record that lies before the ClientHello is reported, and the ClientHello still checked', async () => {
    const inst = await instance('tls_inspect', BLOCK_EVIL);
    const lying = dtlsRecord(dtlsHello('good.example'));
    lying[11] = 0xff;
    const out = run(inst, [datagram(lying, 1), datagram(dtlsRecord(dtlsHello('evil.example')), 1)]);
    expect(out.alerts.map((a) => [a.index, a.sigId])).toEqual([[0, 1003010], [1, 1003001]]);
    expect(out.verdicts[1]).toBe(Verdict.BLOCK_FLOW);
  });

  it('8 datagrams that are not DTLS are waited through; the 9th lets the flow go', async () => {
    const inst = await instance('tls_inspect', BLOCK_EVIL);
    const junk = Array.from({ length: 8 }, (_, i) => datagram(Uint8Array.from([i]), 1));
    const caught = run(inst, [...junk, datagram(dtlsRecord(dtlsHello('evil.example')), 1)]);
    expect(caught.verdicts).toEqual([...junk.map(() => Verdict.CONTINUE), Verdict.BLOCK_FLOW]);
    const tooMany = run(inst, Array.from({ length: 9 }, (_, i) => datagram(Uint8Array.from([i]), 2)));
    expect(tooMany.verdicts).toEqual([...new Array(8).fill(Verdict.CONTINUE), Verdict.ALLOW_FLOW]);
  });

  it('a later ClientHello of the flow (the one with the cookie) is checked too', async () => {
    const inst = await instance('tls_inspect', BLOCK_EVIL);
    const out = run(inst, [datagram(dtlsRecord(dtlsHello('good.example')), 1), datagram(dtlsRecord(dtlsHello('evil.example')), 1)]);
    expect(out.verdicts).toEqual([Verdict.CONTINUE, Verdict.BLOCK_FLOW]);
  });

  it('a ClientHello in fragments over the records of one datagram, in any order, is gathered and checked', async () => {
    const inst = await instance('tls_inspect', BLOCK_EVIL);
    const ch = dtlsHello('evil.example');
    const n = ch.length - 12;
    const inOrder = concat(dtlsRecord(dtlsFragment(ch, 0, 40)), dtlsRecord(dtlsFragment(ch, 40, n - 40)));
    const reversedOverlapping = concat(dtlsRecord(dtlsFragment(ch, 30, n - 30)), dtlsRecord(dtlsFragment(ch, 0, 50)));
    const oneRecord = dtlsRecord(concat(dtlsFragment(ch, 0, 20), dtlsFragment(ch, 20, n - 20)));
    const out = run(inst, [datagram(inOrder, 1), datagram(reversedOverlapping, 2), datagram(oneRecord, 3)]);
    expect(out.verdicts).toEqual([Verdict.BLOCK_FLOW, Verdict.BLOCK_FLOW, Verdict.BLOCK_FLOW]);
    expect(out.alerts.map((a) => a.sigId)).toEqual([1003001, 1003001, 1003001]);
  });

  it('a datagram missing some of the fragments waits, with no alert', async () => {
    const inst = await instance('tls_inspect', BLOCK_EVIL);
    const ch = dtlsHello('evil.example');
    const out = run(inst, [datagram(concat(dtlsRecord(dtlsFragment(ch, 0, 40)), dtlsRecord(dtlsFragment(ch, 41, ch.length - 12 - 41))), 1)]);
    expect(out.verdicts).toEqual([Verdict.CONTINUE]);
    expect(out.alerts).toEqual([]);
  });
});
