// Mail and multipart uploads with base64 parts for the dlp tests of DLP-5
// (an attachment is how a document leaves), and where the module should
// report a value found in one: the stream offset of the base64 character
// its first byte's bits begin in.
import { mulberry32 } from '../../support/random.js';

/** Base64 of `data` written as MIME writers do: lines of `width` characters ending in CR LF. */
export function base64Lines(data: string | Uint8Array, width = 76, eol = '\r\n'): string {
  const b64 = Buffer.from(data).toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += width) lines.push(b64.slice(i, i + width));
  return lines.join(eol);
}

/** Stream offset of the character holding the first bit of decoded byte k, in a body written by base64Lines starting at bodyStart. */
export function base64Offset(bodyStart: number, k: number, width = 76, eolLength = 2): number {
  const ch = 4 * Math.floor(k / 3) + (k % 3);
  return bodyStart + ch + eolLength * Math.floor(ch / width);
}

export const BOUNDARY = '=_part_7f3a';

export interface Part { headers: string; body: string }

/** A MIME part with its headers (each ending in CR LF). */
export function part(headers: string, body: string): Part { return { headers, body }; }

export function attachment(name: string, data: string | Uint8Array, cte = 'base64'): Part {
  return part(`Content-Type: application/octet-stream; name="${name}"\r\nContent-Disposition: attachment; filename="${name}"\r\nContent-Transfer-Encoding: ${cte}\r\n`, base64Lines(data));
}

/** A multipart body; the offset of each part's body in it. */
export function multipart(parts: Part[]): { body: string; bodyStarts: number[] } {
  let body = 'This is a multi-part message in MIME format.\r\n';
  const bodyStarts: number[] = [];
  for (const p of parts) {
    body += `--${BOUNDARY}\r\n${p.headers}\r\n`;
    bodyStarts.push(body.length);
    body += `${p.body}\r\n`;
  }
  return { body: `${body}--${BOUNDARY}--\r\n`, bodyStarts };
}

export const SMTP_COMMANDS = 'EHLO client.example\r\nMAIL FROM:<a@client.example>\r\nRCPT TO:<b@server.example>\r\nDATA\r\n';

/** A client's side of an SMTP session sending a multipart mail; where the mail's body starts in it. */
export function smtpMail(parts: Part[]): { stream: string; bodyStarts: number[] } {
  const head = `${SMTP_COMMANDS}From: a@client.example\r\nTo: b@server.example\r\nSubject: quarterly export\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="${BOUNDARY}"\r\n\r\n`;
  const { body, bodyStarts } = multipart(parts);
  return { stream: `${head}${body}.\r\nQUIT\r\n`, bodyStarts: bodyStarts.map((s) => s + head.length) };
}

/** An HTTP upload of a multipart body with Content-Length; where each part's body starts in it. */
export function multipartPost(parts: Part[]): { stream: string; bodyStarts: number[] } {
  const { body, bodyStarts } = multipart(parts);
  const head = `POST /upload HTTP/1.1\r\nHost: files.example\r\nContent-Type: multipart/form-data; boundary=${BOUNDARY}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
  return { stream: head + body, bodyStarts: bodyStarts.map((s) => s + head.length) };
}

export const TEXT_PART = part('Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n', 'Please find the export attached.');

/** A seeded generator, so a "random" input is the same on every run. */
export const seeded = mulberry32;

export function randomBytes(n: number, rnd: () => number): Uint8Array {
  return Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256));
}
