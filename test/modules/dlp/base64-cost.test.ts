// DLP-5, base64 parts: each stream byte of a declared part is decoded once
// and the decoded bytes scanned once, so what a sender packs into a part
// (digit runs and key-id prefixes to decode, a character per line, stray
// padding, boundary-like lines) costs work in proportion to its bytes:
// compared with a plain body of the same size, as codings-cost.test.ts does.
import { beforeAll, describe, expect, it } from 'vitest';
import { compiledModule } from './support.js';
import { COST_SIZE, costAgainstPlain } from './codings-support.js';
import { base64Lines } from './base64-support.js';

beforeAll(async () => { await compiledModule('dlp'); }, 300_000);

const SIZE = COST_SIZE;
const declared = (body: string) => `EHLO c\r\nDATA\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n${body}\r\n.\r\n`;

describe('DLP-5: base64 decoding costs work in proportion to the bytes', () => {
  // (the same limits as codings-cost.test.ts: a byte-at-a-time decoder measured well under them,
  // at most 12 times a plain body alone; a scan that went back over kept bytes for each new one
  // would cost hundreds of times more. Dense candidates get the looser limit: the detectors work
  // through each of them once decoded, after the raw scan went over the base64 text, measured at
  // 6 to 8 times alone and past 12 once with the other test files running beside it)
  it.each([
    ['an attachment of digit runs and key-id prefixes (dense candidates once decoded)', 25, () => declared(base64Lines('4111 1111 AKIA eyJ 219-09-'.repeat(SIZE * 3 / 4 / 25)))],
    ['an attachment of one long unbroken card-like digit run', 12, () => declared(base64Lines('4'.repeat(SIZE * 3 / 4)))],
    ['one base64 character per line (every byte through the line tracker)', 25, () => declared('Q\r\nU\r\nJ\r\nD\r\n'.repeat(SIZE / 12))],
    ['stray padding after every character', 25, () => declared('Q='.repeat(SIZE / 2))],
    ['boundary-like lines and SMTP-like dots', 25, () => declared('--x\r\nQUJD\r\n.\r\n'.repeat(SIZE / 15))],
    ['"base64" over and over on one long line of a stream with no decoder (the trigger looks at a line once)', 12, () => `note ${'x: base64 '.repeat(SIZE / 10)}\n`],
    ['parts declared again and again, each one line long', 25, () => `EHLO c\r\nDATA\r\n${'Content-Transfer-Encoding: base64\r\n\r\nNDExMTEx\r\n--b\r\n'.repeat(SIZE / 52)}.\r\n`],
  ])('%s, in 1448-byte segments, costs a bounded multiple of a plain body of its size', async (_, limit, make) => {
    const crafted = make();
    expect(crafted.length).toBeGreaterThan(SIZE / 2);
    const c = await costAgainstPlain(crafted);
    expect(c.ratio, JSON.stringify(c)).toBeLessThan(limit);
  }, 120_000);
});
