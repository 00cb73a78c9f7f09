// Every request of an HTTP/1.x connection is checked, not only the first: a
// client (or malware talking to its C2 through a proxy or a shared front end)
// could otherwise send a harmless request first and the listed name after it.
// Bodies are skipped by their framing, and a stream whose framing is lost is
// scanned for request lines from then on.
import { beforeAll, describe, expect, it } from 'vitest';
import { Verdict } from '../../../host/verdict.js';
import { MetaFlag } from '../../../host/wasm/abi.js';
import { alertsOf, compiledModule, engineRun, instance, run, tcpSession } from '../dlp/support.js';
import { compareCost } from '../cost.js';
import { clientHello } from './wire.js';
import { clientStream, cut } from './streams.js';

const LIST = ['198.18.99.7', 'evil.example', '=login.bank.example'].join('\n');

beforeAll(async () => { await compiledModule('threat_intel'); }, 300_000);

/** One client-to-server TCP session per entry through the engine; the alerts, each with its session and the decisions. */
async function sessions(toServer: (string | Uint8Array)[][], config: unknown = LIST) {
  const frames = toServer.flatMap((segs, i) => tcpSession({ client: '198.18.0.1', server: '198.18.0.2', serverPort: 8000 + i, clientPort: 41000 + i, toServer: segs, at: i }));
  const { decisions } = await engineRun(frames, [{ name: 'threat_intel', config }]);
  const alerts = alertsOf(decisions, 'threat_intel').map((a) => ({ ...a, session: decisions[a.frame]!.pkt.dstPort - 8000 }));
  return { decisions, alerts, found: alerts.map((a) => [a.session, a.sigId, a.metadata!.seen_in, a.metadata!.name ?? a.metadata!.address]) };
}

const get = (host: string, path = '/') => `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: t/1\r\nAccept: */*\r\n\r\n`;

describe('later requests on a keep-alive connection', () => {
  it('a listed Host in the second request, after a harmless first one, in its own segment', async () => {
    const { found, decisions } = await sessions([
      [get('www.good.example'), get('c2.evil.example', '/beacon')],
      [get('www.good.example'), get('www.good.example', '/2'), get('www.good.example', '/3')],
    ]);
    expect(found).toEqual([[0, 1008005, 'http', 'c2.evil.example']]);
    // the first request did not end the watch, and the alert came on the segment that carried the second
    const first = decisions.find((d) => d.pkt.dstPort === 8000 && d.pkt.payloadLength === get('www.good.example').length)!;
    expect(first.modules[0]!.verdict).toBe(Verdict.CONTINUE);
    const alerted = decisions.find((d) => d.modules[0]!.alerts.length > 0)!;
    expect(alerted.pkt.payloadLength).toBe(get('c2.evil.example', '/beacon').length);
    // the clean connection was never dropped
    expect(decisions.filter((d) => d.pkt.dstPort === 8001 || d.pkt.srcPort === 8001).some((d) => d.dropped)).toBe(false);
  });

  it('pipelined requests in one segment: the listed one third, and an exact-only entry matched in a later request', async () => {
    const { found } = await sessions([
      [get('a.good.example') + get('b.good.example') + get('x.evil.example')],
      [get('bank.example') + get('login.bank.example')],
      [get('a.good.example') + get('www.login.bank.example')],
    ]);
    expect(found).toEqual([
      [0, 1008005, 'http', 'x.evil.example'],
      [1, 1008005, 'http', 'login.bank.example'],
    ]);
  });

  it('the second request split across segments at every offset', async () => {
    const first = get('www.good.example');
    const second = 'GET /x HTTP/1.1\r\nAccept: */*\r\nHost: api.evil.example:8080\r\nX: 1\r\n\r\n';
    const all = first + second;
    const splits: (string | Uint8Array)[][] = [];
    for (let k = first.length + 1; k < all.length; k++) splits.push(cut(all, [first.length, k]));
    const { alerts } = await sessions(splits);
    expect(alerts.length).toBe(splits.length);
    expect(new Set(alerts.map((a) => a.metadata!.name))).toEqual(new Set(['api.evil.example']));
    expect(alerts.map((a) => a.session)).toEqual(splits.map((_, i) => i));
  });

  it('a forward proxy: absolute-form targets of later requests, by name and by address', async () => {
    const viaProxy = (url: string, host: string) => `GET ${url} HTTP/1.1\r\nHost: ${host}\r\nProxy-Connection: Keep-Alive\r\n\r\n`;
    const { found } = await sessions([
      [viaProxy('http://www.good.example/', 'www.good.example'), viaProxy('http://c2.evil.example/gate.php', 'www.good.example')],
      [viaProxy('http://www.good.example/', 'www.good.example') + viaProxy('http://198.18.99.7:8080/x', 'www.good.example')],
      [viaProxy('http://www.good.example/', 'www.good.example'), viaProxy('http://www.good.example/2', 'www.good.example')],
    ]);
    expect(found).toEqual([
      [0, 1008005, 'http_target', 'c2.evil.example'],
      [1, 1008002, 'http_target', '198.18.99.7'],
    ]);
  });

  it('a refused CONNECT followed by a second CONNECT on the same connection; a CONNECT tunnel still has its SNI read', async () => {
    const connect = (target: string) => `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`;
    const { found } = await sessions([
      [connect('www.good.example:443'), connect('c2.evil.example:443')],
      [connect('www.good.example:443'), clientHello('api.evil.example')],
      [connect('www.good.example:443'), clientHello('www.good.example')],
    ]);
    expect(found).toEqual([
      [0, 1008005, 'http_target', 'c2.evil.example'],
      [1, 1008004, 'tls', 'api.evil.example'],
    ]);
  });

  it('a connection longer than max_packets is still followed (max_packets bounds flows with nothing to read)', async () => {
    const { found } = await sessions([
      [...Array.from({ length: 12 }, (_, i) => get('www.good.example', `/${i}`)), get('late.evil.example')],
    // 4: the handshake's three packets and the first request's; every packet counts until the stream shows what it carries
    ], { ioc_text: LIST, max_packets: 4 });
    expect(found).toEqual([[0, 1008005, 'http', 'late.evil.example']]);
  });

  it('every Host field of a request is checked, not only the first', async () => {
    const { found } = await sessions([
      ['GET / HTTP/1.1\r\nHost: www.good.example\r\nHost: dup.evil.example\r\n\r\n'],
    ]);
    expect(found).toEqual([[0, 1008005, 'http', 'dup.evil.example']]);
  });
});

describe('bodies are skipped by their framing, never read as requests', () => {
  const inBody = 'GET http://body.evil.example/ HTTP/1.1\r\nHost: body.evil.example\r\n\r\n';

  it('Content-Length: a request-like body names nothing; the request after it does', async () => {
    const post = (body: string) => `POST /upload HTTP/1.1\r\nHost: www.good.example\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    const { found } = await sessions([
      [post(inBody), get('next.evil.example')],
      // the body spread over segments, the next request right behind it in the last one
      [...cut(post(inBody + inBody), [90, 91, 150]), get('next.evil.example')],
      [post(inBody) + get('www.good.example')],
      // "Content-Length: 0", and the same value twice ("5, 5" or two fields), as RFC 9110 8.6 allows
      ['POST / HTTP/1.1\r\nHost: a.good.example\r\nContent-Length: 0\r\n\r\n' + get('zero.evil.example')],
      [`POST / HTTP/1.1\r\nHost: a.good.example\r\nContent-Length: ${inBody.length}, ${inBody.length}\r\ncontent-length: ${inBody.length}\r\n\r\n${inBody}` + get('list.evil.example')],
    ]);
    expect(found).toEqual([
      [0, 1008005, 'http', 'next.evil.example'],
      [1, 1008005, 'http', 'next.evil.example'],
      [3, 1008005, 'http', 'zero.evil.example'],
      [4, 1008005, 'http', 'list.evil.example'],
    ]);
  });

  it('chunked: chunk data, extensions and trailers are skipped, split anywhere; the request after the last chunk is read', async () => {
    const chunk = (s: string) => `${s.length.toString(16)}\r\n${s}\r\n`;
    const chunked = 'POST /c HTTP/1.1\r\nHost: www.good.example\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n'
      + chunk(inBody) + `${inBody.length.toString(16).toUpperCase()};name="x" ; y\r\n${inBody}\r\n` + '0000\r\nX-Trailer: 1\r\nHost: trailer.evil.example\r\n\r\n';
    const next = get('next.evil.example');
    const whole = chunked + next;
    const splits: (string | Uint8Array)[][] = [];
    for (let k = 60; k < chunked.length + 5; k += 7) splits.push(cut(whole, [k]));
    const { alerts } = await sessions([[chunked, get('www.good.example')], ...splits]);
    expect(alerts.map((a) => a.session)).toEqual(splits.map((_, i) => i + 1));
    expect(new Set(alerts.map((a) => a.metadata!.name))).toEqual(new Set(['next.evil.example']));
  });

  it('a request with neither Content-Length nor Transfer-Encoding has no body, whatever follows its head', async () => {
    const { found } = await sessions([
      ['POST /a HTTP/1.1\r\nHost: www.good.example\r\n\r\n' + get('nobody.evil.example')],
      ['DELETE /a HTTP/1.1\r\nHost: www.good.example\r\n\r\n', get('nobody.evil.example')],
    ]);
    expect(found).toEqual([[0, 1008005, 'http', 'nobody.evil.example'], [1, 1008005, 'http', 'nobody.evil.example']]);
  });
});

describe('lost framing: every later whole request line is checked', () => {
  it('request smuggling shapes (Content-Length with Transfer-Encoding, a coding other than chunked last) and bad lengths', async () => {
    const smuggled = 'GET /admin HTTP/1.1\r\nHost: smuggled.evil.example\r\n\r\n';
    const { found } = await sessions([
      // CL.TE: a chunked reader ends the body at "0", a length reader would not
      [`POST / HTTP/1.1\r\nHost: www.good.example\r\nContent-Length: ${5 + smuggled.length}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`],
      // TE.CL: a length reader would read the smuggled request after 4 bytes
      [`POST / HTTP/1.1\r\nHost: www.good.example\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n${(smuggled.length + 2).toString(16)}\r\n\r\n${smuggled}\r\n0\r\n\r\n`],
      [`POST / HTTP/1.1\r\nHost: www.good.example\r\nTransfer-Encoding: chunked, identity\r\n\r\n${smuggled}`],
      [`POST / HTTP/1.0\r\nHost: www.good.example\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`],
      [`POST / HTTP/1.1\r\nHost: www.good.example\r\nContent-Length: 1e3\r\n\r\n${smuggled}`],
      [`POST / HTTP/1.1\r\nHost: www.good.example\r\nContent-Length: 10\r\nContent-Length: 11\r\n\r\n${smuggled}`],
      [`POST / HTTP/1.1\r\nHost: www.good.example\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n${smuggled}`],
      // chunk data not followed by its CRLF
      [`POST / HTTP/1.1\r\nHost: www.good.example\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX\r\n${smuggled}`],
    ]);
    expect(found).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((i) => [i, 1008005, 'http', 'smuggled.evil.example']));
  });

  it('a line that is no request line where one must start: later whole request lines still count, body text does not', async () => {
    const { found } = await sessions([
      [get('www.good.example') + 'garbage\r\nTHE evil.example END\r\nGET /x HTTP/1.1\r\nHost: resync.evil.example\r\n\r\n'],
      [get('www.good.example'), 'garbage\r\n', 'GET http://target.evil.example/ HTTP/1.1\r\n\r\n'],
      [get('www.good.example') + 'garbage\r\nHost: stray.evil.example\r\nTHE evil.example END\r\n'],
    ]);
    expect(found).toEqual([
      [0, 1008005, 'http', 'resync.evil.example'],
      [1, 1008005, 'http_target', 'target.evil.example'],
    ]);
  });
});

describe('bounds', () => {
  it('a connection is let go once its client stream reached the stream depth, not before', async () => {
    const inst = await instance('threat_intel', LIST);
    const r = run(inst, [
      ...clientStream(1, [get('www.good.example'), get('www.good.example')]),
      ...clientStream(2, [get('www.good.example'), get('www.good.example')], MetaFlag.STREAM_GAP),
    ]);
    expect(r.verdicts).toEqual([Verdict.CONTINUE, Verdict.CONTINUE, Verdict.CONTINUE, Verdict.ALLOW_FLOW]);
  });

  it('a 40 KB header line in 400 segments costs about what 400 segments of short lines do (each byte searched once)', async () => {
    const inst = await instance('threat_intel', LIST);
    const segs = (line: boolean) => {
      const out = [get('www.good.example') + 'GET / HTTP/1.1\r\nHost: www.good.example\r\n'];
      for (let i = 0; i < 400; i++) out.push(line ? 'a'.repeat(100) : `X-${String(i).padStart(4, '0')}: ${'a'.repeat(91)}\r\n`);
      return out;
    };
    const long = segs(true);
    const short = segs(false);
    const cmp = compareCost(inst, (r) => clientStream(1000 + r, short), (r) => clientStream(1000 + r, long));
    expect(cmp.ratio).toBeLessThan(3);
  }, 120_000);
});
