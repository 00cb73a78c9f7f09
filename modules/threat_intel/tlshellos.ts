// The ClientHellos of a TLS client stream: the first, and the second a client
// sends after a HelloRetryRequest (RFC 8446 4.1.2/4.1.4). The server goes on
// with the second, and the RFC's rule that it repeat the first is the
// client's to keep (OpenSSL 3.0's s_server went on with another name): a client can
// name a harmless host first and the listed one after the retry.
// Only offsets into the stream are kept; the host hands over the whole
// client stream on every packet.
import { tlsHandshakeMessage, afterMessageRecord, afterMessageSkip, foundPtr, Found, TLS_MAX_HELLO } from "./names";

/**
 * Client stream bytes searched for a whole ClientHello from where it starts:
 * the largest hello we gather, plus the headers of the records it may be
 * spread over. Also how far past the first hello the second may start
 * (change_cipher_spec records in between).
 */
export const TLS_LOOK = TLS_MAX_HELLO * 2;
/** A client that gets a second HelloRetryRequest aborts (RFC 8446 4.1.4), so no server reads a third hello. */
export const MAX_CLIENT_HELLOS = 2;

const CHANGE_CIPHER_SPEC: u8 = 20;
const CLIENT_HELLO: u8 = 1;

@inline function u16at(p: usize): i32 { return (<i32>load<u8>(p) << 8) | <i32>load<u8>(p + 1); }

export class TlsHellos {
  /** Stream offset of the record the next hello starts in. */
  at: i32;
  /** Content bytes of that record that belong to the hello before. */
  skip: i32 = 0;
  /** The next hello must start before this stream offset. */
  limit: i32;
  read: i32 = 0;

  /** From stream offset `from` (0, or the start of a CONNECT tunnel). */
  constructor(from: i32) {
    this.at = from;
    this.limit = from + TLS_LOOK;
  }

  /**
   * The next ClientHello of the client stream of len bytes at s: YES with
   * the message in foundPtr/foundLen, NEED_MORE while it is incomplete, NO
   * when no (further) hello is there to read: the records after a hello are
   * not a ClientHello (the handshake went on), or MAX_CLIENT_HELLOS were read.
   */
  next(s: usize, len: i32): i32 {
    if (this.read >= MAX_CLIENT_HELLOS) return Found.NO;
    if (this.read > 0) {
      const r = this.pastChangeCipherSpec(s, len);
      if (r != Found.YES) return r;
    }
    const avail = len - this.at;
    if (avail <= 0) return Found.NEED_MORE;
    const r = tlsHandshakeMessage(s + <usize>this.at, avail < TLS_LOOK ? avail : TLS_LOOK, this.skip);
    if (r == Found.NEED_MORE) return avail >= TLS_LOOK ? Found.NO : Found.NEED_MORE;
    // a TLS 1.2 client's next message is its ClientKeyExchange: no retry came
    if (r == Found.NO || load<u8>(foundPtr) != CLIENT_HELLO) return Found.NO;
    this.read++;
    this.at += afterMessageRecord;
    this.skip = afterMessageSkip;
    this.limit = this.at + TLS_LOOK;
    return Found.YES;
  }

  /**
   * A TLS 1.3 client in middlebox compatibility mode sends a
   * change_cipher_spec record before its second hello (RFC 8446 D.4), and
   * servers skip it. Moves `at` past such records as they complete, so each
   * is walked once.
   */
  private pastChangeCipherSpec(s: usize, len: i32): i32 {
    if (this.skip > 0) return Found.YES;
    while (this.at < len && load<u8>(s + <usize>this.at) == CHANGE_CIPHER_SPEC) {
      if (this.at >= this.limit) return Found.NO;
      if (this.at + 5 > len) return Found.NEED_MORE;
      const end = this.at + 5 + u16at(s + <usize>(this.at + 3));
      if (end > len) return Found.NEED_MORE;
      this.at = end;
    }
    if (this.at >= this.limit) return Found.NO;
    return this.at < len ? Found.YES : Found.NEED_MORE;
  }
}
