// DLP-5: de-chunking and quoted-printable decoding decode each stream byte
// once, so what a sender packs into its framing (one-byte chunks, endless
// chunk extensions, a soft break after every digit) costs work in
// proportion to its bytes: compared with a plain body of the same size.
import { beforeAll, describe, expect, it } from 'vitest';
import { compiledModule } from './support.js';
import { COST_SIZE, chunked, chunkedRequest, costAgainstPlain, every, oneByteChunks } from './codings-support.js';

beforeAll(async () => { await compiledModule('dlp'); }, 300_000);

const SIZE = COST_SIZE;

describe('DLP-5: decoding costs work in proportion to the bytes', () => {
  // (the limits: a decoder handling each byte, as for escapes, measured at up to 10 times the
  // plain body's cost, which passes runs of plain bytes on in one piece; a scan that went back
  // over kept bytes for each new one would cost hundreds of times more)
  it.each([
    ['one-byte chunks of digits and key-id prefixes', 12, () => chunkedRequest(oneByteChunks('4111 1111 AKIA eyJ '.repeat(SIZE / 6 / 19)))],
    ['one chunk whose size line has a 48 KiB extension', 12, () => chunkedRequest(`10;x=${'a'.repeat(SIZE)}\r\n${'b'.repeat(16)}\r\n0\r\n\r\n`)],
    ['chunks of 7 bytes whose boundaries cut digit runs', 12, () => chunkedRequest(chunked('12345 67890 '.repeat(SIZE / 12 / 1.6), every(7, SIZE / 1.6)))],
    ['a soft break after every digit (quoted-printable, undeclared)', 25, () => `note ${'1=\r\n'.repeat(SIZE / 4)} end`],
    ['a declared quoted-printable body of escapes and soft breaks', 25, () => `Content-Transfer-Encoding: quoted-printable\r\n\r\n${'=34=31=\r\n1 '.repeat(SIZE / 11)}`],
  ])('%s, in 1448-byte segments, costs a bounded multiple of a plain body of its size', async (_, limit, make) => {
    const c = await costAgainstPlain(make());
    expect(c.ratio, JSON.stringify(c)).toBeLessThan(limit);
  }, 120_000);
});
