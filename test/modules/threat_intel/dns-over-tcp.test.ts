// Every message of a DNS-over-TCP connection is checked, both ways: a
// resolver connection (RFC 7766) carries many queries, and its answers get
// the checks a UDP answer gets (CNAME/DNAME targets: "CNAME cloaking").
import { beforeAll, describe, expect, it } from 'vitest';
import { Verdict } from '../../../host/verdict.js';
import { alertsOf, compiledModule, engineRun, tcpSession } from '../dlp/support.js';
import { dnsQuery, dnsResponse } from './wire.js';
import { concat, cut, overTcp } from './streams.js';

const LIST = ['evil.example', '*.cdn.test'].join('\n');

beforeAll(async () => { await compiledModule('threat_intel'); }, 300_000);

interface Conversation { toServer: (string | Uint8Array)[]; toClient?: (string | Uint8Array)[] }

/** One DNS-over-TCP connection (server port 53) per entry through the engine. */
async function connections(list: Conversation[], config: unknown = LIST) {
  const frames = list.flatMap((c, i) => tcpSession({ client: '198.18.0.1', server: '198.18.0.53', serverPort: 53, clientPort: 42000 + i, toServer: c.toServer, toClient: c.toClient ?? [], at: i }));
  const { decisions } = await engineRun(frames, [{ name: 'threat_intel', config }]);
  const alerts = alertsOf(decisions, 'threat_intel').map((a) => {
    const p = decisions[a.frame]!.pkt;
    return { ...a, conn: (p.dstPort === 53 ? p.srcPort : p.dstPort) - 42000, toClient: p.srcPort === 53 };
  });
  return { decisions, alerts, found: alerts.map((a) => [a.conn, a.toClient ? 'to_client' : 'to_server', a.metadata!.seen_in, a.metadata!.name]) };
}

const q = (name: string, id: number) => overTcp(dnsQuery(name, id));

describe('queries after the first on one connection', () => {
  it('a listed name in the second query, sent in its own segment or in the same one', async () => {
    const { found, decisions } = await connections([
      { toServer: [q('www.good.example', 1), q('c2.evil.example', 2)] },
      { toServer: [concat([q('www.good.example', 1), q('a.good.example', 2), q('img.cdn.test', 3)])] },
      { toServer: [q('www.good.example', 1), q('a.good.example', 2), q('cdn.test', 3)] },
    ]);
    expect(found).toEqual([
      [0, 'to_server', 'dns', 'c2.evil.example'],
      [1, 'to_server', 'dns', 'img.cdn.test'],
    ]);
    // the first query did not end the watch
    const first = decisions.find((d) => d.pkt.srcPort === 42000 && d.pkt.payloadLength === q('www.good.example', 1).length)!;
    expect(first.modules[0]!.verdict).toBe(Verdict.CONTINUE);
  });

  it('a message split across segments, the length prefix included, at every offset', async () => {
    const stream = concat([q('www.good.example', 1), q('api.evil.example', 2)]);
    const start = q('www.good.example', 1).length;
    const list: Conversation[] = [];
    for (let k = start + 1; k < stream.length; k++) list.push({ toServer: cut(stream, [start, k]) });
    const { alerts } = await connections(list);
    expect(alerts.map((a) => a.conn)).toEqual(list.map((_, i) => i));
    expect(new Set(alerts.map((a) => a.metadata!.name))).toEqual(new Set(['api.evil.example']));
  });
});

describe('answers over TCP', () => {
  it('a CNAME or DNAME to a listed name in any answer of the connection; unlisted aliases pass', async () => {
    const cname = (qname: string, target: string, id: number) => overTcp(dnsResponse(qname, [
      { type: 'CNAME', owner: qname, data: target },
      { type: 'A', owner: target, data: '192.0.2.80' },
    ], id));
    const plain = (qname: string, id: number) => overTcp(dnsResponse(qname, [{ type: 'A', owner: qname, data: '192.0.2.1' }], id));
    const { found } = await connections([
      // the first answer is clean, the second aliases a listed name: both in one segment
      { toServer: [concat([q('www.shop.example', 1), q('metrics.shop.example', 2)])], toClient: [concat([plain('www.shop.example', 1), cname('metrics.shop.example', 't.evil.example', 2)])] },
      // the cloaked answer split over segments
      { toServer: [q('www.shop.example', 1), q('metrics.shop.example', 2)], toClient: [plain('www.shop.example', 1), ...cut(cname('metrics.shop.example', 't.evil.example', 2), [1, 20])] },
      { toServer: [q('www.shop.example', 1)], toClient: [overTcp(dnsResponse('www.shop.example', [{ type: 'DNAME', owner: 'shop.example', data: 'evil.example' }], 1))] },
      { toServer: [q('www.shop.example', 1), q('m.shop.example', 2)], toClient: [plain('www.shop.example', 1), cname('m.shop.example', 'cdn.shop.example', 2)] },
    ]);
    expect(found).toEqual([
      [0, 'to_client', 'dns_answer', 't.evil.example'],
      [1, 'to_client', 'dns_answer', 't.evil.example'],
      [2, 'to_client', 'dns_answer', 'evil.example'],
    ]);
  });
});
