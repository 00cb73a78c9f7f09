// Finds where one direction's encryption starts. Until SSH_MSG_NEWKEYS
// (RFC 4253 7.3) a direction's binary packets are in the clear: uint32
// packet_length, byte padding_length, then the message number; no MAC yet.
// The byte after that direction's NEWKEYS packet is its first encrypted byte.

const MSG_NEWKEYS: u8 = 21;
/** RFC 4253 6.1: implementations must take packets of 35000 bytes; a bigger one is not a key exchange. */
const PACKET_MAX: u32 = 35000;
/** A key exchange fits in a few KiB, even with post-quantum keys; a longer one is not followed further. */
const CLEAR_MAX: i32 = 65536;

export const KEX_PENDING: i32 = -1;
export const KEX_UNREADABLE: i32 = -2;

export class KexEnd {
  /** Stream offset of the next cleartext packet; -1 until the identification line is read. */
  next: i32 = -1;
  /** Offset of the first encrypted byte, or KEX_PENDING / KEX_UNREADABLE. */
  encStart: i32 = KEX_PENDING;

  /** Walks the cleartext packets in len stream bytes at p, from where the last call stopped. */
  walk(p: usize, len: i32): i32 {
    if (this.next < 0) return this.encStart;
    while (this.encStart == KEX_PENDING) {
      if (this.next > CLEAR_MAX) { this.encStart = KEX_UNREADABLE; break; }
      if (this.next + 6 > len) break;
      const size = bswap<u32>(load<u32>(p + <usize>this.next));
      if (size < 5 || size > PACKET_MAX) { this.encStart = KEX_UNREADABLE; break; }
      const msg = load<u8>(p + <usize>(this.next + 5));
      const end = this.next + 4 + <i32>size;
      if (msg != MSG_NEWKEYS) { this.next = end; continue; }
      // NEWKEYS ends where its packet ends, whether or not those bytes have come yet.
      this.encStart = end;
    }
    return this.encStart;
  }
}
