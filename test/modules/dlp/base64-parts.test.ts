// DLP-5, base64 parts: the body of a part declared `Content-Transfer-
// Encoding: base64` (a mail attachment after SMTP DATA, a file in an HTTP
// multipart upload) is decoded and the decoded bytes go through the same
// detectors, each value reported once, at the stream offset of the base64
// character its first byte begins in.
import { beforeAll, describe, expect, it } from 'vitest';
import type { ModuleAlert } from '../../../host/wasm/types.js';
import { alertsOf, compiledModule, engineRun, instance, run, tcpSession } from './support.js';
import { AWS_ID, CARD, JWT, SSN, chunked, chunkedRequest, every, streamItems } from './codings-support.js';
import { TEXT_PART, attachment, base64Lines, base64Offset, multipartPost, part, randomBytes, seeded, smtpMail } from './base64-support.js';

beforeAll(async () => { await compiledModule('dlp'); }, 300_000);

const CSV = `name,card,ssn\r\nAlice Example,${CARD},${SSN}\r\n`;
const summary = (a: ModuleAlert[]) => a.map((x) => [x.sigId, x.metadata!.offset, x.metadata!.redacted]);

async function alertsFor(stream: string, cuts: number[] = [], config?: unknown): Promise<ModuleAlert[]> {
  const inst = await instance('dlp', config);
  const r = run(inst, streamItems(stream, cuts));
  expect(inst.stats.traps).toBe(0);
  return r.alerts;
}

describe('a base64 attachment in an SMTP DATA body', () => {
  it('the card and the SSN of an attached CSV are found, each once, at the base64 character its first byte begins in', async () => {
    const { stream, bodyStarts } = smtpMail([TEXT_PART, attachment('export.csv', CSV)]);
    // nothing of either value is in the wire bytes
    expect(stream).not.toContain(CARD.slice(0, 6));
    expect(stream).not.toContain(SSN);
    const at = (v: string) => base64Offset(bodyStarts[1]!, CSV.indexOf(v));
    expect(summary(await alertsFor(stream, every(1448, stream.length)))).toEqual([
      [1005001, at(CARD), '************1111'],
      [1005002, at(SSN), '***-**-9999'],
    ]);
  });

  it('through the engine, an SMTP session on port 25 as a client writes it (commands, then the message in 1448-byte segments)', async () => {
    const { stream, bodyStarts } = smtpMail([TEXT_PART, attachment('export.csv', `${'padding line\r\n'.repeat(120)}${CSV}`)]);
    const dataAt = stream.indexOf('DATA\r\n') + 6;
    const segments = [...stream.slice(0, dataAt).split(/(?<=\r\n)/)];
    for (let i = dataAt; i < stream.length; i += 1448) segments.push(stream.slice(i, Math.min(i + 1448, stream.length)));
    const frames = tcpSession({ client: '198.18.0.1', server: '198.18.0.2', serverPort: 25, toServer: segments, toClient: ['220 mx ESMTP\r\n', '250 ok\r\n'] });
    const { decisions } = await engineRun(frames, [{ name: 'dlp' }]);
    const csvAt = `${'padding line\r\n'.repeat(120)}`.length;
    expect(alertsOf(decisions, 'dlp').map((a) => [a.sigId, a.metadata!.direction, a.metadata!.offset])).toEqual([
      [1005001, 'to_server', base64Offset(bodyStarts[1]!, csvAt + CSV.indexOf(CARD))],
      [1005002, 'to_server', base64Offset(bodyStarts[1]!, csvAt + CSV.indexOf(SSN))],
    ]);
  });

  it('a whole message declared base64 (no multipart), its last line without padding, ended by SMTP\'s "."', async () => {
    const text = `key ${AWS_ID} card ${CARD}`; // 41 bytes: the last quantum is short
    const b64 = base64Lines(text).replace(/=+$/, '');
    const stream = `EHLO c\r\nMAIL FROM:<a@c>\r\nRCPT TO:<b@s>\r\nDATA\r\nSubject: x\r\nContent-Transfer-Encoding: Base64\r\n\r\n${b64}\r\n.\r\nQUIT\r\n`;
    expect((await alertsFor(stream)).map((a) => a.sigId).sort()).toEqual([1005001, 1005003]);
  });

  it('the declaration is case-insensitive and any line width decodes (a 60-column encoder, bare LF line ends)', async () => {
    const body = base64Lines(CSV, 60, '\n');
    const stream = `${'EHLO c\nDATA\n'}Content-Type: text/csv\nCONTENT-TRANSFER-ENCODING:   BASE64\n\n${body}\n.\n`;
    expect((await alertsFor(stream)).map((a) => a.sigId)).toEqual([1005001, 1005002]);
  });
});

describe('a direction that does not start like SMTP or HTTP', () => {
  it('the declaration line alone brings a decoder, wherever the packets cut it (a stream joined mid-mail)', async () => {
    const { stream: whole, bodyStarts } = smtpMail([TEXT_PART, attachment('export.csv', CSV)]);
    const from = whole.indexOf('is a multi-part');
    const stream = whole.slice(from);
    expect(stream[0]).toMatch(/[a-z]/);
    const decl = stream.indexOf('Content-Transfer-Encoding: base64');
    const at = base64Offset(bodyStarts[1]! - from, CSV.indexOf(CARD));
    const inst = await instance('dlp');
    for (let cut = decl - 2; cut < decl + 40; cut++) {
      const r = run(inst, streamItems(stream, [cut], { flowId: 7000 + cut }));
      expect(r.alerts.map((a) => [a.sigId, a.metadata!.offset]), `cut at ${cut}`).toEqual([[1005001, at], [1005002, base64Offset(bodyStarts[1]! - from, CSV.indexOf(SSN))]]);
    }
  });
});

describe('a base64 part in an HTTP multipart upload', () => {
  it('a file part with Content-Length: its values are found; the text part and the boundaries are not decoded', async () => {
    const { stream, bodyStarts } = multipartPost([TEXT_PART, attachment('export.csv', CSV)]);
    const at = (v: string) => base64Offset(bodyStarts[1]!, CSV.indexOf(v));
    expect(summary(await alertsFor(stream))).toEqual([[1005001, at(CARD), '************1111'], [1005002, at(SSN), '***-**-9999']]);
  });

  it('a value ending the attachment is not joined to the boundary after it', async () => {
    const { stream } = multipartPost([attachment('card.txt', CARD)]);
    expect((await alertsFor(stream)).map((a) => a.sigId)).toEqual([1005001]);
  });

  it('the same upload chunked, chunk boundaries and TCP segments cutting the base64 lines', async () => {
    const { stream } = multipartPost([TEXT_PART, attachment('token.txt', `t=${JWT}\nssn ${SSN}\n`)]);
    const body = stream.slice(stream.indexOf('\r\n\r\n') + 4);
    const req = chunkedRequest(chunked(body, every(13, body.length)));
    expect((await alertsFor(req, every(97, req.length))).map((a) => a.sigId).sort()).toEqual([1005002, 1005006]);
  });

  it('two uploads on one kept-alive connection: the second one\'s part is decoded too, and each value is reported once', async () => {
    const a = multipartPost([attachment('a.csv', `${CARD}\n`)]).stream;
    const b = multipartPost([attachment('b.csv', `${SSN}\n`)]).stream;
    expect((await alertsFor(a + b, [a.length + 10])).map((x) => x.sigId)).toEqual([1005001, 1005002]);
  });
});

describe('a base64 line split across TCP segments', () => {
  it('cut at every offset around the encoded card: one card, always at the same offset', async () => {
    const { stream, bodyStarts } = smtpMail([attachment('export.csv', CSV)]);
    const at = base64Offset(bodyStarts[0]!, CSV.indexOf(CARD));
    const inst = await instance('dlp');
    for (let cut = bodyStarts[0]! - 4; cut < bodyStarts[0]! + 80; cut++) {
      const r = run(inst, streamItems(stream, [cut], { flowId: 5000 + cut }));
      expect(r.alerts.filter((a) => a.sigId === 1005001).map((a) => a.metadata!.offset), `cut at ${cut}`).toEqual([at]);
    }
  });

  it('every byte in its own segment', async () => {
    const { stream } = smtpMail([attachment('export.csv', CSV)]);
    expect((await alertsFor(stream, every(1, stream.length))).map((a) => a.sigId)).toEqual([1005001, 1005002]);
  });

  it('with action drop, a dropped segment resent: the card is dropped again', async () => {
    const { stream, bodyStarts } = smtpMail([attachment('export.csv', CSV)]);
    const cut = base64Offset(bodyStarts[0]!, CSV.indexOf(CARD) + 8);
    const items = streamItems(stream, [cut]);
    const inst = await instance('dlp', { action: 'drop', detect: ['credit_card'] });
    const first = run(inst, items);
    expect(first.alerts.map((a) => [a.sigId, a.index])).toEqual([[1005001, 1]]);
    // the receiver never got the second segment: it comes again
    const again = run(inst, [items[1]!]);
    expect(again.alerts.map((a) => a.sigId)).toEqual([1005001]);
  });
});

describe('malformed base64', () => {
  it('junk, stray padding, binary bytes and a 64 KiB line in a declared part: no trap, and the raw scan still finds a card in plain text', async () => {
    const junk = [
      'QUJD!!!@@@###$$$',
      '====',
      'Q=Q=Q=Q=',
      'A',
      String.fromCharCode(...Array.from({ length: 200 }, (_, i) => (i * 37) % 256)),
      'QUJD'.repeat(16384),
      '-',
      '-x--',
      '.',
    ].join('\r\n');
    const { stream } = smtpMail([attachment('bad.bin', '', 'base64'), part('Content-Type: text/plain\r\nContent-Transfer-Encoding: 8bit\r\n', `card ${CARD} ok`)]);
    const bad = stream.replace(`Content-Transfer-Encoding: base64\r\n\r\n`, `Content-Transfer-Encoding: base64\r\n\r\n${junk}`);
    for (const size of [1, 7, 1448]) {
      expect((await alertsFor(bad, every(size, bad.length))).map((a) => a.sigId), `segments of ${size}`).toEqual([1005001]);
    }
  });

  it('characters outside the alphabet are skipped, as RFC 2045 says: a card encoded with junk between its characters is found', async () => {
    const b64 = Buffer.from(`card ${CARD} ok`).toString('base64');
    const noisy = b64.split('').join('*');
    const stream = `EHLO c\r\nDATA\r\nContent-Transfer-Encoding: base64\r\n\r\n${noisy}\r\n.\r\n`;
    expect((await alertsFor(stream)).map((a) => a.sigId)).toEqual([1005001]);
  });

  it('random bytes in declared parts, in random segments, with every action: no trap', async () => {
    const rnd = seeded(7);
    for (const action of ['alert', 'drop']) {
      const inst = await instance('dlp', { action });
      for (let f = 0; f < 40; f++) {
        const noise = Buffer.from(randomBytes(3000, rnd)).toString('latin1');
        const stream = `EHLO c\r\nDATA\r\nContent-Transfer-Encoding: base64\r\n\r\n${noise}\r\n.\r\n`;
        const cuts = Array.from({ length: 8 }, () => Math.floor(rnd() * stream.length));
        run(inst, streamItems(Buffer.from(stream, 'latin1'), cuts, { flowId: f + 1 }));
      }
      expect(inst.stats.traps).toBe(0);
    }
  });
});

describe('only declared parts are decoded', () => {
  const encodedCard = base64Lines(`card ${CARD} ssn ${SSN}`);

  it.each([
    ['a part declared 8bit', multipartPost([part('Content-Type: text/plain\r\nContent-Transfer-Encoding: 8bit\r\n', encodedCard)]).stream],
    ['a part declared quoted-printable', multipartPost([part('Content-Transfer-Encoding: quoted-printable\r\n', encodedCard)]).stream],
    ['a part without a declaration', multipartPost([part('Content-Type: text/plain\r\n', encodedCard)]).stream],
    ['a plain form body', `POST /f HTTP/1.1\r\nHost: x\r\nContent-Length: ${encodedCard.length + 5}\r\n\r\ndata=${encodedCard}`],
    ['a data: URI saying base64', `POST /f HTTP/1.1\r\nHost: x\r\nContent-Length: ${encodedCard.length + 28}\r\n\r\nimg=data:text/plain;base64,${encodedCard}`],
    ['"base64" mentioned in a header that is not the transfer encoding', multipartPost([part('Content-Type: text/plain\r\nX-Encoding: base64\r\n', encodedCard)]).stream],
    ['the text after a base64 part\'s boundary', multipartPost([attachment('a.bin', 'nothing'), part('Content-Type: text/plain\r\n', encodedCard)]).stream],
  ])('base64 text in %s is not decoded', async (_, stream) => {
    expect(await alertsFor(stream)).toEqual([]);
  });

  it('a declared part of random data (256 KiB) decodes to nothing a detector flags', async () => {
    const rnd = seeded(11);
    const { stream } = smtpMail([attachment('random.bin', randomBytes(256 * 1024, rnd))]);
    expect(await alertsFor(stream, every(1448, stream.length))).toEqual([]);
  });
});
