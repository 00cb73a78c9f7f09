// HTTP/1.x message framing (RFC 9112), followed byte by byte so that a
// `Transfer-Encoding: chunked` body reaches the quoted-printable layer and
// the view without its chunk-size lines, extensions and CR LFs: the client
// chooses the chunk sizes, so a boundary inside a value is free evasion.
// Recognised by content (a request line ending in HTTP/1.x, or a status
// line), on any port; requests and responses follow each other on a kept-
// alive connection. Framing that makes no sense stops de-chunking until the
// next line that looks like a start line; the raw scan in index.ts never
// stops, so the bytes are still seen as they are.
import { DecoderState, Phase } from "./decoder-state";
import { qpByte, qpRun, qpReset, qpFlush } from "./quoted-printable";
import { emit } from "./decoded-view";

const NAMES: StaticArray<string> = ["transfer-encoding:", "content-length:", "http/1."];
const TRANSFER_ENCODING = 0;
const CONTENT_LENGTH = 1;
const STATUS_LINE = 2;
const HTTP_1: u64 = 0x687474702f312e00; // "http/1." and one more byte
const CHUNKED: u64 = 0x6368756e6b6564;   // "chunked"
/** A chunk size of more hex digits than this is not framing anyone sends. */
const MAX_SIZE_DIGITS = 10;

@inline function hexValue(c: u8): i32 {
  if (<u8>(c - 0x30) < 10) return c - 0x30;
  const l = c | 0x20;
  return <u8>(l - 0x61) < 6 ? l - 0x61 + 10 : -1;
}

export function httpStart(d: DecoderState, atStreamStart: bool): void {
  d.phase = atStreamStart ? Phase.START : Phase.IDENTITY;
  d.firstMessage = true;
  d.httpLine.reset(NAMES.length);
}

/** Decodes stream bytes [from, to) of the direction at base. */
export function httpBytes(d: DecoderState, base: usize, from: i32, to: i32): void {
  let i = from;
  while (i < to) {
    const phase = d.phase;
    if (phase == Phase.IDENTITY || phase == Phase.BODY_LENGTH || phase == Phase.CHUNK_DATA) {
      // a run of data bytes
      let n = to - i;
      if (phase != Phase.IDENTITY && <i64>n > d.remaining) n = <i32>d.remaining;
      qpRun(d, base, i, i + n);
      i += n;
      if (phase == Phase.IDENTITY) continue;
      d.remaining -= n;
      if (d.remaining == 0) {
        if (phase == Phase.CHUNK_DATA) d.phase = Phase.CHUNK_DATA_CR;
        else messageEnd(d);
      }
      continue;
    }
    const c = load<u8>(base + <usize>i);
    if (phase <= Phase.HEADERS || phase == Phase.TRAILERS || phase == Phase.SEEK) {
      qpByte(d, c, i);
      if (c == 0x0a) lineEnd(d); else d.httpLine.push(c, NAMES);
    } else framingByte(d, c, i);
    i++;
  }
}

/** A byte of a chunk-size line or of the CR LF after a chunk's data: none of it is data. */
function framingByte(d: DecoderState, c: u8, pos: i32): void {
  const phase = d.phase;
  if (phase == Phase.CHUNK_SIZE) {
    const h = hexValue(c);
    if (h >= 0) {
      if (++d.sizeDigits > MAX_SIZE_DIGITS) { malformed(d, pos); return; }
      d.remaining = d.remaining * 16 + h;
      return;
    }
    if (d.sizeDigits == 0) { malformed(d, pos); return; }
    // chunk extensions (";name=value") and the blanks some senders put before them
    if (c == 0x3b || c == 0x20 || c == 0x09) d.phase = Phase.CHUNK_EXT;
    else if (c == 0x0d) d.phase = Phase.CHUNK_SIZE_LF;
    else if (c == 0x0a) sizeLineEnd(d, pos);
    else malformed(d, pos);
  } else if (phase == Phase.CHUNK_EXT) {
    if (c == 0x0a) sizeLineEnd(d, pos);
  } else if (phase == Phase.CHUNK_SIZE_LF) {
    if (c == 0x0a) sizeLineEnd(d, pos); else malformed(d, pos);
  } else if (phase == Phase.CHUNK_DATA_CR) {
    if (c == 0x0d) d.phase = Phase.CHUNK_DATA_LF;
    else if (c == 0x0a) chunkSizeNext(d);
    else malformed(d, pos);
  } else if (phase == Phase.CHUNK_DATA_LF) {
    if (c == 0x0a) chunkSizeNext(d); else malformed(d, pos);
  }
}

function chunkSizeNext(d: DecoderState): void {
  d.phase = Phase.CHUNK_SIZE;
  d.remaining = 0;
  d.sizeDigits = 0;
}

function sizeLineEnd(d: DecoderState, pos: i32): void {
  if (d.remaining > 0) { d.phase = Phase.CHUNK_DATA; return; }
  // the last chunk: the body ends here, whatever value ran up to it ends with
  // it, and so does a declared part (before this line break, which comes after its bytes)
  qpReset(d);
  if (d.viewActive) emit(d, 0x0a, pos, true);
  d.phase = Phase.TRAILERS;
  d.httpLine.reset(NAMES.length);
}

/** Framing that makes no sense: no de-chunking until something looks like a new message. */
function malformed(d: DecoderState, pos: i32): void {
  qpFlush(d);
  // what comes next is not joined to the chunk before it
  if (d.viewActive) emit(d, 0x0a, pos, true);
  d.phase = Phase.SEEK;
  d.httpLine.reset(NAMES.length);
}

function messageEnd(d: DecoderState): void {
  qpReset(d);
  d.phase = Phase.START;
  d.firstMessage = false;
  d.httpLine.reset(NAMES.length);
}

function lineEnd(d: DecoderState): void {
  const line = d.httpLine;
  const phase = d.phase;
  const empty = line.len == 0 || (line.len == 1 && line.first == 0x0d);
  if (phase == Phase.HEADERS) {
    if (empty) bodyStart(d);
    else if (line.which == TRANSFER_ENCODING) {
      // chunked must be the last coding; "gzip, chunked" is de-chunked too (the gzip stays)
      d.chunked = line.valLen >= 7 && (line.valLo & 0xffffffffffffff) == CHUNKED && (line.valLen == 7 || <u8>(line.valLo >> 56) == 0x2c);
    } else if (line.which == CONTENT_LENGTH) d.contentLength = line.valNum;
  } else if (phase == Phase.TRAILERS) {
    if (empty) messageEnd(d);
  } else if (!(phase == Phase.START && empty)) {
    // START or SEEK: a request line, a status line, or (first line) not HTTP at all
    if (line.which == STATUS_LINE && line.status >= 100 && line.status <= 999) beginMessage(d, true, line.status);
    else if (line.methodLike && line.valLen >= 8 && (line.valLo & 0xffffffffffffff00) == HTTP_1 && isVersionDigit(<u8>line.valLo)) beginMessage(d, false, 0);
    else if (phase == Phase.START) d.phase = d.firstMessage ? Phase.IDENTITY : Phase.SEEK;
  }
  line.reset(NAMES.length);
}

@inline function isVersionDigit(c: u8): bool { return c == 0x30 || c == 0x31; }

function beginMessage(d: DecoderState, response: bool, status: i32): void {
  d.phase = Phase.HEADERS;
  d.isResponse = response;
  d.status = status;
  d.chunked = false;
  d.contentLength = -1;
}

function bodyStart(d: DecoderState): void {
  if (d.isResponse && d.status == 101) { d.phase = Phase.IDENTITY; return; } // a switch to another protocol
  if (d.isResponse && (d.status < 200 || d.status == 204 || d.status == 304)) { messageEnd(d); return; }
  if (d.chunked) { chunkSizeNext(d); return; }
  if (d.contentLength > 0) { d.phase = Phase.BODY_LENGTH; d.remaining = d.contentLength; return; }
  if (d.isResponse && d.contentLength < 0) { d.phase = Phase.IDENTITY; return; } // read until close
  messageEnd(d);
}
