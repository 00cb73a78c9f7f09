// After a HelloRetryRequest the client sends a second ClientHello on the
// same connection (RFC 8446 4.1.2), and the server goes on with that one:
// OpenSSL 3.0 accepts one whose server_name differs from the first
// (real-hello-retry.test.ts), so a harmless first SNI must not hide a listed
// second one. The client's records are its own to shape: split, pipelined,
// behind change_cipher_spec records, inside a CONNECT tunnel.
import { beforeAll, describe, expect, it } from 'vitest';
import { Verdict } from '../../../host/verdict.js';
import type { RawFrame } from '../../../host/capture/types.js';
import { alertsOf, compiledModule, engineRun } from '../dlp/support.js';
import { clientHello, splitIntoRecords } from './wire.js';
import { concat, cut } from './streams.js';
import { applicationData, changeCipherSpec, conversation, helloRetryRequest, oneRecord, type Turn } from './retry-wire.js';

const LIST = 'evil.example\n';
const good = () => clientHello('www.good.example');
const bad = () => clientHello('api.evil.example');
const hrr = (): Turn => ({ s: helloRetryRequest() });

beforeAll(async () => { await compiledModule('threat_intel'); }, 300_000);

/** Runs one connection per entry (client port 41000 + i) through the engine; the alerts by connection, and the decisions. */
async function connections(list: Turn[][], config: unknown = LIST, serverPort = 443) {
  const frames: RawFrame[] = list.flatMap((turns, i) => conversation(turns, 41000 + i, serverPort, i));
  const { decisions } = await engineRun(frames, [{ name: 'threat_intel', config }]);
  const connOf = (i: number) => { const p = decisions[i]!.pkt; return (p.dstPort === serverPort ? p.srcPort : p.dstPort) - 41000; };
  const alerts = alertsOf(decisions, 'threat_intel').map((a) => ({ ...a, conn: connOf(a.frame) }));
  /** The module's verdicts on connection `conn`'s data segments, in order. */
  const verdicts = (conn: number) => decisions.filter((d) => connOf(d.index) === conn && d.pkt.payloadLength > 0).map((d) => d.modules[0]?.verdict);
  return { alerts, found: alerts.map((a) => [a.conn, a.sigId, a.metadata!.seen_in, a.metadata!.name]), verdicts, decisions };
}

describe('the second ClientHello after a HelloRetryRequest', () => {
  it('a listed SNI in it is flagged as in a first hello, with or without change_cipher_spec before it', async () => {
    const { found, alerts, verdicts } = await connections([
      [{ c: good() }, hrr(), { c: concat([changeCipherSpec(), bad()]) }],
      [{ c: good() }, hrr(), { c: bad() }],
      [{ c: good() }, hrr(), { c: changeCipherSpec() }, { c: bad() }],
      [{ c: good() }, hrr(), { c: concat([changeCipherSpec(), good()]) }],
    ]);
    expect(found).toEqual([
      [0, 1008004, 'tls', 'api.evil.example'],
      [1, 1008004, 'tls', 'api.evil.example'],
      [2, 1008004, 'tls', 'api.evil.example'],
    ]);
    expect(alerts[0]!.metadata).toEqual({ ioc_type: 'domain', seen_in: 'tls', name: 'api.evil.example', listed: 'evil.example', action: 'block_flow' });
    // the first hello does not let the flow go; the second blocks it
    expect(verdicts(0)).toEqual([Verdict.CONTINUE, Verdict.CONTINUE, Verdict.BLOCK_FLOW]);
    // a clean retry: the flow is let go after the second hello
    expect(verdicts(3)).toEqual([Verdict.CONTINUE, Verdict.CONTINUE, Verdict.ALLOW_FLOW]);
  });

  it('is put together however the client cuts it into segments and records', async () => {
    const second = concat([changeCipherSpec(), bad()]);
    const records = splitIntoRecords(bad(), [1, 30, 61]);
    const { found } = await connections([
      // segment boundaries inside the change_cipher_spec record, the record header and the hello
      [{ c: good() }, hrr(), ...cut(second, [3, 6, 8, 40]).map((c) => ({ c }))],
      // the hello over four records, each cut in two segments
      [{ c: good() }, hrr(), { c: changeCipherSpec() }, ...cut(records, [4, 9, 20, 37, 50, 70]).map((c) => ({ c }))],
      // the first hello over records and segments too
      [...cut(splitIntoRecords(good(), [20]), [10, 30]).map((c) => ({ c })), hrr(), { c: second }],
    ]);
    expect(found).toEqual([
      [0, 1008004, 'tls', 'api.evil.example'],
      [1, 1008004, 'tls', 'api.evil.example'],
      [2, 1008004, 'tls', 'api.evil.example'],
    ]);
  });

  it('sent before the retry request came: right behind the first, or in the same record', async () => {
    // OpenSSL refuses the second hello in the first one's record ("not on record boundary"); read anyway, it costs nothing
    const { found } = await connections([
      [{ c: concat([good(), changeCipherSpec(), bad()]) }, hrr()],
      [{ c: oneRecord(good(), bad()) }],
      [{ c: oneRecord(good(), bad()).subarray(0, 100) }, { c: oneRecord(good(), bad()).subarray(100) }],
    ]);
    expect(found).toEqual([
      [0, 1008004, 'tls', 'api.evil.example'],
      [1, 1008004, 'tls', 'api.evil.example'],
      [2, 1008004, 'tls', 'api.evil.example'],
    ]);
  });

  it('a first hello without server_name does not end the watch', async () => {
    const { found } = await connections([[{ c: clientHello(null) }, hrr(), { c: concat([changeCipherSpec(), bad()]) }]]);
    expect(found).toEqual([[0, 1008004, 'tls', 'api.evil.example']]);
  });

  it('after a CONNECT, in the tunnel: the same rule', async () => {
    const connect = 'CONNECT www.good.example:443 HTTP/1.1\r\nHost: www.good.example:443\r\n\r\n';
    const { found, verdicts } = await connections([
      [{ c: connect }, { s: 'HTTP/1.1 200 Connection established\r\n\r\n' }, { c: good() }, hrr(), { c: concat([changeCipherSpec(), bad()]) }],
      [{ c: concat([connect, good()]) }, hrr(), { c: bad() }],
      [{ c: connect }, { c: good() }, hrr(), { c: concat([changeCipherSpec(), good()]) }],
    ], LIST, 8080);
    expect(found).toEqual([
      [0, 1008004, 'tls', 'api.evil.example'],
      [1, 1008004, 'tls', 'api.evil.example'],
    ]);
    expect(verdicts(2).at(-1)).toBe(Verdict.ALLOW_FLOW);
  });
});

describe('what is not read as a second hello', () => {
  it('a third ClientHello: no server takes one (a client aborts on a second retry request, RFC 8446 4.1.4)', async () => {
    const { found, verdicts } = await connections([
      [{ c: good() }, hrr(), { c: concat([changeCipherSpec(), good()]) }, hrr(), { c: bad() }],
    ]);
    expect(found).toEqual([]);
    expect(verdicts(0)).toEqual([Verdict.CONTINUE, Verdict.CONTINUE, Verdict.ALLOW_FLOW, Verdict.ALLOW_FLOW, Verdict.ALLOW_FLOW]);
  });

  it('records after the first hello that are not a ClientHello end the watch: the handshake went on', async () => {
    const keyExchange = Uint8Array.from([0x16, 0x03, 0x03, 0x00, 0x06, 0x10, 0x00, 0x00, 0x02, 0x01, 0x02]);
    const { found, verdicts } = await connections([
      // TLS 1.3 without retry: change_cipher_spec, then the encrypted Finished
      [{ c: good() }, { s: applicationData(300) }, { c: concat([changeCipherSpec(), applicationData()]) }, { c: bad() }],
      // TLS 1.2: the ClientKeyExchange
      [{ c: good() }, { s: applicationData(300) }, { c: keyExchange }, { c: bad() }],
      // an alert record
      [{ c: good() }, { c: Uint8Array.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]) }, { c: bad() }],
    ]);
    expect(found).toEqual([]);
    for (const conn of [0, 1]) expect(verdicts(conn)).toEqual([Verdict.CONTINUE, Verdict.CONTINUE, Verdict.ALLOW_FLOW, Verdict.ALLOW_FLOW]);
    expect(verdicts(2)).toEqual([Verdict.CONTINUE, Verdict.ALLOW_FLOW, Verdict.ALLOW_FLOW]);
  });

  it('the wait for a second hello is bounded by max_packets, counted afresh from the first hello', async () => {
    const server = Array.from({ length: 6 }, (): Turn => ({ s: applicationData(20) }));
    const { found, verdicts } = await connections([
      // SYN, SYN-ACK, ACK, the hello: 4 packets, then 3 more before the retry's answer
      [{ c: good() }, ...server.slice(0, 2), hrr(), { c: bad() }],
      [{ c: good() }, ...server, hrr(), { c: bad() }],
    ], { ioc_text: LIST, max_packets: 4 });
    expect(found).toEqual([[0, 1008004, 'tls', 'api.evil.example']]);
    expect(verdicts(1).slice(0, 5)).toEqual([Verdict.CONTINUE, Verdict.CONTINUE, Verdict.CONTINUE, Verdict.CONTINUE, Verdict.ALLOW_FLOW]);
  });

  it('change_cipher_spec records past 32 KiB from the first hello: the second hello is not searched for there', async () => {
    const ccs = new Uint8Array(6 * 5462);
    for (let i = 0; i < 5462; i++) ccs.set(changeCipherSpec(), i * 6);
    const { found, verdicts } = await connections([
      [{ c: good() }, hrr(), { c: ccs }, { c: bad() }],
      [{ c: good() }, hrr(), { c: ccs.subarray(0, 6 * 100) }, { c: bad() }],
    ], { ioc_text: LIST, max_packets: 100 });
    expect(found).toEqual([[1, 1008004, 'tls', 'api.evil.example']]);
    expect(verdicts(0)).toEqual([Verdict.CONTINUE, Verdict.CONTINUE, Verdict.ALLOW_FLOW, Verdict.ALLOW_FLOW]);
  });
});
