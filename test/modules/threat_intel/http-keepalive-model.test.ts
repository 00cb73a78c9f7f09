// Random keep-alive connections against what they mean: requests with no
// body, a Content-Length body or a chunked one (extensions, trailers), bodies
// full of request lines naming a listed decoy, the stream cut at random
// places. The alert must name the first listed request, and nothing else.
import { beforeAll, expect, it } from 'vitest';
import { compiledModule, instance, run } from '../dlp/support.js';
import { clientStream, cut } from './streams.js';

beforeAll(async () => { await compiledModule('threat_intel'); }, 300_000);

function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x; };
}

const DECOY = 'GET http://decoy.evil.example/ HTTP/1.1\r\nHost: decoy.evil.example\r\n\r\n';

function body(rnd: () => number): string {
  let b = '';
  const parts = rnd() % 4;
  for (let i = 0; i < parts; i++) b += rnd() % 2 === 0 ? DECOY : 'x'.repeat(rnd() % 300) + '\r\n';
  return b;
}

function chunked(b: string, rnd: () => number): string {
  let out = '';
  let i = 0;
  while (i < b.length) {
    const n = 1 + (rnd() % 90);
    const piece = b.slice(i, i + n);
    out += `${piece.length.toString(16)}${rnd() % 3 === 0 ? ';ext=1' : ''}\r\n${piece}\r\n`;
    i += n;
  }
  return out + '0\r\n' + (rnd() % 2 === 0 ? 'X-Sum: 1\r\n' : '') + '\r\n';
}

function request(host: string, rnd: () => number, absolute: boolean): string {
  const target = absolute ? `http://${host}/p` : '/p';
  const kind = rnd() % 3;
  const b = kind === 0 ? '' : body(rnd);
  let head = `${kind === 0 ? 'GET' : 'POST'} ${target} HTTP/1.1\r\nHost: ${host}\r\nAccept: */*\r\n`;
  if (kind === 1) return head + `Content-Length: ${b.length}\r\n\r\n` + b;
  if (kind === 2) return head + 'Transfer-Encoding: chunked\r\n\r\n' + chunked(b, rnd);
  return head + '\r\n';
}

it('500 random keep-alive connections, split anywhere: the alert names the first listed request, never a body', async () => {
  const inst = await instance('threat_intel', 'evil.example\n');
  const rnd = rng(0x5eed);
  let listedConnections = 0;
  for (let c = 0; c < 500; c++) {
    const n = 1 + (rnd() % 6);
    const listedAt = rnd() % (n + 1); // n: none listed
    const absolute = rnd() % 4 === 0;
    let stream = '';
    for (let i = 0; i < n; i++) stream += request(i === listedAt ? `r${i}.evil.example` : `r${i}.good.example`, rnd, absolute);
    const cuts = new Set<number>();
    const pieces = rnd() % 8;
    for (let k = 0; k < pieces; k++) cuts.add(1 + (rnd() % (stream.length - 1)));
    const r = run(inst, clientStream(1 + c, cut(stream, [...cuts].sort((a, b) => a - b))));
    const names = r.alerts.map((a) => a.metadata!.name);
    if (listedAt < n) listedConnections++;
    expect(names, `connection ${c}: ${JSON.stringify(stream)}`).toEqual(listedAt < n ? [`r${listedAt}.evil.example`] : []);
  }
  expect(listedConnections).toBeGreaterThan(300);
});
