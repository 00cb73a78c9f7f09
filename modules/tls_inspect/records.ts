// Finds a hello in one direction: in TLS, inside the in-order stream bytes,
// from the stream's first record or from the record after an earlier hello
// (records may be split across TCP segments, one message may span several
// records, empty records are skipped); in DTLS, inside one datagram, its
// fragments gathered from the datagram's records.

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
  /** A DTLS message whose fragments are not all in this datagram (not reassembled across datagrams). */
  FRAGMENTED = 5,
}

/** TLS records carry at most 2^14 bytes plus expansion (RFC 8446 5.2). */
const MAX_RECORD = 16384 + 2048;
/** Largest hello gathered from several records. */
const MAX_MESSAGE = 65536;
/**
 * Empty records skipped in a row. OpenSSL skips empty records up to its
 * MAX_EMPTY_RECORDS (32), so a hello behind them is read there; one more
 * and it fails the connection, so this calls the hello malformed.
 */
const MAX_EMPTY_RECORDS = 32;

/**
 * How far a TLS stream's records were walked while its hello was still
 * incomplete, so the next segment picks up there. A hello may come in
 * 1-byte records (6 stream bytes each) and a byte a segment: walking every
 * record again on each segment cost ~33 us a one-byte packet on a 37 KB
 * stream (12x the same stream in one record), growing with the stream.
 */
export class StreamWalk {
  /** Stream offset of the message's first record (0 for a first hello; past the first one for a second). */
  start: i32 = 0;
  /** Stream offset of the first record not yet walked. */
  off: i32 = 0;
  /** Content bytes of the records walked. */
  have: i32 = 0;
  /** The message's first 4 content bytes (type, u24 length), big-endian, as far as they came. */
  head: u32 = 0;
  /** Empty records just walked, in a row. */
  empties: i32 = 0;
  @inline begin(start: i32): void { this.start = start; this.off = start; this.have = 0; this.head = 0; this.empties = 0; }
  @inline copy(from: StreamWalk): void {
    this.start = from.start; this.off = from.off; this.have = from.have; this.head = from.head; this.empties = from.empties;
  }
}

export class HandshakeFinder {
  body: usize = 0;
  bodyLen: i32 = 0;
  /** Stream offset just past the records that carried the message (TLS over TCP). */
  end: i32 = 0;
  error: string = "";
  errorAt: i32 = 0;
  /** Where inStream stopped when it said NEED_MORE. */
  walk: StreamWalk = new StreamWalk();
  private gathered: StaticArray<u8> = new StaticArray<u8>(MAX_MESSAGE + 4);
  /** Which bytes of a fragmented DTLS message arrived, one bit a byte. */
  private covered: StaticArray<u8> = new StaticArray<u8>((MAX_MESSAGE >> 3) + 1);

  private fail(why: string, at: i32): Found {
    this.error = why;
    this.errorAt = at;
    return Found.MALFORMED;
  }

  /**
   * Looks for handshake message `want` in a TLS stream of len bytes at ptr,
   * in the records from stream offset `start` on: from `from` (the walk a
   * NEED_MORE left on this stream) when not null.
   */
  inStream(ptr: usize, len: i32, want: u8, from: StreamWalk | null = null, start: i32 = 0): Found {
    const w = this.walk;
    if (from !== null) w.copy(from); else w.begin(start);
    start = w.start;
    if (len <= start) return Found.NEED_MORE;
    if (load<u8>(ptr + <usize>start) != 22) return Found.NOT_TLS;
    if (len > start + 1 && load<u8>(ptr + <usize>start, 1) != 3) return Found.NOT_TLS;
    let off = w.off;
    let have = w.have;
    let head = w.head;
    let empties = w.empties;
    while (off + 5 <= len) {
      const p = ptr + <usize>off;
      if (load<u8>(p) != 22) {
        return off == start ? Found.NOT_TLS : this.fail("record of type " + load<u8>(p).toString() + " before the hello was complete", off);
      }
      if (load<u8>(p, 1) != 3) return this.fail("record version major " + load<u8>(p, 1).toString() + " is not 3", off + 1);
      const rlen = <i32>bswap<u16>(load<u16>(p, 3));
      if (rlen == 0) {
        if (++empties > MAX_EMPTY_RECORDS) return this.fail("more than " + MAX_EMPTY_RECORDS.toString() + " empty records in a row", off + 3);
        off += 5;
        continue;
      }
      empties = 0;
      if (rlen > MAX_RECORD) return this.fail("record length " + rlen.toString() + " out of range", off + 3);
      if (off + 5 + rlen > len) break;
      if (have == 0 && rlen >= 4) {
        // The common case: the whole message in its first record, read in place.
        if (load<u8>(p, 5) != want) return Found.OTHER_MESSAGE;
        const mlen = u24(p + 6);
        if (4 + mlen <= rlen) { this.body = p + 9; this.bodyLen = mlen; this.end = off + 5 + rlen; return Found.OK; }
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
          const g = this.gather(ptr, start, off);
          this.body = g + 4; this.bodyLen = mlen; this.end = off;
          return Found.OK;
        }
      }
    }
    w.off = off; w.have = have; w.head = head; w.empties = empties;
    return Found.NEED_MORE;
  }

  /** Copies the contents of the records from stream offset `from` to `to` (all walked and checked; empty ones add nothing) into one buffer. */
  private gather(ptr: usize, from: i32, to: i32): usize {
    const g = changetype<usize>(this.gathered);
    let off = from;
    let have = 0;
    while (off < to) {
      const rlen = <i32>bswap<u16>(load<u16>(ptr + <usize>off, 3));
      memory.copy(g + <usize>have, ptr + <usize>(off + 5), <usize>rlen);
      have += rlen;
      off += 5 + rlen;
    }
    return g;
  }

  /**
   * Looks for handshake message `want` in one DTLS datagram of len bytes at
   * ptr: whole in its first record, or in fragments spread over the
   * datagram's records (any order, overlaps allowed, as OpenSSL takes them).
   */
  inDatagram(ptr: usize, len: i32, want: u8): Found {
    if (len < 13 || !isDtlsHandshake(ptr)) return Found.NOT_TLS;
    const rlen = <i32>bswap<u16>(load<u16>(ptr, 11));
    if (13 + rlen > len) return this.fail("record length " + rlen.toString() + " runs past the datagram", 11);
    if (rlen < 12) return this.fail("record too short for a handshake header", 11);
    if (load<u8>(ptr, 13) != want) return Found.OTHER_MESSAGE;
    const mlen = u24(ptr + 14);
    const fragOff = u24(ptr + 19);
    const fragLen = u24(ptr + 22);
    if (12 + fragLen > rlen) return this.fail("fragment length " + fragLen.toString() + " runs past the record", 22);
    if (fragOff == 0 && fragLen == mlen) {
      this.body = ptr + 25;
      this.bodyLen = mlen;
      return Found.OK;
    }
    return this.reassemble(ptr, len, want, mlen, <i32>bswap<u16>(load<u16>(ptr, 17)));
  }

  /**
   * Gathers the fragments of message `want` (length mlen, sequence seq) from
   * every handshake record of the datagram. FRAGMENTED when some bytes are
   * still missing: those would come in later datagrams, not reassembled.
   */
  private reassemble(ptr: usize, len: i32, want: u8, mlen: i32, seq: i32): Found {
    if (mlen > MAX_MESSAGE) return this.fail("hello length " + mlen.toString() + " over " + MAX_MESSAGE.toString(), 14);
    const g = changetype<usize>(this.gathered);
    const bits = changetype<usize>(this.covered);
    memory.fill(bits, 0, <usize>((mlen >> 3) + 1));
    let missing = mlen;
    let rec = 0;
    while (rec + 13 <= len && isDtlsHandshake(ptr + <usize>rec)) {
      const rlen = <i32>bswap<u16>(load<u16>(ptr + <usize>rec, 11));
      const recEnd = rec + 13 + rlen;
      if (recEnd > len) return this.fail("record length " + rlen.toString() + " runs past the datagram", rec + 11);
      // A record may hold several handshake fragments back to back.
      let at = rec + 13;
      while (at + 12 <= recEnd) {
        const h = ptr + <usize>at;
        const fragOff = u24(h + 6);
        const fragLen = u24(h + 9);
        if (at + 12 + fragLen > recEnd) return this.fail("fragment length " + fragLen.toString() + " runs past the record", at + 9);
        if (load<u8>(h) == want && u24(h + 1) == mlen && <i32>bswap<u16>(load<u16>(h, 4)) == seq) {
          if (fragOff + fragLen > mlen) return this.fail("fragment at " + fragOff.toString() + " runs past the message", at + 6);
          memory.copy(g + <usize>fragOff, h + 12, <usize>fragLen);
          missing -= markCovered(bits, fragOff, fragLen);
        }
        at += 12 + fragLen;
      }
      rec = recEnd;
    }
    if (missing > 0) return Found.FRAGMENTED;
    this.body = g;
    this.bodyLen = mlen;
    return Found.OK;
  }
}

/** A DTLS 1.0/1.2/1.3 handshake record header at p (13 bytes present). */
function isDtlsHandshake(p: usize): bool {
  if (load<u8>(p) != 22 || load<u8>(p, 1) != 0xfe) return false;
  const minor = load<u8>(p, 2);
  return minor == 0xff || minor == 0xfd || minor == 0xfc;
}

/** Marks bytes [from, from + n) in the bitmap at bits; returns how many were not marked before. */
function markCovered(bits: usize, from: i32, n: i32): i32 {
  let fresh = 0;
  for (let i = from; i < from + n; i++) {
    const byte = bits + <usize>(i >> 3);
    const bit = <u8>(1 << <u8>(i & 7));
    const v = load<u8>(byte);
    if ((v & bit) == 0) { store<u8>(byte, v | bit); fresh++; }
  }
  return fresh;
}

@inline function u24(p: usize): i32 {
  return (<i32>load<u8>(p) << 16) | <i32>bswap<u16>(load<u16>(p, 1));
}
