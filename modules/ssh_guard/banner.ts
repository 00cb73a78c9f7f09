// The SSH identification string (RFC 4253 4.2):
//   SSH-protoversion-softwareversion SP comments CR LF
// at most 255 bytes with the CR LF. A server may send other lines first; a
// client may not. This reads the first identification line of one direction
// from its stream bytes and says what is odd about it.

import { wireText } from "../dns_guard/wiretext";

export const BANNER_MAX = 255;
/** Bytes of pre-banner lines a server may send before we stop looking. */
const PRELUDE_MAX = 8192;

export enum Scan {
  FOUND = 0,
  NEED_MORE = 1,
  /** No identification line where one must be. */
  NOT_SSH = 2,
  /** A line started with "SSH-" but has no end within BANNER_MAX. */
  TOO_LONG = 3,
}

export class Banner {
  /** Where the line starts in the stream and its length without CR LF. */
  start: i32 = 0;
  length: i32 = 0;
  protoEnd: i32 = 0;
  softwareEnd: i32 = 0;
  /** Lines skipped before the banner (servers only). */
  preludeLines: i32 = 0;
  crlf: bool = false;
  base: usize = 0;

  /**
   * Where the next scan of this direction picks up, set when scan() says
   * NEED_MORE: the start of the line not yet ended, how far it was searched
   * for its end, and the prelude lines before it. A server may send 8 KB of
   * prelude a byte a segment; walking it all again on each cost ~285 us a
   * one-byte packet (34x a packet of the same stream in long lines).
   */
  resumeLine: i32 = 0;
  resumeScan: i32 = 0;
  resumeLines: i32 = 0;

  /** Finds the identification line in len stream bytes at p, from where the last NEED_MORE left off. */
  scan(p: usize, len: i32, server: bool, lineFrom: i32 = 0, scanFrom: i32 = 0, lines: i32 = 0): Scan {
    this.base = p;
    let lineStart = lineFrom;
    let searched = scanFrom > lineFrom ? scanFrom : lineFrom;
    this.preludeLines = lines;
    while (lineStart < len) {
      const isId = startsWithSsh(p + <usize>lineStart, len - lineStart);
      if (isId < 0) return this.needMore(lineStart, lineStart);
      if (isId == 0 && (!server || lineStart > PRELUDE_MAX)) return Scan.NOT_SSH;
      const limit = isId == 1 ? BANNER_MAX : PRELUDE_MAX - lineStart;
      let eol = -1;
      const end = len < lineStart + limit ? len : lineStart + limit;
      for (let i = searched; i < end; i++) {
        if (load<u8>(p + <usize>i) == 0x0a) { eol = i; break; }
      }
      if (eol < 0) {
        if (end < lineStart + limit) return this.needMore(lineStart, end);
        return isId == 1 ? Scan.TOO_LONG : Scan.NOT_SSH;
      }
      if (isId == 1) {
        this.start = lineStart;
        this.crlf = eol > lineStart && load<u8>(p + <usize>(eol - 1)) == 0x0d;
        this.length = eol - lineStart - (this.crlf ? 1 : 0);
        this.split();
        return Scan.FOUND;
      }
      this.preludeLines++;
      lineStart = eol + 1;
      searched = lineStart;
    }
    return this.needMore(lineStart, lineStart);
  }

  private needMore(line: i32, searched: i32): Scan {
    this.resumeLine = line;
    this.resumeScan = searched;
    this.resumeLines = this.preludeLines;
    return Scan.NEED_MORE;
  }

  // Marks where protoversion and softwareversion end (after "SSH-").
  private split(): void {
    const p = this.base + <usize>this.start;
    let i = 4;
    while (i < this.length && load<u8>(p + <usize>i) != 0x2d) i++;
    this.protoEnd = i;
    let j = i < this.length ? i + 1 : i;
    while (j < this.length && load<u8>(p + <usize>j) != 0x20) j++;
    this.softwareEnd = j;
  }

  text(from: i32, to: i32): string {
    return wireText(this.base + <usize>(this.start + from), to - from);
  }
  get protoVersion(): string { return this.text(4, this.protoEnd); }
  get softwareVersion(): string { return this.protoEnd < this.length ? this.text(this.protoEnd + 1, this.softwareEnd) : ""; }
  get comments(): string { return this.softwareEnd < this.length ? this.text(this.softwareEnd + 1, this.length) : ""; }
  get line(): string { return this.text(0, this.length); }

  /** What is wrong with a found banner, or "" when nothing. */
  oddity(): string {
    if (this.length + (this.crlf ? 2 : 1) > BANNER_MAX) return "longer than 255 bytes";
    const p = this.base + <usize>this.start;
    for (let i = 0; i < this.length; i++) {
      const c = load<u8>(p + <usize>i);
      if (c < 0x20 || c > 0x7e) return "byte 0x" + (<u32>c).toString(16).padStart(2, "0") + " at offset " + i.toString() + " is not printable ASCII";
    }
    if (this.protoEnd == 4) return "empty protocol version";
    if (this.protoEnd >= this.length) return "no software version";
    if (this.softwareEnd == this.protoEnd + 1) return "empty software version";
    for (let i = 4; i < this.softwareEnd; i++) {
      if (load<u8>(p + <usize>i) == 0x20) return "space inside the version fields";
    }
    return "";
  }
}

const SSH_DASH = memory.data<u8>([0x53, 0x53, 0x48, 0x2d]);

/** 1 when the bytes start with "SSH-", 0 when they cannot, -1 when too few bytes to tell. */
function startsWithSsh(p: usize, n: i32): i32 {
  for (let i = 0; i < 4; i++) {
    if (i >= n) return -1;
    if (load<u8>(p + <usize>i) != load<u8>(SSH_DASH + <usize>i)) return 0;
  }
  return 1;
}
