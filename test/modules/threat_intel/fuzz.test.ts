import { beforeAll, expect, it } from 'vitest';
import type { InspectItem } from '../../../host/wasm/types.js';
import { item, packet } from '../../host/wasm/helpers.js';
import { compiledModule, instance, enc } from '../dlp/support.js';
import { fuzz, scribble } from '../dlp/fuzz-support.js';
import { clientHello, dnsQuery, dnsResponse, splitIntoRecords } from './wire.js';
import { concat } from './streams.js';
import { changeCipherSpec, dnsQueryQuestions, oneRecord } from './retry-wire.js';

const overTcp = (...msgs: Uint8Array[]) => concat(msgs.flatMap((m) => [Uint8Array.from([m.length >> 8, m.length & 0xff]), m]));

beforeAll(async () => { await compiledModule('threat_intel'); }, 300_000);

it('1,000,000 mutated DNS queries and answers (UDP and TCP), ClientHellos (one or many records) and HTTP keep-alive streams (lying lengths, loops, truncation): no trap, memory flat', async () => {
  const inst = await instance('threat_intel', '198.18.0.0/16\n2001:db8::/32\nevil.example\n*.x.test\n');
  const dnsSeeds = [
    dnsQuery('a.evil.example'),
    Uint8Array.from([0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0x0c, 0, 1, 0, 1]), // a compression loop in the question
    dnsResponse('m.shop.example', [{ type: 'CNAME', owner: 'm.shop.example', data: 't.evil.example' }, { type: 'A', owner: 't.evil.example', data: '192.0.2.1' }]),
    // a CNAME whose target points at itself
    Uint8Array.from([0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0x61, 0, 0, 1, 0, 1, 0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 1, 0, 2, 0xc0, 31]),
    // several questions, the second ending in a pointer into the first; a count past the questions present
    dnsQueryQuestions(['ok.test', [1, 0x61, 4, 0x65, 0x76, 0x69, 0x6c, 0xc0, 15], 'b.evil.example'], 40),
  ];
  const tcpSeeds = [
    clientHello('www.evil.example'),
    clientHello(null),
    splitIntoRecords(clientHello('www.evil.example'), [3, 50, 60]),
    // a second hello as after a HelloRetryRequest: behind change_cipher_spec, and in the first one's record
    concat([clientHello('ok.test'), changeCipherSpec(), splitIntoRecords(clientHello('www.evil.example'), [30])]),
    oneRecord(clientHello(null), clientHello('www.evil.example')),
    enc('GET / HTTP/1.1\r\nHost: q.x.test\r\nUser-Agent: f\r\n\r\n'),
    enc('POST /a HTTP/1.1\r\nhost:\r\n\r\n'),
    enc('\r\nGET http://u@[2001:db8::1]:80/x HTTP/1.1\r\nHost: q.x.test\r\n\r\n'),
    enc('CONNECT q.x.test:443 HTTP/1.1\r\nHost: ok.test\r\n\r\n'),
    // keep-alive: a chunked body, a Content-Length body, then requests the follower must reach
    enc('POST /u HTTP/1.1\r\nHost: ok.test\r\nTransfer-Encoding: chunked\r\n\r\n5;e=1\r\nhello\r\n0\r\nT: 1\r\n\r\n'
      + 'PUT /v HTTP/1.1\r\nHost: ok.test\r\nContent-Length: 4\r\n\r\nGET GET / HTTP/1.1\r\nHost: q.x.test\r\n\r\n'),
  ];
  // DNS over TCP (server port 53): two queries and a cloaked answer, each with its length prefix
  const dnsTcpSeeds = [
    overTcp(dnsQuery('ok.test'), dnsQuery('a.evil.example')),
    overTcp(dnsResponse('m.shop.example', [{ type: 'CNAME', owner: 'm.shop.example', data: 't.evil.example' }])),
  ];
  const seeds = [...dnsSeeds, ...tcpSeeds, ...dnsTcpSeeds];
  const templates: InspectItem[] = [];
  for (let i = 0; i < 256; i++) {
    const k = i % seeds.length;
    const isDns = k < dnsSeeds.length;
    const isDnsTcp = k >= dnsSeeds.length + tcpSeeds.length;
    const p = packet({ src: '203.0.113.1', dst: '203.0.113.2', proto: isDns ? 'udp' : 'tcp', dstPort: isDns || isDnsTcp ? 53 : 443, payload: seeds[k]! });
    templates.push(item(p, { flowId: i + 1 }));
  }
  const originals = templates.map((t) => t.pkt.data.slice());
  const stats = fuzz(inst, templates, (it, rnd, noise) => {
    const p = it.pkt;
    const k = templates.indexOf(it);
    p.data.set(originals[k]!);
    const payload = p.data.subarray(p.payloadOffset, p.payloadOffset + p.payloadLength);
    // a few random bytes, often in the length fields near the front
    const hits = 1 + (rnd() % 6);
    for (let h = 0; h < hits; h++) payload[rnd() % (rnd() % 2 === 0 ? Math.min(payload.length, 48) : payload.length)] = rnd() & 0xff;
    if (rnd() % 16 === 0) scribble(payload, 0, payload.length, rnd, noise);
    if (p.proto === 6) {
      const keep = rnd() % (payload.length + 1);
      it.stream = keep > 0 ? payload.subarray(0, keep) : null;
      it.streamNew = keep > 0 ? 1 + (rnd() % keep) : 0;
    }
  });
  expect(stats.alerts).toBeGreaterThan(1000);
}, 300_000);
