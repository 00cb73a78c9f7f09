// DNS over TCP (RFC 1035 4.2.2, RFC 7766): each message is preceded by its
// length in two bytes, and a connection may carry many messages each way,
// several to a segment or one spread over several. The host hands over each
// direction's whole stream, so an offset per direction is all a flow needs.

/** Set by nextDnsMessage: the message found (without its length prefix). */
export let messageAt: i32 = 0;
export let messageLen: i32 = 0;

/**
 * The whole message whose length prefix starts at `from` in a stream of len
 * bytes: true with messageAt/messageLen, false until all of it has come.
 */
export function nextDnsMessage(s: usize, from: i32, len: i32): bool {
  if (from < 0 || len - from < 2) return false;
  const n = (<i32>load<u8>(s + <usize>from) << 8) | <i32>load<u8>(s + <usize>(from + 1));
  if (len - from - 2 < n) return false;
  messageAt = from + 2;
  messageLen = n;
  return true;
}

/** Where each direction's next message starts: 0 to server, 1 to client. */
export class DnsTcpMessages {
  toServer: i32 = 0;
  toClient: i32 = 0;
  /** Directions whose stream reached the host's stream depth (bit 1 << direction). */
  ended: i32 = 0;
}
