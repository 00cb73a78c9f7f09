// Finds the first handshake message of one direction: in TLS, inside the
// in-order stream bytes (records may be split across TCP segments, and one
// message may span several records); in DTLS, inside one datagram.

export enum Found {
  /** body/bodyLen hold the message body. */
  OK = 0,
  /** Not enough bytes yet. */
  NEED_MORE = 1,
  /** The bytes are not TLS (or not DTLS). */
  NOT_TLS = 2,
  /** TLS, but the first handshake message is not the one wanted. */
  OTHER_MESSAGE = 3,
  /** A record or handshake header lies; `error` says which. */
  MALFORMED = 4,
  /** A DTLS message fragmented over several records (not reassembled). */
  FRAGMENTED = 5,
}

/** TLS records carry at most 2^14 bytes plus expansion (RFC 8446 5.2). */
const MAX_RECORD = 16384 + 2048;
/** Largest hello gathered from several records. */
const MAX_MESSAGE = 65536;

/**
 * How far a TLS stream's records were walked while its hello was still
 * incomplete, so the next segment picks up there. A hello may come in
 * 1-byte records (6 stream bytes each) and a byte a segment: walking every
 * record again on each segment cost ~33 us a one-byte packet on a 37 KB
 * stream (12x the same stream in one record), growing with the stream.
 */
export class StreamWalk {
  /** Stream offset of the first record not yet walked. */
  off: i32 = 0;
  /** Content bytes of the records walked. */
  have: i32 = 0;
  /** The message's first 4 content bytes (type, u24 length), big-endian, as far as they came. */
  head: u32 = 0;
  @inline reset(): void { this.off = 0; this.have = 0; this.head = 0; }
}

export class HandshakeFinder {
  body: usize = 0;
  bodyLen: i32 = 0;
  /** Stream offset just past the records that carried the message (TLS over TCP). */
  end: i32 = 0;
  error: string = "";
  errorAt: i32 = 0;
  /** Where inStream stopped when it said NEED_MORE (off 0: nothing to keep). */
  walk: StreamWalk = new StreamWalk();
  private gathered: StaticArray<u8> = new StaticArray<u8>(MAX_MESSAGE + 4);

  private fail(why: string, at: i32): Found {
    this.error = why;
    this.errorAt = at;
    return Found.MALFORMED;
  }

  /**
   * Looks for handshake message `want` at the start of a TLS stream of len
   * bytes at ptr, from `from` (the walk a NEED_MORE left on this stream) or
   * from the start when null.
   */
  inStream(ptr: usize, len: i32, want: u8, from: StreamWalk | null = null): Found {
    const w = this.walk;
    if (from !== null) { w.off = from.off; w.have = from.have; w.head = from.head; } else w.reset();
    if (len < 1) return Found.NEED_MORE;
    if (load<u8>(ptr) != 22) return Found.NOT_TLS;
    if (len >= 2 && load<u8>(ptr, 1) != 3) return Found.NOT_TLS;
    let off = w.off;
    let have = w.have;
    let head = w.head;
    while (off + 5 <= len) {
      const p = ptr + <usize>off;
      if (load<u8>(p) != 22) {
        return off == 0 ? Found.NOT_TLS : this.fail("record of type " + load<u8>(p).toString() + " before the hello was complete", off);
      }
      if (load<u8>(p, 1) != 3) return this.fail("record version major " + load<u8>(p, 1).toString() + " is not 3", off + 1);
      const rlen = <i32>bswap<u16>(load<u16>(p, 3));
      if (rlen == 0 || rlen > MAX_RECORD) return this.fail("record length " + rlen.toString() + " out of range", off + 3);
      if (off + 5 + rlen > len) break;
      if (off == 0 && rlen >= 4) {
        // The common case: the whole message in the first record, read in place.
        if (load<u8>(p, 5) != want) return Found.OTHER_MESSAGE;
        const mlen = u24(p + 6);
        if (4 + mlen <= rlen) { this.body = p + 9; this.bodyLen = mlen; this.end = 5 + rlen; return Found.OK; }
      }
      if (have + rlen > MAX_MESSAGE + 4) return this.fail("hello larger than " + MAX_MESSAGE.toString() + " bytes", off);
      for (let k = 0; have + k < 4 && k < rlen; k++) head |= <u32>load<u8>(p + 5 + <usize>k) << (<u32>(3 - (have + k)) << 3);
      have += rlen;
      off += 5 + rlen;
      if (have >= 4) {
        if (<u8>(head >> 24) != want) return Found.OTHER_MESSAGE;
        const mlen = <i32>(head & 0xffffff);
        if (mlen > MAX_MESSAGE) return this.fail("hello length " + mlen.toString() + " over " + MAX_MESSAGE.toString(), 1);
        if (4 + mlen <= have) {
          const g = this.gather(ptr, off);
          this.body = g + 4; this.bodyLen = mlen; this.end = off;
          return Found.OK;
        }
      }
    }
    w.off = off; w.have = have; w.head = head;
    return Found.NEED_MORE;
  }

  /** Copies the contents of the records before stream offset `to` (all walked and checked) into one buffer. */
  private gather(ptr: usize, to: i32): usize {
    const g = changetype<usize>(this.gathered);
    let off = 0;
    let have = 0;
    while (off < to) {
      const rlen = <i32>bswap<u16>(load<u16>(ptr + <usize>off, 3));
      memory.copy(g + <usize>have, ptr + <usize>(off + 5), <usize>rlen);
      have += rlen;
      off += 5 + rlen;
    }
    return g;
  }

  /** Looks for handshake message `want` in one DTLS datagram of len bytes at ptr. */
  inDatagram(ptr: usize, len: i32, want: u8): Found {
    if (len < 13 || load<u8>(ptr) != 22 || load<u8>(ptr, 1) != 0xfe) return Found.NOT_TLS;
    const minor = load<u8>(ptr, 2);
    if (minor != 0xff && minor != 0xfd && minor != 0xfc) return Found.NOT_TLS;
    const rlen = <i32>bswap<u16>(load<u16>(ptr, 11));
    if (13 + rlen > len) return this.fail("record length " + rlen.toString() + " runs past the datagram", 11);
    if (rlen < 12) return this.fail("record too short for a handshake header", 11);
    if (load<u8>(ptr, 13) != want) return Found.OTHER_MESSAGE;
    const mlen = u24(ptr + 14);
    const fragOff = u24(ptr + 19);
    const fragLen = u24(ptr + 22);
    if (12 + fragLen > rlen) return this.fail("fragment length " + fragLen.toString() + " runs past the record", 22);
    if (fragOff != 0 || fragLen != mlen) return Found.FRAGMENTED;
    this.body = ptr + 25;
    this.bodyLen = mlen;
    return Found.OK;
  }
}

@inline function u24(p: usize): i32 {
  return (<i32>load<u8>(p) << 16) | <i32>bswap<u16>(load<u16>(p, 1));
}
