// Quoted-printable (RFC 2045 6.7) as it reaches the view: in a part that
// declares `Content-Transfer-Encoding: quoted-printable` (a mail body after
// DATA, a MIME part in an HTTP body) soft line breaks ("=\r\n", "=\n") are
// taken out and =XX escapes decoded, from the blank line ending its headers
// to the next MIME boundary ("--..."), the SMTP end of data (".") or the
// end of the HTTP message. Outside a declared part only a soft break between
// digit-group characters is taken out: a card number wrapped by an encoder
// whose header this module did not see (or mis-tracked) is still one number,
// and an '=' ending a line between two digits is rare in anything else.
// The same line tracking finds parts declared base64 (base64-part.ts).
import { DecoderState, QpMode } from "./decoder-state";
import { emit, emitRun } from "./decoded-view";
import { LineMatcher } from "./line-matcher";
import { b64Begin, b64End, b64Byte, b64Run } from "./base64-part";

const NAMES: StaticArray<string> = ["content-transfer-encoding:"];
const QUOTED: u64 = 0x71756f7465642d70;    // "quoted-p"
const PRINTABLE: u64 = 0x72696e7461626c65; // "rintable"
const BASE64: u64 = 0x626173653634;         // "base64"

@inline function isDigit(c: u8): bool { return <u8>(c - 0x30) < 10; }
/** What may stand on either side of a soft break inside a card number or SSN. */
@inline function isGroupByte(c: u8): bool { return isDigit(c) || c == 0x20 || c == 0x2d; }
@inline function hexValue(c: u8): i32 {
  if (<u8>(c - 0x30) < 10) return c - 0x30;
  const l = c | 0x20;
  return <u8>(l - 0x61) < 6 ? l - 0x61 + 10 : -1;
}

/** A new message or part: no declaration carries over. */
export function qpReset(d: DecoderState): void {
  qpFlush(d);
  if (d.qpMode == QpMode.B64_ON) b64End(d);
  d.qpMode = QpMode.OFF;
  d.qpLine.reset(NAMES.length);
  d.prev = 0x0a;
}

/** Passes held bytes on as they were. */
export function qpFlush(d: DecoderState): void {
  const n = d.held;
  if (n == 0) return;
  d.held = 0;
  emit(d, d.held0, d.heldPos, false);
  if (n > 1) emit(d, d.held1, d.heldPos + 1, false);
  if (n > 2) emit(d, d.held2, d.heldPos + 2, false);
}

function hold(d: DecoderState, c: u8): void {
  if (d.held == 1) d.held1 = c; else d.held2 = c;
  d.held++;
}

/**
 * Stream bytes [from, to) of a body or other data. With nothing held and a
 * line that cannot be the declaration, only '=' and line feeds matter: the
 * bytes between pass on in one piece.
 */
export function qpRun(d: DecoderState, base: usize, from: i32, to: i32): void {
  let i = from;
  while (i < to) {
    const line = d.qpLine;
    if (d.qpMode == QpMode.B64_ON) {
      if (d.held == 0 && line.alive == 0 && line.which < 0 && line.len >= 2) {
        i = b64Run(d, base, i, to);
        if (i >= to) break;
      }
    // (a declared part still needs each line's first two bytes, for its boundary)
    } else if (d.held == 0 && line.alive == 0 && line.which < 0 && (d.qpMode != QpMode.ON || line.len >= 2)) {
      let j = i;
      while (j < to) {
        const c = load<u8>(base + <usize>j);
        if (c == 0x3d || c == 0x0a) break;
        j++;
      }
      if (j > i) {
        emitRun(d, base, i, j);
        line.len += j - i;
        d.prev = load<u8>(base + <usize>(j - 1));
        i = j;
        if (i >= to) break;
      }
    }
    qpByte(d, load<u8>(base + <usize>i), i);
    i++;
  }
}

/** One byte of the (de-chunked) stream at stream offset pos. */
export function qpByte(d: DecoderState, c: u8, pos: i32): void {
  if (d.qpMode == QpMode.B64_ON) {
    qpFlush(d);
    b64Byte(d, c, pos);
  } else if (d.held > 0) {
    if (!continueEscape(d, c, pos)) plain(d, c, pos);
  } else plain(d, c, pos);
  track(d, c);
  d.prev = c;
}

function plain(d: DecoderState, c: u8, pos: i32): void {
  if (c == 0x3d && (d.qpMode == QpMode.ON || isGroupByte(d.prev))) {
    d.held = 1; d.held0 = c; d.heldPos = pos; d.beforeEq = d.prev;
    return;
  }
  emit(d, c, pos, false);
}

/** Handles c after held bytes; false when c must be taken as a plain byte (held bytes were passed on or dropped). */
function continueEscape(d: DecoderState, c: u8, pos: i32): bool {
  const on = d.qpMode == QpMode.ON;
  const n = d.held;
  if (n == 1 && c == 0x0d) { hold(d, c); return true; }
  if ((n == 1 || (n == 2 && d.held1 == 0x0d)) && c == 0x0a) {
    // a soft break: in a declared part nothing of it is data; elsewhere the next byte decides
    if (on) d.held = 0; else hold(d, c);
    return true;
  }
  if (on && n == 1 && hexValue(c) >= 0) { hold(d, c); return true; }
  if (on && n == 2 && hexValue(d.held1) >= 0 && hexValue(c) >= 0) {
    d.held = 0;
    emit(d, <u8>(hexValue(d.held1) * 16 + hexValue(c)), pos, true);
    return true;
  }
  if (!on && softBreakHeld(d) && isGroupByte(c) && (isDigit(d.beforeEq) || isDigit(c))) {
    // "5555 44=\r\n44": the break goes, the digits join
    d.held = 0;
    return false;
  }
  qpFlush(d);
  return false;
}

@inline function softBreakHeld(d: DecoderState): bool {
  return (d.held == 2 && d.held1 == 0x0a) || (d.held == 3 && d.held2 == 0x0a);
}

/** Follows lines for the declaration, the blank line after a part's headers, boundaries and SMTP's end of data. */
function track(d: DecoderState, c: u8): void {
  const line = d.qpLine;
  if (c != 0x0a) { line.push(c, NAMES); return; }
  const len = line.len;
  const empty = len == 0 || (len == 1 && d.prev == 0x0d);
  if (line.which == 0) {
    if (d.qpMode == QpMode.B64_ON) b64End(d);
    d.qpMode = line.valLen == 16 && line.valHi == QUOTED && line.valLo == PRINTABLE ? QpMode.DECLARED
      : line.valLen == 6 && line.valLo == BASE64 ? QpMode.B64_DECLARED : QpMode.OFF;
  } else if (d.qpMode == QpMode.DECLARED && empty) {
    d.qpMode = QpMode.ON;
  } else if (d.qpMode == QpMode.B64_DECLARED && empty) {
    b64Begin(d);
    d.qpMode = QpMode.B64_ON;
  } else if ((d.qpMode == QpMode.ON || d.qpMode == QpMode.B64_ON) && startsPartOrEnd(line)) {
    if (d.qpMode == QpMode.B64_ON) b64End(d);
    d.qpMode = QpMode.OFF;
  }
  d.b64SkipLine = false;
  line.reset(NAMES.length);
}

/** "--boundary" or a lone "." (SMTP's end of data): the declared part is over. */
function startsPartOrEnd(line: LineMatcher): bool {
  if (line.first == 0x2d && line.second == 0x2d) return true;
  return line.first == 0x2e && (line.len == 1 || (line.len == 2 && line.second == 0x0d));
}
