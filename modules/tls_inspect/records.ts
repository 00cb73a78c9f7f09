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

export class HandshakeFinder {
  body: usize = 0;
  bodyLen: i32 = 0;
  /** Stream offset just past the records that carried the message (TLS over TCP). */
  end: i32 = 0;
  error: string = "";
  errorAt: i32 = 0;
  private gathered: StaticArray<u8> = new StaticArray<u8>(MAX_MESSAGE + 4);

  private fail(why: string, at: i32): Found {
    this.error = why;
    this.errorAt = at;
    return Found.MALFORMED;
  }

  /** Looks for handshake message `want` at the start of a TLS stream of len bytes at ptr. */
  inStream(ptr: usize, len: i32, want: u8): Found {
    if (len < 1) return Found.NEED_MORE;
    if (load<u8>(ptr) != 22) return Found.NOT_TLS;
    if (len >= 2 && load<u8>(ptr, 1) != 3) return Found.NOT_TLS;
    let off = 0;
    let have = 0;
    const g = changetype<usize>(this.gathered);
    while (off + 5 <= len) {
      const p = ptr + <usize>off;
      if (load<u8>(p) != 22) {
        return off == 0 ? Found.NOT_TLS : this.fail("record of type " + load<u8>(p).toString() + " before the hello was complete", off);
      }
      if (load<u8>(p, 1) != 3) return this.fail("record version major " + load<u8>(p, 1).toString() + " is not 3", off + 1);
      const rlen = <i32>bswap<u16>(load<u16>(p, 3));
      if (rlen == 0 || rlen > MAX_RECORD) return this.fail("record length " + rlen.toString() + " out of range", off + 3);
      if (off + 5 + rlen > len) return Found.NEED_MORE;
      if (off == 0 && rlen >= 4) {
        // The common case: the whole message in the first record, read in place.
        if (load<u8>(p, 5) != want) return Found.OTHER_MESSAGE;
        const mlen = u24(p + 6);
        if (4 + mlen <= rlen) { this.body = p + 9; this.bodyLen = mlen; this.end = 5 + rlen; return Found.OK; }
      }
      if (have + rlen > MAX_MESSAGE + 4) return this.fail("hello larger than " + MAX_MESSAGE.toString() + " bytes", off);
      memory.copy(g + <usize>have, p + 5, <usize>rlen);
      have += rlen;
      off += 5 + rlen;
      if (have >= 4) {
        if (load<u8>(g) != want) return Found.OTHER_MESSAGE;
        const mlen = u24(g + 1);
        if (mlen > MAX_MESSAGE) return this.fail("hello length " + mlen.toString() + " over " + MAX_MESSAGE.toString(), 1);
        if (4 + mlen <= have) { this.body = g + 4; this.bodyLen = mlen; this.end = off; return Found.OK; }
      }
    }
    return Found.NEED_MORE;
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
