// DLP-5, transfer coding: an HTTP/1.x body sent with Transfer-Encoding:
// chunked is de-chunked before the detectors run. The client picks the
// chunk sizes, so a chunk boundary inside a value was a free evasion.
import { beforeAll, describe, expect, it } from 'vitest';
import { Verdict } from '../../../host/verdict.js';
import type { ModuleAlert } from '../../../host/wasm/types.js';
import { alertsOf, compiledModule, engineRun, enc, instance, run, tcpSession } from './support.js';
import { AWS_ID, AWS_SECRET, CARD, JWT, SSN, chunked, chunkedRequest, chunkedResponse, clientSegmentsAfterHandshake, every, oneByteChunks, streamItems } from './codings-support.js';

beforeAll(async () => { await compiledModule('dlp'); }, 300_000);


async function alertsFor(stream: string, cuts: number[] = [], config?: unknown) {
  const inst = await instance('dlp', config);
  return run(inst, streamItems(stream, cuts)).alerts;
}
const sigsAndOffsets = (a: ModuleAlert[]) => a.map((x) => [x.sigId, x.metadata!.offset]);

describe('a chunk boundary inside a value', () => {
  it('the audit\'s case: card=41111111, a chunk boundary, 11111111 is one card, at the offset of its first digit', async () => {
    const body = chunked(`card=${CARD}`, [13]);
    const req = chunkedRequest(body);
    expect(body).toContain('card=41111111\r\n8\r\n11111111');
    expect(sigsAndOffsets(await alertsFor(req))).toEqual([[1005001, req.indexOf('card=') + 5]]);
  });

  it.each([
    ['an SSN', `ssn=${SSN}&x=1`, 1005002, 8],
    ['an AWS key id', `id=${AWS_ID}&x=1`, 1005003, 10],
    ['an AWS secret key after its label', `aws_secret_access_key=${AWS_SECRET}&x=1`, 1005004, 40],
    ['a private key header', 'k=-----BEGIN RSA PRIVATE KEY-----\nMIIE', 1005005, 18],
    ['a JWT', `t=${JWT}&x=1`, 1005006, 30],
  ])('%s split by a chunk boundary', async (_, data, sig, cut) => {
    const req = chunkedRequest(chunked(data, [cut]));
    expect((await alertsFor(req)).map((a) => a.sigId)).toEqual([sig]);
  });

  it('every byte its own chunk: all six kinds are found, once each', async () => {
    const data = `card=${CARD}&ssn=${SSN}&id=${AWS_ID}&aws_secret_access_key=${AWS_SECRET}&t=${JWT}&k=-----BEGIN EC PRIVATE KEY-----\n`;
    const req = chunkedRequest(oneByteChunks(data));
    const a = await alertsFor(req, every(1448, req.length));
    expect(a.map((x) => x.sigId).sort()).toEqual([1005001, 1005002, 1005003, 1005004, 1005005, 1005006]);
    // each offset is the stream offset of the value's first byte
    const firstByte = (v: string) => req.indexOf(`1\r\n${v[0]}\r\n1\r\n${v[1]}\r\n`) + 3;
    expect(a.find((x) => x.sigId === 1005001)!.metadata!.offset).toBe(firstByte(CARD));
    expect(a.find((x) => x.sigId === 1005003)!.metadata!.offset).toBe(firstByte(AWS_ID));
  });

  it('chunk extensions (;name=value, quoted) on every size line change nothing', async () => {
    const req = chunkedRequest(chunked(`card=${CARD}&t=${JWT}`, [9, 40, 70], ';ext="a;b=c";sig=0123456789'));
    expect((await alertsFor(req)).map((a) => a.sigId)).toEqual([1005001, 1005006]);
  });

  it('split across chunks and across TCP segments at every offset: the card is found once, at the same offset', async () => {
    const req = chunkedRequest(chunked(`card=${CARD}&x=1`, [9, 11, 17], ';e=1'));
    const at = req.indexOf('card=') + 5;
    const inst = await instance('dlp');
    for (let cut = 1; cut < req.length; cut++) {
      const r = run(inst, streamItems(req, [cut], { flowId: 1000 + cut }));
      expect(sigsAndOffsets(r.alerts), `cut at ${cut}`).toEqual([[1005001, at]]);
    }
  });

  it('a value ending a chunked body is judged at the last chunk, not left waiting', async () => {
    const req = chunkedRequest(chunked(`card=${CARD}`, [10]));
    const items = streamItems(req, [req.length - 5]);
    const inst = await instance('dlp');
    const r = run(inst, items);
    expect(r.alerts.map((a) => [a.sigId, a.index])).toEqual([[1005001, 1]]);
  });

  it('a response body in chunks, on any port: the direction is recognised by its status line', async () => {
    const resp = chunkedResponse(chunked(`{"ssn":"${SSN}","card":"${CARD}"}`, [13, 25]));
    const inst = await instance('dlp');
    const r = run(inst, streamItems(resp, [60], { direction: 1 }));
    expect(r.alerts.map((a) => [a.sigId, a.metadata!.direction]).sort()).toEqual([[1005001, 'to_client'], [1005002, 'to_client']]);
  });
});

describe('keep-alive, trailers and interim responses', () => {
  it('several requests on one connection: Content-Length, chunked with trailers, then chunked again', async () => {
    const first = `POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello=world`;
    const second = `POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\nTrailer: X-Sum\r\n\r\n${chunked(`ssn=${SSN}`, [7])}`.replace(/0\r\n\r\n$/, '0\r\nX-Sum: 12\r\n\r\n');
    const third = chunkedRequest(chunked(`card=${CARD}`, [12]));
    const stream = first + second + third;
    const r = await alertsFor(stream, every(50, stream.length));
    expect(sigsAndOffsets(r)).toEqual([[1005002, stream.indexOf('ssn=') + 4], [1005001, stream.indexOf('card=') + 5]]);
  });

  it('responses: 100 Continue, a 204, a chunked body and a Content-Length body whose bytes look like chunk framing', async () => {
    const decoy = `card=41111111\r\n8\r\n11111111`;
    const stream = 'HTTP/1.1 100 Continue\r\n\r\n'
      + 'HTTP/1.1 204 No Content\r\n\r\n'
      + chunkedResponse(chunked(`id=${AWS_ID}`, [5]))
      + `HTTP/1.1 200 OK\r\nContent-Length: ${decoy.length}\r\n\r\n${decoy}`;
    const inst = await instance('dlp');
    const r = run(inst, streamItems(stream, [30, 90], { direction: 1 }));
    // the Content-Length body is not chunked: its "\r\n8\r\n" is data, and no card is made up
    expect(r.alerts.map((a) => a.sigId)).toEqual([1005003]);
  });

  it('chunk-like bytes in a stream that is not HTTP are left alone', async () => {
    const notHttp = `hello there\r\ncard=41111111\r\n8\r\n11111111\r\n`;
    expect(await alertsFor(notHttp)).toEqual([]);
    // the same bytes as the body of a chunked request (a chunk of 8 ending "1111111\r\n") are de-chunked
    const req = chunkedRequest(`d\r\ncard=41111111\r\n8\r\n11111111\r\n0\r\n\r\n`);
    expect((await alertsFor(req)).map((a) => a.sigId)).toEqual([1005001]);
  });
});

describe('malformed chunk framing', () => {
  it.each([
    ['a size that is not hex', 'zz\r\n'],
    ['a size with too many digits', '10000000000\r\n'],
    ['data longer than its size', '3\r\nabcdef\r\n'],
    ['no CR LF after the data', '2\r\nabXY'],
  ])('%s: no trap, and values written out whole in the raw bytes are still found', async (_, bad) => {
    const req = chunkedRequest(`${chunked(`ssn=${SSN}&`, [6]).replace(/0\r\n\r\n$/, '')}${bad}card=${CARD}&x=1\r\n0\r\n\r\n`);
    const inst = await instance('dlp');
    const r = run(inst, streamItems(req, every(7, req.length)));
    expect(inst.stats.traps).toBe(0);
    expect(r.alerts.map((a) => a.sigId)).toEqual([1005002, 1005001]);
  });

  it('after malformed framing, the next request on the connection is de-chunked again', async () => {
    const stream = chunkedRequest('zz\r\nwhatever\r\n') + chunkedRequest(chunked(`card=${CARD}`, [11]));
    expect((await alertsFor(stream)).map((a) => a.sigId)).toEqual([1005001]);
  });
});

describe('with action drop', () => {
  it('the segment completing a value split by a chunk boundary is dropped, and so is each resend of it', async () => {
    const req = chunkedRequest(chunked(`card=${CARD}&x=1`, [13]));
    const cut = req.indexOf('\r\n8\r\n') + 7;
    const rest = req.slice(cut);
    const frames = clientSegmentsAfterHandshake([[0, req.slice(0, cut), 0.003], [cut, rest, 0.004], [cut, rest, 0.2], [cut, rest, 0.6]]);
    const { decisions } = await engineRun(frames, [{ name: 'dlp', config: { action: 'drop' } }]);
    const data = decisions.filter((d) => d.pkt.payloadLength > 0);
    expect(data.map((d) => d.dropped)).toEqual([false, true, true, true]);
  });
});

describe('through the engine', () => {
  it('a chunked POST and its chunked answer in real TCP segments: both values found, at stream offsets', async () => {
    const req = chunkedRequest(chunked(`card=${CARD}&note=hi`, [8, 15]));
    const resp = chunkedResponse(chunked(`your ssn ${SSN} is on file`, [12]));
    const frames = tcpSession({ client: '198.18.0.1', server: '198.18.0.2', serverPort: 8080, toServer: [req.slice(0, 100), req.slice(100)], toClient: [resp] });
    const { decisions } = await engineRun(frames, [{ name: 'dlp' }]);
    const a = alertsOf(decisions, 'dlp');
    expect(a.map((x) => [x.sigId, x.metadata!.direction, x.metadata!.offset])).toEqual([
      [1005001, 'to_server', req.indexOf('card=') + 5],
      [1005002, 'to_client', resp.indexOf('ssn ') + 4],
    ]);
  });

  it('action block_flow stops the flow at the segment completing the split value', async () => {
    const req = chunkedRequest(chunked(`card=${CARD}&x=1`, [13]));
    const cut = req.indexOf('\r\n8\r\n') + 7;
    const frames = tcpSession({ client: '198.18.0.1', server: '198.18.0.2', toServer: [req.slice(0, cut), req.slice(cut)], toClient: ['HTTP/1.1 200 OK\r\n\r\n'] });
    const { decisions } = await engineRun(frames, [{ name: 'dlp', config: { action: 'block_flow' } }]);
    const hit = decisions.find((d) => d.modules[0]?.alerts.length)!;
    expect(hit.modules[0]!.verdict).toBe(Verdict.BLOCK_FLOW);
    expect(enc(req.slice(cut)).length).toBe(hit.pkt.payloadLength);
  });
});
