// Base64 (RFC 2045 6.8) as it reaches the view: the body of a part declared
// `Content-Transfer-Encoding: base64` (a mail or attachment after SMTP DATA,
// a MIME part of an HTTP upload) is decoded from the blank line ending its
// headers to the next "--" line, SMTP's end of data or the end of the HTTP
// message (quoted-printable.ts follows those lines for both codings). This
// is how documents leave in mail, so a card in an attachment is a card.
// Each decoded byte carries the stream offset of the character its bits
// begin in. Line breaks and any other byte outside the alphabet are skipped,
// as RFC 2045 tells decoders to; '=' ends a quantum (the bits left over are
// dropped, so missing padding changes nothing) and decoding goes on after it.
import { DecoderState } from "./decoder-state";
import { emit } from "./decoded-view";

@inline function sextet(c: u8): i32 {
  if (<u8>(c - 0x41) < 26) return c - 0x41;
  if (<u8>(c - 0x61) < 26) return c - 0x61 + 26;
  if (<u8>(c - 0x30) < 10) return c - 0x30 + 52;
  if (c == 0x2b) return 62;
  return c == 0x2f ? 63 : -1;
}

/** A part's body starts: nothing of an earlier part carries over. */
export function b64Begin(d: DecoderState): void {
  d.b64Bits = 0;
  d.b64Count = 0;
  d.b64SkipLine = false;
}

/**
 * The part is over: what follows is not joined to its last decoded byte (a
 * card ending an attachment would otherwise run into the next line).
 */
export function b64End(d: DecoderState): void {
  b64Begin(d);
  if (d.viewActive) emit(d, 0x0a, d.b64Last, true);
}

/** One byte of a base64 body at stream offset pos, while its line is still short enough to be a boundary. */
export function b64Byte(d: DecoderState, c: u8, pos: i32): void {
  d.b64Last = pos;
  if (d.b64SkipLine) return;
  const line = d.qpLine;
  // "--" starts a boundary line: its letters are not data
  if (line.len == 1 && line.first == 0x2d && c == 0x2d) { d.b64SkipLine = true; return; }
  data(d, c, pos);
}

/**
 * Body bytes [from, to) past the first two of their line, up to the next
 * line feed (left to the caller, which follows lines); returns where it stopped.
 */
export function b64Run(d: DecoderState, base: usize, from: i32, to: i32): i32 {
  let j = from;
  if (d.b64SkipLine) {
    while (j < to && load<u8>(base + <usize>j) != 0x0a) j++;
  } else {
    while (j < to) {
      const c = load<u8>(base + <usize>j);
      if (c == 0x0a) break;
      data(d, c, j);
      j++;
    }
  }
  if (j > from) {
    d.qpLine.len += j - from;
    d.prev = load<u8>(base + <usize>(j - 1));
    d.b64Last = j - 1;
  }
  return j;
}

@inline function data(d: DecoderState, c: u8, pos: i32): void {
  const v = sextet(c);
  if (v < 0) {
    if (c == 0x3d) { d.b64Bits = 0; d.b64Count = 0; }
    return;
  }
  let count = d.b64Count + 6;
  let bits = (d.b64Bits << 6) | <u32>v;
  if (count >= 8) {
    count -= 8;
    emit(d, <u8>(bits >> <u32>count), d.b64LastChar, true);
    bits &= (<u32>1 << <u32>count) - 1;
  }
  d.b64Bits = bits;
  d.b64Count = count;
  d.b64LastChar = pos;
}
