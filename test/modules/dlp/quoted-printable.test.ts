// DLP-5, content coding: quoted-printable soft line breaks ("=\r\n") and =XX
// escapes are undone in a part declared `Content-Transfer-Encoding:
// quoted-printable` (a mail body after SMTP DATA, a MIME part in an HTTP
// body), and soft breaks between digit groups anywhere.
import { beforeAll, describe, expect, it } from 'vitest';
import { alertsOf, compiledModule, engineRun, instance, run, tcpSession } from './support.js';
import { AWS_ID, CARD, JWT, SSN, chunked, chunkedRequest, every, quotedPrintable, streamItems } from './codings-support.js';

beforeAll(async () => { await compiledModule('dlp'); }, 300_000);

const MC = '5555555555554444';

async function sigs(stream: string, cuts: number[] = []): Promise<number[]> {
  const inst = await instance('dlp');
  return run(inst, streamItems(stream, cuts)).alerts.map((a) => a.sigId);
}

function mail(headers: string, body: string): string {
  return 'EHLO client.example\r\nMAIL FROM:<a@client.example>\r\nRCPT TO:<b@server.example>\r\nDATA\r\n'
    + `From: a@client.example\r\nTo: b@server.example\r\nSubject: report\r\n${headers}\r\n${body}\r\n.\r\nQUIT\r\n`;
}
const QP = 'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n';

describe('a mail body declared quoted-printable (SMTP DATA)', () => {
  it('the audit\'s case: 5555 5555 5555 44=\\r\\n44 is one card, at the offset of its first digit', async () => {
    const stream = mail(QP, 'Card on file: 5555 5555 5555 44=\r\n44 thanks');
    const inst = await instance('dlp');
    const r = run(inst, streamItems(stream));
    expect(r.alerts.map((a) => [a.sigId, a.metadata!.offset, a.metadata!.redacted])).toEqual([[1005001, stream.indexOf('5555 '), '************4444']]);
  });

  it('an encoder wrapping at 76 columns splits a JWT, a key id and a card; =XX escapes hide an SSN\'s dashes', async () => {
    const text = `Hello,\nplease use ${'x'.repeat(40)} ${JWT} for the API and key ${'y'.repeat(40)} ${AWS_ID}.\nCard ${'z'.repeat(64)} ${MC}\nSSN: ${SSN}\n`;
    const body = quotedPrintable(text, 76, '-');
    // each value is cut by a soft break, or written with escapes
    for (const v of [JWT, AWS_ID, MC, SSN]) expect(body).not.toContain(v);
    expect(body).toContain('219=2D09=2D9999');
    const stream = mail(QP, body);
    expect((await sigs(stream, every(100, stream.length))).sort()).toEqual([1005001, 1005002, 1005003, 1005006]);
  });

  it('a soft break with a bare LF (=\\n) and one cut across TCP segments', async () => {
    const stream = mail(QP, `a 4111 1111=\n1111 1111 b\r\nc 5555 5555 5555 44=\r\n44 d`);
    const at = stream.indexOf('44=\r\n44') + 3;
    for (const cut of [at - 1, at, at + 1, at + 2]) expect(await sigs(stream, [cut]), `cut at ${cut}`).toEqual([1005001, 1005001]);
  });
});

describe('MIME parts in an HTTP body', () => {
  const part = (cte: string, content: string) => `--XyZ\r\nContent-Type: text/plain\r\n${cte}\r\n${content}\r\n`;
  const multipart = (parts: string) => `${parts}--XyZ--\r\n`;

  it('only the part declared quoted-printable has its escapes decoded', async () => {
    const escaped = '4111=201111=201111=201111';
    const plain = multipart(part('Content-Transfer-Encoding: 8bit\r\n', `ref ${escaped} end`));
    const qp = multipart(part('Content-Transfer-Encoding: 8bit\r\n', 'nothing') + part('Content-Transfer-Encoding: Quoted-Printable\r\n', `ref ${escaped} end`));
    const post = (body: string) => `POST /mail HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    expect(await sigs(post(plain))).toEqual([]);
    expect(await sigs(post(qp))).toEqual([1005001]);
  });

  it('a quoted-printable part inside a chunked body, chunk boundaries cutting through =\\r\\n and =XX', async () => {
    const body = multipart(part('Content-Transfer-Encoding: quoted-printable\r\n', `a 5555 5555=\r\n 5555 4444 b ${JWT.slice(0, 30)}=\r\n${JWT.slice(30)} c 219=2D09=2D9999 d`));
    const cuts = [body.indexOf('=\r\n 5555') + 1, body.indexOf('=\r\n 5555') + 2, body.indexOf('=2D') + 1, body.indexOf('=2D') + 2, body.indexOf(JWT.slice(25, 30)) + 2];
    const req = chunkedRequest(chunked(body, cuts));
    expect((await sigs(req, every(33, req.length))).sort()).toEqual([1005001, 1005002, 1005006]);
  });
});

describe('soft breaks outside a declared part', () => {
  it('a soft break between digit groups is undone anyway (a card wrapped in a mail whose header was not seen)', async () => {
    const stream = `note: card 4111 1111 1111 11=\r\n11 ok\r\n`;
    expect(await sigs(stream)).toEqual([1005001]);
  });

  it('but not elsewhere: a JWT cut by "=\\r\\n" without a declaration stays unseen (the trade-off in README.md)', async () => {
    const stream = `note: token ${JWT.slice(0, 40)}=\r\n${JWT.slice(40)} ok\r\n`;
    expect(await sigs(stream)).toEqual([]);
  });

  it('an "=" ending a line after a word, or before a letter, is left alone', async () => {
    expect(await sigs(`a=\r\n4111 1111 1111 1111\r\nb 4111 1111=\r\nx1111 1111\r\n`)).toEqual([1005001]);
  });
});

describe('through the engine', () => {
  it('an SMTP session on port 587: the card wrapped by the mail encoder is reported once, to_server', async () => {
    const body = quotedPrintable(`Dear team,\nthe corporate card is ${'n'.repeat(40)} ${CARD}, keep it safe.\n`);
    expect(body).not.toContain(CARD);
    const m = mail(QP, body);
    const frames = tcpSession({ client: '198.18.0.1', server: '198.18.0.2', serverPort: 587, toServer: m.split(/(?<=\r\n)/), toClient: ['220 mx ESMTP\r\n', '250 ok\r\n'] });
    const { decisions } = await engineRun(frames, [{ name: 'dlp' }]);
    expect(alertsOf(decisions, 'dlp').map((a) => [a.sigId, a.metadata!.direction, a.metadata!.offset])).toEqual([[1005001, 'to_server', m.indexOf(CARD.slice(0, 8))]]);
  });
});
