// A direction's decoder: HTTP/1.x de-chunking, then quoted-printable or
// base64 parts, then the decoded view, over each packet's new stream bytes.
// It is made only for a direction that needs it: one whose first byte could
// start an HTTP request or status line (or an SMTP command), or whose bytes
// hold a quoted-printable declaration, a base64 one, or a soft break after a
// digit. Each stream byte is decoded once, so the work stays in proportion
// to the bytes; the view is scanned like the raw stream (a kept tail, an
// overlap), only while decoding changes something.
import { DecoderState } from "./decoder-state";
import { httpStart, httpBytes } from "./http-framing";
import { qpReset } from "./quoted-printable";
import { Tail, beginPacket, scanView, storeTail, deactivate, releaseTail, copyTail } from "./decoded-view";
import { Findings } from "./detect";

export class StreamDecoder {
  s: DecoderState = new DecoderState();
  tail: Tail = new Tail();
  /**
   * The state before the last packet, kept only when this module may drop:
   * bytes a drop kept from the receiver are shown again from where that
   * packet began (docs/abi/v1.md section 4), and are decoded again from it.
   */
  ck: DecoderState | null = null;
  ckTail: Tail | null = null;
  ckValid: bool = false;
  /** The last packet was dropped: the checkpoint stays before it until its bytes are resent. */
  holdCheckpoint: bool = false;
  /** Decoding given up for this direction (a resend it could not follow, no budget, the last bytes); the raw scan goes on. */
  lost: bool = false;
  fresh: bool = true;

  init(start: i32, withCheckpoint: bool): void {
    this.s.copyFrom(PRISTINE);
    this.s.next = start;
    this.s.viewNext = start;
    httpStart(this.s, start == 0);
    qpReset(this.s);
    this.ckValid = false;
    this.holdCheckpoint = false;
    this.lost = false;
    this.fresh = true;
    if (withCheckpoint && this.ck === null) { this.ck = new DecoderState(); this.ckTail = new Tail(); }
  }
}

const PRISTINE = new DecoderState();
/**
 * Decoders of ended flows and given-up directions, reused: a flood of flows
 * each making one and giving it up (past the tail budget) would otherwise
 * leave garbage as large as the live flows before the collector runs.
 */
const spare = new Array<StreamDecoder>();
const MAX_SPARE = 1024;

/**
 * Directions decoding at once. Each holds about 500 bytes (more with its
 * tail): the engine's 65,536 flows in both directions would take 64 MiB.
 * Past it a direction is scanned raw only.
 */
export const MAX_DECODERS = 16384;
let live = 0;

/** A decoder starting at stream offset `start`, or null when MAX_DECODERS are in use. */
export function newDecoder(start: i32, withCheckpoint: bool): StreamDecoder | null {
  if (live >= MAX_DECODERS) return null;
  live++;
  const dec = spare.length > 0 ? spare.pop() : new StreamDecoder();
  dec.init(start, withCheckpoint);
  return dec;
}

/** The decoder is not used again by its direction. */
export function recycleDecoder(dec: StreamDecoder): void {
  live--;
  releaseDecoder(dec);
  dec.lost = true;
  if (spare.length < MAX_SPARE) spare.push(dec);
}

/** How far back a line start is looked for before a quoted-printable trigger. */
const LINE_BACK = 80;
const QUOTED_PRINTABLE = "quoted-printable";
const BASE64 = "base64";
const CTE = "content-transfer-encoding:";

/**
 * Where a decoder for this direction should start, given the packet's new
 * bytes [newStart, end) of the stream at base, or -1 when they need none.
 */
export function decoderStart(base: usize, newStart: i32, end: i32): i32 {
  if (newStart == 0 && <u8>(load<u8>(base) - 0x41) < 26) return 0;
  let i = newStart - 16;
  if (i < 1) i = 1;
  // the start of the line since the last line feed, -2 until needed, -1 when that line is not a declaration
  let b64Line = -2;
  for (; i < end; i++) {
    const c = load<u8>(base + <usize>i);
    if (c == 0x0a) {
      b64Line = i + 1;
    } else if ((c | 0x20) == 0x62 && i + 6 <= end && lowerEquals(base, i, BASE64)) {
      // "base64" counts only as a Content-Transfer-Encoding value (not in a data: URI, or
      // in text); a line is looked at once, so a line of repeats costs no more
      if (b64Line == -2) b64Line = lineStart(base, i);
      if (b64Line >= 0 && i - b64Line >= CTE.length && lowerEquals(base, b64Line, CTE)) return b64Line;
      b64Line = -1;
    } else if (c == 0x3d) {
      if (i + 1 < end && isLineBreak(load<u8>(base + <usize>(i + 1))) && isGroupByte(load<u8>(base + <usize>(i - 1)))) {
        const ls = lineStart(base, i);
        return ls >= 0 ? ls : i - 1;
      }
    } else if ((c | 0x20) == 0x71 && i + 16 <= end && lowerEquals(base, i, QUOTED_PRINTABLE)) {
      const ls = lineStart(base, i);
      if (ls >= 0) return ls;
    }
  }
  return -1;
}

@inline function isLineBreak(c: u8): bool { return c == 0x0d || c == 0x0a; }
@inline function isGroupByte(c: u8): bool { return <u8>(c - 0x30) < 10 || c == 0x20 || c == 0x2d; }

function lowerEquals(base: usize, at: i32, lit: string): bool {
  for (let k = 0; k < lit.length; k++) {
    let c = load<u8>(base + <usize>(at + k));
    if (<u8>(c - 0x41) < 26) c |= 0x20;
    if (<i32>c != lit.charCodeAt(k)) return false;
  }
  return true;
}

/** The start of the line holding `at`, within LINE_BACK bytes, or -1. */
function lineStart(base: usize, at: i32): i32 {
  for (let p = at - 1; p >= 0 && at - p <= LINE_BACK; p--) {
    if (load<u8>(base + <usize>p) == 0x0a) return p + 1;
  }
  return at <= LINE_BACK ? 0 : -1;
}

function lose(dec: StreamDecoder): void {
  dec.lost = true;
  releaseDecoder(dec);
}

export function releaseDecoder(dec: StreamDecoder): void {
  releaseTail(dec.tail);
  releaseTail(dec.ckTail);
  dec.s.viewActive = false;
  dec.s.tailLen = 0;
}

/**
 * Decodes the packet's new bytes [newStart, end) and adds to `found` what
 * the view holds across a decoded place. `last`: no more bytes will come.
 */
export function decodePacket(dec: StreamDecoder, base: usize, newStart: i32, end: i32, last: bool, kinds: i32, found: Findings): void {
  if (dec.lost) return;
  const s = dec.s;
  let keepAfter = -1;
  if (dec.fresh) {
    dec.fresh = false;
  } else if (newStart != s.next) {
    const ck = dec.ck;
    if (newStart > s.next || ck === null || !dec.ckValid || ck.next != newStart) { lose(dec); return; }
    // bytes a drop kept from the receiver, shown again: decoded again from before them
    s.copyFrom(ck);
    if (!copyTail(dec.ckTail!, ck.tailLen, dec.tail)) { lose(dec); return; }
    keepAfter = newStart;
  }
  beginPacket(s, dec.tail, base);
  if (dec.ck !== null && !dec.holdCheckpoint && s.next == newStart) {
    dec.ck!.copyFrom(s);
    const t = dec.ckTail!;
    dec.ckTail = dec.tail;
    dec.tail = t;
    dec.ckValid = true;
  }
  httpBytes(s, base, s.next, end);
  s.next = end;
  if (s.viewActive) {
    scanView(s, kinds, found, last, keepAfter);
    if (!storeTail(s, dec.tail)) { lose(dec); return; }
    if (!s.viewPending && !s.busy) deactivate(s, dec.tail);
  }
  if (last) lose(dec);
}

/** The direction is done: a candidate its view kept cut off is judged as final. */
export function finishDecoder(dec: StreamDecoder, kinds: i32, found: Findings): void {
  const s = dec.s;
  if (dec.lost || !s.viewActive || !s.viewPending) return;
  beginPacket(s, dec.tail, 0);
  scanView(s, kinds, found, true, -1);
  if (!storeTail(s, dec.tail)) { lose(dec); return; }
  if (!s.busy) deactivate(s, dec.tail);
}

/** True when the view keeps a candidate that the direction's end would settle. */
export function decoderPending(dec: StreamDecoder | null): bool {
  return dec !== null && !dec.lost && dec.s.viewActive && dec.s.viewPending;
}
