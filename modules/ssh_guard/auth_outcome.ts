// Tells, without decrypting, whether an SSH session got past authentication.
//
// The server's first encrypted message after the client's first one is
// SSH_MSG_SERVICE_ACCEPT "ssh-userauth" (17 bytes of payload). Every later
// message a server sends while authentication goes on carries more (a
// failure lists the methods left, a banner its text, PK_OK the key), but
// SSH_MSG_USERAUTH_SUCCESS carries one byte. With minimal padding and the
// same cipher and MAC, that makes the success packet exactly one 16-byte
// step smaller than the service accept for block sizes of 8 and 16, etm or
// not, chacha20-poly1305 and AES-GCM alike; a failure or any other
// authentication reply is never that small. Measured on OpenSSH 9.2: accept
// 44 bytes, each failure 52, success 28.
//
// A session whose server never sends such a packet before the connection
// closes, after the client sent encrypted bytes (its authentication
// requests), ended in the authentication phase: a failed login or a client
// that gave up. What is not sure either way (a key exchange we cannot
// follow, a session longer or larger than any authentication) is settled as
// UNKNOWN and never counted.
import { KexEnd, KEX_UNREADABLE } from "./kex_end";

export enum Outcome {
  /** Still in key exchange or authentication. */
  WATCHING = 0,
  AUTHENTICATED = 1,
  /** Closed before any sign of success, after authentication requests. */
  FAILED = 2,
  UNKNOWN = 3,
}

/** MaxAuthTries 6 with the largest RSA keys is about 4 KiB; more is a session whose success we missed. */
const CLIENT_AUTH_MAX: i32 = 16384;
/** A pre-authentication banner can be long; past this the server is sending a session's output. */
const SERVER_AUTH_MAX: i32 = 65536;
/** OpenSSH's LoginGraceTime is 120 s; a connection still unsettled well after it is not a login attempt. */
const AUTH_MAX_NS: i64 = 300 * 1_000_000_000;
/** One cipher block step: what USERAUTH_SUCCESS is smaller than SERVICE_ACCEPT by. */
const SUCCESS_STEP: i32 = 16;

export class AuthWatch {
  client: KexEnd = new KexEnd();
  server: KexEnd = new KexEnd();
  clientEncrypted: i32 = 0;
  serverEncrypted: i32 = 0;
  /** Bytes of the server's first encrypted segment after the client's first: the service accept. */
  accept: i32 = 0;
  outcome: Outcome = Outcome.WATCHING;
  startNs: i64;
  /** Time of the flow's last packet seen, for counting at flow end. */
  lastNs: i64;
  /** The client's source key, for counting when the flow ends with no packet in hand. */
  source: u64;

  constructor(startNs: i64, source: u64) {
    this.startNs = startNs;
    this.lastNs = startNs;
    this.source = source;
  }

  /** Where each direction's cleartext starts: right after its identification line. */
  begin(server: bool, offset: i32): void {
    if (server) this.server.next = offset; else this.client.next = offset;
  }

  /** Takes a packet's new stream bytes (streamNew of streamLength at p) and returns the outcome so far. */
  observe(server: bool, p: usize, streamLength: i32, streamNew: i32, nowNs: i64): Outcome {
    if (this.outcome != Outcome.WATCHING) return this.outcome;
    if (nowNs > this.lastNs) this.lastNs = nowNs;
    if (nowNs - this.startNs > AUTH_MAX_NS) return this.outcome = Outcome.UNKNOWN;
    if (streamNew <= 0) return this.outcome;
    const kex = server ? this.server : this.client;
    const enc = kex.walk(p, streamLength);
    if (enc == KEX_UNREADABLE) return this.outcome = Outcome.UNKNOWN;
    if (enc < 0) return this.outcome;
    const from = streamLength - streamNew > enc ? streamLength - streamNew : enc;
    const n = streamLength - from;
    if (n <= 0) return this.outcome;
    if (!server) {
      this.clientEncrypted += n;
      if (this.clientEncrypted > CLIENT_AUTH_MAX) this.outcome = Outcome.UNKNOWN;
      return this.outcome;
    }
    this.serverEncrypted += n;
    if (this.serverEncrypted > SERVER_AUTH_MAX) return this.outcome = Outcome.UNKNOWN;
    // What the server sends before the client's first request (EXT_INFO) is no reply.
    if (this.clientEncrypted == 0) return this.outcome;
    if (this.accept == 0) this.accept = n;
    else if (n + SUCCESS_STEP <= this.accept) this.outcome = Outcome.AUTHENTICATED;
    return this.outcome;
  }

  /** The connection is closing (FIN or RST) or the host ended it. */
  close(): Outcome {
    if (this.outcome != Outcome.WATCHING) return this.outcome;
    const kexDone = this.client.encStart >= 0 && this.server.encStart >= 0;
    return this.outcome = kexDone && this.clientEncrypted > 0 ? Outcome.FAILED : Outcome.UNKNOWN;
  }
}
