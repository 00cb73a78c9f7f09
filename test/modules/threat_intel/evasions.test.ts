// Ways a listed name or address used to slip past threat_intel (the dlp/ti
// audit, findings TI-1..TI-7 and the metadata bug), each checked against the
// behaviour of the server, resolver or proxy that would act on it.
import { beforeAll, describe, expect, it } from 'vitest';
import { Verdict } from '../../../host/verdict.js';
import { item, packet } from '../../host/wasm/helpers.js';
import { alertsOf, compiledModule, engineRun, instance, run, tcpSession } from '../dlp/support.js';
import { clientHello, dnsQuery, dnsQueryLabels, dnsResponse, splitIntoRecords } from './wire.js';

const LIST = [
  '198.18.99.7', '198.18.100.0/24', '2001:db8:bad::/48', '::ffff:203.0.113.9', '::ffff:203.0.114.0/120',
  'evil.example', '=login.bank.example', '*.cdn.test',
].join('\n');

beforeAll(async () => { await compiledModule('threat_intel'); }, 300_000);

/** Runs one client-to-server TCP session per entry through the engine; the alerts, with the server port of each. */
async function sessions(toServer: (string | Uint8Array)[][], config: unknown = LIST) {
  const frames = toServer.flatMap((segs, i) => tcpSession({ client: '198.18.0.1', server: '198.18.0.2', serverPort: 8000 + i, clientPort: 41000 + i, toServer: segs, at: i }));
  const { decisions } = await engineRun(frames, [{ name: 'threat_intel', config }]);
  return { decisions, alerts: alertsOf(decisions, 'threat_intel').map((a) => ({ ...a, session: decisions[a.frame]!.pkt.dstPort - 8000 })) };
}

const udp = (payload: Uint8Array, toServer = true) => packet(toServer
  ? { proto: 'udp', src: '198.18.0.1', dst: '198.18.0.53', srcPort: 53000, dstPort: 53, payload }
  : { proto: 'udp', src: '198.18.0.53', dst: '198.18.0.1', srcPort: 53, dstPort: 53000, payload });

describe('alert metadata', () => {
  it('a name with a trailing dot is reported without a stale byte from an earlier, longer name', async () => {
    const { alerts } = await sessions([
      ['GET / HTTP/1.1\r\nHost: www.good.example.net\r\n\r\n'],
      ['GET / HTTP/1.1\r\nHost: EVIL.example.:8080\r\n\r\n'],
      [clientHello('www.good.example.net')],
      [clientHello('API.Evil.Example.')],
    ]);
    expect(alerts.map((a) => [a.session, a.metadata!.name, a.metadata!.listed])).toEqual([
      [1, 'evil.example', 'evil.example'],
      [3, 'api.evil.example', 'evil.example'],
    ]);
  });
});

describe('DNS over UDP: an answer does not end the check of later queries (TI-4)', () => {
  it('query, answer, then a listed query on the same socket', async () => {
    const inst = await instance('threat_intel', LIST);
    const r = run(inst, [
      item(udp(dnsQuery('good.example', 1)), { flowId: 1 }),
      item(udp(dnsResponse('good.example', [{ type: 'A', owner: 'good.example', data: '192.0.2.1' }], 1), false), { flowId: 1, direction: 1 }),
      item(udp(dnsQuery('c2.evil.example', 2)), { flowId: 1 }),
    ]);
    expect(r.verdicts).toEqual([Verdict.CONTINUE, Verdict.CONTINUE, Verdict.BLOCK_FLOW]);
    expect(r.alerts.map((a) => [a.index, a.sigId, a.metadata!.name])).toEqual([[2, 1008003, 'c2.evil.example']]);
  });

  it('max_packets still bounds the watch, answers included', async () => {
    const inst = await instance('threat_intel', { ioc_text: LIST, max_packets: 2 });
    const r = run(inst, [
      item(udp(dnsQuery('good.example', 1)), { flowId: 1 }),
      item(udp(dnsResponse('good.example', [], 1), false), { flowId: 1, direction: 1 }),
      item(udp(dnsQuery('c2.evil.example', 2)), { flowId: 1 }),
    ]);
    expect(r.verdicts).toEqual([Verdict.CONTINUE, Verdict.ALLOW_FLOW, Verdict.ALLOW_FLOW]);
    expect(r.alerts).toEqual([]);
  });
});

describe('HTTP request line (TI-3, TI-2)', () => {
  it('leading empty lines before the request line, as servers skip them (RFC 9112 2.2)', async () => {
    const { alerts } = await sessions([
      ['\r\nGET / HTTP/1.1\r\nHost: evil.example\r\n\r\n'],
      ['\r\n\r\n', '\nGET / HTTP/1.1\r\n', 'Host: a.evil.example\r\n\r\n'],
      ['\r\nGET / HTTP/1.1\r\nHost: good.example\r\n\r\n'],
    ]);
    expect(alerts.map((a) => [a.session, a.sigId, a.metadata!.name])).toEqual([
      [0, 1008005, 'evil.example'],
      [1, 1008005, 'a.evil.example'],
    ]);
  });

  it('the host of an absolute-form target wins over Host, with or without a Host header', async () => {
    const { alerts } = await sessions([
      ['GET http://c2.evil.example/beacon HTTP/1.1\r\nHost: www.good.example\r\n\r\n'],
      ['GET http://user:pw@C2.Evil.Example.:8080/x?y HTTP/1.0\r\n\r\n'],
      ['GET HTTP://c2.evil.example HTTP/1.1\r\n', 'Host: www.good.example\r\n\r\n'],
      ['GET http://www.good.example/ HTTP/1.1\r\nHost: www.good.example\r\n\r\n'],
      ['GET http://198.18.99.7/ HTTP/1.1\r\nHost: www.good.example\r\n\r\n'],
    ]);
    expect(alerts.map((a) => [a.session, a.sigId, a.metadata!.seen_in, a.metadata!.name ?? a.metadata!.address])).toEqual([
      [0, 1008005, 'http_target', 'c2.evil.example'],
      [1, 1008005, 'http_target', 'c2.evil.example'],
      [2, 1008005, 'http_target', 'c2.evil.example'],
      [4, 1008002, 'http_target', '198.18.99.7'],
    ]);
  });

  it('a CONNECT target by name or address, and a ClientHello sent through the tunnel', async () => {
    const { alerts } = await sessions([
      ['CONNECT c2.evil.example:443 HTTP/1.1\r\nHost: www.good.example:443\r\n\r\n'],
      ['CONNECT 198.18.99.7:443 HTTP/1.1\r\nHost: www.good.example:443\r\n\r\n'],
      ['CONNECT [2001:db8:bad::1]:443 HTTP/1.1\r\n\r\n'],
      ['CONNECT 192.0.2.80:443 HTTP/1.1\r\nHost: 192.0.2.80:443\r\n\r\n', clientHello('c2.evil.example')],
      ['CONNECT www.good.example:443 HTTP/1.1\r\nHost: www.good.example:443\r\n\r\n', clientHello('www.good.example')],
    ]);
    expect(alerts.map((a) => [a.session, a.sigId, a.metadata!.seen_in, a.metadata!.name ?? a.metadata!.address])).toEqual([
      [0, 1008005, 'http_target', 'c2.evil.example'],
      [1, 1008002, 'http_target', '198.18.99.7'],
      [2, 1008002, 'http_target', '2001:db8:bad:0:0:0:0:1'],
      [3, 1008004, 'tls', 'c2.evil.example'],
    ]);
  });
});

describe('a ClientHello over several TLS records (TI-1)', () => {
  it('is reassembled before the SNI is read, in one segment or several', async () => {
    const hello = clientHello('api.evil.example');
    const two = splitIntoRecords(hello, [60]);
    const many = splitIntoRecords(hello, [1, 2, 3, 4, 10, 40, 60, 61]);
    const { alerts, decisions } = await sessions([
      [two],
      [two.subarray(0, 65), two.subarray(65)],
      [many.subarray(0, 7), many.subarray(7, 30), many.subarray(30)],
      [splitIntoRecords(clientHello('www.good.example'), [60])],
    ]);
    expect(alerts.map((a) => [a.session, a.sigId, a.metadata!.name])).toEqual([
      [0, 1008004, 'api.evil.example'],
      [1, 1008004, 'api.evil.example'],
      [2, 1008004, 'api.evil.example'],
    ]);
    // the flow is not let go while the hello is still incomplete
    const firstSegment = decisions.find((d) => d.pkt.dstPort === 8001 && d.pkt.payloadLength === 65)!;
    expect(firstSegment.modules[0]!.verdict).toBe(Verdict.CONTINUE);
  });
});

describe('names with a non-hostname byte below a listed domain (TI-5)', () => {
  it('are matched by their listed parent; an exact-only entry still needs the exact name', async () => {
    const inst = await instance('threat_intel', LIST);
    const names: (string | Uint8Array)[][] = [
      ['a b', 'evil', 'example'],
      [Uint8Array.from([0x80, 0xc3, 0xff, 0x41, 0x7e, 0x21]), 'evil', 'example'],
      ['*', 'evil', 'example'],
      ['MFRGG===', 'x', 'Evil', 'example'],
      ['a b', 'login', 'bank', 'example'],
      ['a b', 'good', 'example'],
      ['evil', 'example!'],
    ];
    const r = run(inst, names.map((n, i) => item(packet({ proto: 'udp', srcPort: 5000 + i, dstPort: 53, payload: dnsQueryLabels(n) }), { flowId: 100 + i })));
    expect(r.alerts.map((a) => [a.index, a.sigId, a.metadata!.listed])).toEqual([
      [0, 1008003, 'evil.example'],
      [1, 1008003, 'evil.example'],
      [2, 1008003, 'evil.example'],
      [3, 1008003, 'evil.example'],
    ]);
    expect(r.alerts[0]!.metadata!.name).toBe('a b.evil.example');
    // bytes outside printable ASCII are shown escaped, not garbled by a UTF-8 decode
    expect(r.alerts[1]!.metadata!.name).toBe('\\x80\\xc3\\xffa~!.evil.example');
  });

  it('in a TLS SNI and an HTTP Host too', async () => {
    const { alerts } = await sessions([[clientHello('a b.evil.example')], ['GET / HTTP/1.1\r\nHost: x=y.evil.example\r\n\r\n']]);
    expect(alerts.map((a) => [a.session, a.metadata!.listed])).toEqual([[0, 'evil.example'], [1, 'evil.example']]);
  });
});

describe('CNAME and DNAME targets in DNS answers (TI-6)', () => {
  it('an alias to a listed name alerts on the answer; an alias to an unlisted one does not', async () => {
    const inst = await instance('threat_intel', LIST);
    const r = run(inst, [
      item(udp(dnsQuery('metrics.shop.example', 7)), { flowId: 1 }),
      item(udp(dnsResponse('metrics.shop.example', [
        { type: 'CNAME', owner: 'metrics.shop.example', data: 't.evil.example' },
        { type: 'A', owner: 't.evil.example', data: '192.0.2.80' },
      ], 7), false), { flowId: 1, direction: 1 }),
      item(udp(dnsResponse('www.shop.example', [{ type: 'DNAME', owner: 'shop.example', data: 'evil.example' }], 8), false), { flowId: 2, direction: 1 }),
      item(udp(dnsResponse('www.ok.example', [{ type: 'CNAME', owner: 'www.ok.example', data: 'cdn.ok.example' }], 9), false), { flowId: 3, direction: 1 }),
    ]);
    expect(r.alerts.map((a) => [a.index, a.sigId, a.metadata!.seen_in, a.metadata!.name])).toEqual([
      [1, 1008003, 'dns_answer', 't.evil.example'],
      [2, 1008003, 'dns_answer', 'evil.example'],
    ]);
    expect(r.verdicts.slice(0, 2)).toEqual([Verdict.CONTINUE, Verdict.BLOCK_FLOW]);
  });
});

describe('IPv4 inside IPv6 (TI-7)', () => {
  it('a NAT64 well-known-prefix destination is matched by its embedded IPv4 address', async () => {
    const inst = await instance('threat_intel', LIST);
    const r = run(inst, [
      item(packet({ src: '2001:db9::10', dst: '64:ff9b::c612:6307' }), { flowId: 1 }),
      item(packet({ src: '2001:db9::10', dst: '64:ff9b::198.18.100.9' }), { flowId: 2 }),
      item(packet({ src: '2001:db9::10', dst: '64:ff9b::c612:6308' }), { flowId: 3 }),
    ]);
    expect(r.alerts.map((a) => [a.index, a.sigId, a.metadata!.embedded_ipv4, a.metadata!.prefix_len])).toEqual([
      [0, 1008002, '198.18.99.7', 32],
      [1, 1008002, '198.18.100.9', 24],
    ]);
  });

  it('an IPv4-mapped list entry (::ffff:a.b.c.d[/len]) matches IPv4 traffic', async () => {
    const inst = await instance('threat_intel', LIST);
    const r = run(inst, [
      item(packet({ src: '198.18.0.1', dst: '203.0.113.9' }), { flowId: 1 }),
      item(packet({ src: '198.18.0.1', dst: '203.0.114.77' }), { flowId: 2 }),
      item(packet({ src: '198.18.0.1', dst: '203.0.113.10' }), { flowId: 3 }),
    ]);
    expect(r.alerts.map((a) => [a.index, a.sigId, a.metadata!.address, a.metadata!.prefix_len])).toEqual([
      [0, 1008002, '203.0.113.9', 32],
      [1, 1008002, '203.0.114.77', 24],
    ]);
  });
});
