// Everything a direction's decoder remembers between packets, in one object
// so that a checkpoint (the state before the last packet, for a resend of
// dropped bytes) is one copyFrom. The layers that use it: http-framing.ts,
// quoted-printable.ts, base64-part.ts, decoded-view.ts.
import { LineMatcher } from "./line-matcher";

export namespace Phase {
  /** Expecting a request or status line (the direction's first, or after a message). */
  export const START: u8 = 0;
  export const HEADERS: u8 = 1;
  /** A body of Content-Length bytes. */
  export const BODY_LENGTH: u8 = 2;
  /** Chunk framing: size digits, extension, the size line's LF, data, the data's CR LF. */
  export const CHUNK_SIZE: u8 = 3;
  export const CHUNK_EXT: u8 = 4;
  export const CHUNK_SIZE_LF: u8 = 5;
  export const CHUNK_DATA: u8 = 6;
  export const CHUNK_DATA_CR: u8 = 7;
  export const CHUNK_DATA_LF: u8 = 8;
  export const TRAILERS: u8 = 9;
  /** Bytes passed on as they are: not HTTP, a body read until close, a tunnel. */
  export const IDENTITY: u8 = 10;
  /** After framing that made no sense: each line is checked for a new request or status line. */
  export const SEEK: u8 = 11;
}

export namespace QpMode {
  export const OFF: u8 = 0;
  /** A part declared quoted-printable: its headers go on until a blank line. */
  export const DECLARED: u8 = 1;
  export const ON: u8 = 2;
  /** A part declared base64 (base64-part.ts), in its headers, then in its body. */
  export const B64_DECLARED: u8 = 3;
  export const B64_ON: u8 = 4;
}

export class DecoderState {
  /** Stream offset of the next byte to decode. */
  next: i32 = 0;

  // HTTP/1.x framing
  phase: u8 = Phase.START;
  firstMessage: bool = true;
  isResponse: bool = false;
  status: i32 = 0;
  chunked: bool = false;
  contentLength: i64 = -1;
  /** Bytes left in the Content-Length body or the current chunk; hex digits of a chunk size so far. */
  remaining: i64 = 0;
  sizeDigits: i32 = 0;
  httpLine: LineMatcher = new LineMatcher();

  // quoted-printable
  qpMode: u8 = QpMode.OFF;
  /** Bytes held after a '=' until it is known what it starts: up to "=\r\n" and the byte after. */
  held: i32 = 0;
  held0: u8 = 0; held1: u8 = 0; held2: u8 = 0;
  heldPos: i32 = 0;
  /** The byte before the held '=' (a soft break outside a declared part is undone between digits only). */
  beforeEq: u8 = 0;
  prev: u8 = 0x0a;
  qpLine: LineMatcher = new LineMatcher();

  // base64 (base64-part.ts)
  /** Bits of the quantum not yet passed on as a byte, and how many. */
  b64Bits: u32 = 0;
  b64Count: i32 = 0;
  /** Stream offset of the last base64 character, where the next byte's bits begin. */
  b64LastChar: i32 = 0;
  /** Stream offset of the last byte seen in the part (a closing line break is put there). */
  b64Last: i32 = 0;
  /** The current line starts with "--": a boundary, not data. */
  b64SkipLine: bool = false;

  // the decoded view (decoded-view.ts)
  viewActive: bool = false;
  /** While inactive: stream offset the next byte must have for the view to still equal the stream. */
  viewNext: i32 = 0;
  /** A view seeded from the stream does not reach before this offset. */
  viewFloor: i32 = 0;
  /** Findings of the view starting before this stream offset were reported. */
  viewDoneTo: i32 = 0;
  /** Where, in the kept tail, the next scan starts. */
  viewScanFrom: i32 = 0;
  /** The kept tail holds a candidate cut off by the end of the bytes. */
  viewPending: bool = false;
  tailLen: i32 = 0;

  copyFrom(o: DecoderState): void {
    this.next = o.next;
    this.phase = o.phase; this.firstMessage = o.firstMessage; this.isResponse = o.isResponse; this.status = o.status;
    this.chunked = o.chunked; this.contentLength = o.contentLength; this.remaining = o.remaining; this.sizeDigits = o.sizeDigits;
    this.httpLine.copyFrom(o.httpLine);
    this.qpMode = o.qpMode; this.held = o.held; this.held0 = o.held0; this.held1 = o.held1; this.held2 = o.held2;
    this.heldPos = o.heldPos; this.beforeEq = o.beforeEq; this.prev = o.prev;
    this.qpLine.copyFrom(o.qpLine);
    this.b64Bits = o.b64Bits; this.b64Count = o.b64Count; this.b64LastChar = o.b64LastChar; this.b64Last = o.b64Last; this.b64SkipLine = o.b64SkipLine;
    this.viewActive = o.viewActive; this.viewNext = o.viewNext; this.viewFloor = o.viewFloor; this.viewDoneTo = o.viewDoneTo;
    this.viewScanFrom = o.viewScanFrom; this.viewPending = o.viewPending; this.tailLen = o.tailLen;
  }

  /** In the middle of something that changes bytes: the view must stay. */
  get busy(): bool {
    return (this.phase >= Phase.CHUNK_SIZE && this.phase <= Phase.CHUNK_DATA_LF) || this.qpMode == QpMode.ON || this.qpMode == QpMode.B64_ON || this.held > 0;
  }
}
