// In-order reassembly of one direction of a TCP connection, for the first
// `depth` bytes only: that is what L7 inspectors need (a request line, a TLS
// ClientHello), and it bounds memory per flow.
//
// Bytes live at their stream offset in one buffer that grows up to `depth`.
// Out-of-order data is written straight into its place and remembered as a
// "held" range, so filling a hole releases it without copying. Bytes already
// present are never overwritten: the first copy received wins, and a later copy
// that differs is counted as a conflict (the classic IDS-evasion trick).

import { withRange } from './ranges.js';
import { TcpFlag, type DecodedPacket } from '../packet/types.js';
import { Direction } from './types.js';

export interface TcpStreamStats {
  segments: number;
  /** Segments that brought no new byte (retransmissions, stale data). */
  retransmits: number;
  /** Segments that arrived ahead of a hole and were held. */
  outOfOrder: number;
  /** Segments whose bytes overlapped bytes already held and differed from them. */
  overlapConflicts: number;
  /** Bytes discarded because they lie beyond the depth. */
  bytesBeyondDepth: number;
  /** Segments not written because their buffer could not grow within the pool's memory cap. */
  memcapRefused: number;
  /** Segments refused whole for differing from bytes held past a hole (push with refuseHeldConflicts). */
  heldConflictsRefused: number;
}

const INITIAL_CAPACITY = 2048;
const BUFFERS_PER_SLAB = 32;
const DEFAULT_MAX_FREE = 8192;

const EMPTY = new Uint8Array(0);

/**
 * Stream buffer memory per engine (one per daemon queue). A segment just
 * inside the depth grows its direction's buffer to the whole depth, so
 * without a cap 65,536 flows × 2 directions × 64 KiB (8 GiB) cost an
 * attacker two small packets a flow. Suricata's stream.reassembly.memcap is
 * 256 MiB too.
 */
export const DEFAULT_STREAM_MEMCAP = 256 * 1024 * 1024;
/** The bounds a user may set (daemon config, `inspect` options): one depth past 64 MiB is no longer a stream buffer but a capture. */
export const MAX_STREAM_DEPTH = 64 * 1024 * 1024;
/**
 * A depth of 0 would leave every TCP module blind, and in Suricata (whose
 * stream.reassembly.depth a user copies) 0 means unlimited: refused with this,
 * rather than read either way without a word.
 */
export const ZERO_STREAM_DEPTH_HINT = 'in Suricata 0 means unlimited; here give the bytes to keep, up to 64MiB (stream_memcap bounds them all)';
export const MIN_STREAM_MEMCAP = 1024 * 1024;

/**
 * First buffers for stream directions, shared by many streams. A new
 * ArrayBuffer per direction costs about a microsecond and GC pressure, and a
 * capture opens a stream every few packets; here buffers are carved from
 * slabs and come back when their stream is released. A recycled buffer keeps
 * old bytes: a stream only ever exposes or compares bytes it wrote itself.
 */
export class StreamBufferPool {
  /** Length of every buffer the pool hands out. */
  readonly size: number;
  /** Buffers kept for reuse at most; more given back are left to the GC. */
  readonly maxFree: number;
  /**
   * Bytes all streams of this pool may hold in their buffers together. Depth
   * bounds one stream, not how many: a segment just inside the depth grows its
   * buffer to the whole depth, so flows × depth is the only other bound.
   */
  readonly memcap: number;
  /** Bytes of buffers that streams of this pool hold now. */
  inUse = 0;
  private free: Uint8Array[] = [];
  private slab: ArrayBuffer | null = null;
  private slabUsed = 0;

  constructor(size = INITIAL_CAPACITY, maxFree = DEFAULT_MAX_FREE, memcap = Infinity) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`StreamBufferPool size must be a positive integer, got ${size}`);
    if (!Number.isInteger(maxFree) || maxFree < 0) throw new RangeError(`StreamBufferPool maxFree must be a non-negative integer, got ${maxFree}`);
    if (!(memcap >= 0)) throw new RangeError(`StreamBufferPool memcap must be a non-negative number, got ${memcap}`);
    this.size = size;
    this.maxFree = maxFree;
    this.memcap = memcap;
  }

  /** Accounts `bytes` more held by a stream; false (nothing accounted) when that would pass the cap. */
  reserve(bytes: number): boolean {
    if (this.inUse + bytes > this.memcap) return false;
    this.inUse += bytes;
    return true;
  }

  /** Buffers waiting for reuse. */
  get available(): number { return this.free.length; }

  take(): Uint8Array {
    const b = this.free.pop();
    if (b !== undefined) return b;
    if (this.slab === null || this.slabUsed + this.size > this.slab.byteLength) {
      this.slab = new ArrayBuffer(this.size * BUFFERS_PER_SLAB);
      this.slabUsed = 0;
    }
    const v = new Uint8Array(this.slab, this.slabUsed, this.size);
    this.slabUsed += this.size;
    return v;
  }

  /** Takes a buffer back; nothing may use it or a view of it afterwards. */
  give(b: Uint8Array): void {
    if (b.length === this.size && this.free.length < this.maxFree) this.free.push(b);
  }
}

export class TcpStream {
  readonly depth: number;
  readonly stats: TcpStreamStats = {
    segments: 0, retransmits: 0, outOfOrder: 0, overlapConflicts: 0, bytesBeyondDepth: 0, memcapRefused: 0, heldConflictsRefused: 0,
  };

  private buf: Uint8Array;
  /** Sequence number of buf[0]; meaningful once `anchored`. */
  private baseSeq = 0;
  private anchored = false;
  private contiguous = 0;
  /** Held ranges past the first hole: sorted, disjoint, non-adjacent [start, end) pairs. */
  private held: number[] = [];

  /** `pool` supplies the first buffer when it is not larger than the depth. */
  constructor(depth: number, private readonly pool: StreamBufferPool | null = null) {
    if (!Number.isInteger(depth) || depth < 0) throw new RangeError(`TcpStream depth must be a non-negative integer, got ${depth}`);
    this.depth = depth;
    // Most flows carry little or no payload in one direction: the buffer is
    // allocated on the first segment, not per flow.
    this.buf = EMPTY;
  }

  /** The ISN from a SYN: stream data starts at isn+1. Ignored once data arrived. */
  setInitialSeq(isn: number): void {
    if (this.contiguous > 0 || this.held.length > 0) return;
    this.baseSeq = (isn + 1) >>> 0;
    this.anchored = true;
  }

  get initialized(): boolean { return this.anchored; }
  /** In-order bytes available (never more than depth). */
  get length(): number { return this.contiguous; }
  get full(): boolean { return this.contiguous >= this.depth; }
  /** True when data is held beyond a hole that has not been filled yet. */
  get hasGap(): boolean { return this.held.length > 0; }
  /** Sequence number of the next in-order byte expected. */
  get nextSeq(): number { return (this.baseSeq + this.contiguous) >>> 0; }
  /** Sequence number of stream offset 0. */
  get baseSequence(): number { return this.baseSeq; }

  /**
   * The contiguous in-order bytes, as a view (no copy). A returned view stays
   * correct: in-order bytes are never rewritten, and growth moves to a new buffer.
   */
  bytes(): Uint8Array { return this.buf.subarray(0, this.contiguous); }

  /**
   * Writes `bytes` at stream offset `at`, over the bytes the stream holds
   * there (in order, or held past a hole); nothing is added. For bytes the
   * receiver never got (a module dropped them), which it takes from a later
   * copy, whatever the first one said. The one exception to "in-order bytes
   * are never rewritten": the caller makes sure no view of them is still
   * waiting to be read.
   */
  rewrite(at: number, bytes: Uint8Array): void {
    const write = (s: number, e: number): void => {
      s = Math.max(s, at);
      e = Math.min(e, at + bytes.length);
      if (s < e) this.buf.set(bytes.subarray(s - at, e - at), s);
    };
    write(0, this.contiguous);
    for (let i = 0; i < this.held.length; i += 2) write(this.held[i]!, this.held[i + 1]!);
  }

  /**
   * Adds one segment; returns how many in-order bytes it made available.
   *
   * `refuseHeldConflicts`: a segment whose bytes differ from bytes held past
   * a hole is refused whole (nothing written, heldConflictsRefused counts
   * it), for a caller that then drops it. Which copy of such bytes a
   * receiver keeps is the receiver's choice: Linux replaces a queued
   * segment with a longer one of the same start, and its in-order data
   * wins over what it queued, where first-copy-wins would inspect the
   * other. Once the later copy never arrives, the receiver can only have
   * the one inspected. (Bytes below the in-order edge need no such care:
   * every stack keeps the copy it already has.)
   */
  push(seq: number, payload: Uint8Array, refuseHeldConflicts = false): number {
    const len = payload.length;
    if (len === 0) return 0;
    this.stats.segments++;
    if (!this.anchored) {
      // Mid-stream pickup: the first segment seen defines offset 0.
      this.baseSeq = seq >>> 0;
      this.anchored = true;
    }
    // Signed 32-bit distance handles wraparound: depth is far below 2^31.
    let start = (seq - this.baseSeq) | 0;
    let from = 0;
    if (start < 0) {
      from = -start;
      start = 0;
      if (from >= len) { this.stats.retransmits++; return 0; }
    }
    let end = start + (len - from);
    if (end > this.depth) {
      this.stats.bytesBeyondDepth += end - Math.max(start, this.depth);
      end = this.depth;
    }
    if (start >= end) return 0; // entirely beyond the depth
    if (refuseHeldConflicts && this.held.length > 0 && this.differsFromHeld(payload, from - start, start, end)) {
      this.stats.overlapConflicts++;
      this.stats.heldConflictsRefused++;
      return 0;
    }
    if (!this.ensureCapacity(end)) {
      this.stats.memcapRefused++;
      return 0;
    }

    const before = this.contiguous;
    const wrote = this.writeUncovered(payload, from - start, start, end);
    if (wrote === 0) this.stats.retransmits++;
    else if (start > this.contiguous) this.stats.outOfOrder++;
    this.addHeld(start, end);
    return this.contiguous - before;
  }

  /** Copies the parts of [start,end) not yet present and compares the parts that are. */
  private writeUncovered(payload: Uint8Array, shift: number, start: number, end: number): number {
    let conflict = false;
    let wrote = 0;
    let pos = start;
    // Covered ranges in order: [0, contiguous) then the held pairs.
    let i = -2;
    while (pos < end) {
      let cs: number, ce: number;
      if (i < 0) { cs = 0; ce = this.contiguous; } else if (i < this.held.length) { cs = this.held[i]!; ce = this.held[i + 1]!; } else { cs = end; ce = end; }
      i += 2;
      if (ce <= pos) continue;
      const gapEnd = Math.min(cs, end);
      if (gapEnd > pos) {
        this.buf.set(payload.subarray(pos + shift, gapEnd + shift), pos);
        wrote += gapEnd - pos;
        pos = gapEnd;
      }
      const overEnd = Math.min(ce, end);
      if (!conflict) {
        for (let k = pos; k < overEnd; k++) {
          if (this.buf[k] !== payload[k + shift]) { conflict = true; break; }
        }
      }
      if (overEnd > pos) pos = overEnd;
    }
    if (conflict) this.stats.overlapConflicts++;
    return wrote;
  }

  /** Whether payload (at stream offset start, shifted by shift) differs from held bytes it overlaps in [start,end). */
  private differsFromHeld(payload: Uint8Array, shift: number, start: number, end: number): boolean {
    const h = this.held;
    for (let i = 0; i < h.length && h[i]! < end; i += 2) {
      const from = Math.max(h[i]!, start), to = Math.min(h[i + 1]!, end);
      for (let k = from; k < to; k++) if (this.buf[k] !== payload[k + shift]) return true;
    }
    return false;
  }

  /** Merges [start,end) into the coverage and advances the in-order edge. */
  private addHeld(start: number, end: number): void {
    if (end <= this.contiguous) return;
    if (start <= this.contiguous && this.held.length === 0) { this.contiguous = end; return; }
    const out = withRange(this.held, Math.max(start, this.contiguous), end);
    if (out[0] === this.contiguous) {
      this.contiguous = out[1]!;
      out.splice(0, 2);
    }
    this.held = out;
  }

  /**
   * Gives the buffer back to the pool and empties the stream. Only once no
   * view from bytes() is in use any more: the pool hands the buffer out again.
   */
  release(): void {
    const b = this.buf;
    this.buf = EMPTY;
    this.contiguous = 0;
    this.held = [];
    this.anchored = false;
    this.baseSeq = 0;
    if (this.pool !== null && b !== EMPTY) {
      this.pool.inUse -= b.length;
      this.pool.give(b);
    }
  }

  /** False when the pool's memory cap leaves no room: the buffer is left as it was. */
  private ensureCapacity(end: number): boolean {
    if (end <= this.buf.length) return true;
    const pool = this.pool;
    if (this.buf.length === 0 && pool !== null && end <= pool.size && pool.size <= this.depth) {
      if (!pool.reserve(pool.size)) return false;
      this.buf = pool.take();
      return true;
    }
    let cap = Math.max(this.buf.length * 2, INITIAL_CAPACITY);
    while (cap < end) cap *= 2;
    cap = Math.min(cap, this.depth);
    if (pool !== null && !pool.reserve(cap - this.buf.length)) return false;
    const next = new Uint8Array(cap);
    next.set(this.buf);
    this.buf = next;
    return true;
  }
}

/** The TSval of the packet's TCP timestamp option, -1 when it has none. */
function tsVal(pkt: DecodedPacket): number {
  const d = pkt.data;
  let i = pkt.l4Offset + 20;
  const end = Math.min(pkt.l4Offset + ((d[pkt.l4Offset + 12]! >> 4) << 2), d.length);
  while (i < end) {
    const kind = d[i]!;
    if (kind === 0) break;
    if (kind === 1) { i++; continue; }
    const len = d[i + 1] ?? 0;
    if (len < 2) break;
    if (kind === 8 && len === 10 && i + 6 <= end) return ((d[i + 2]! << 24) | (d[i + 3]! << 16) | (d[i + 4]! << 8) | d[i + 5]!) >>> 0;
    i += len;
  }
  return -1;
}

/** At most this many different ISNs are remembered per direction while the handshake is unconfirmed. */
const MAX_SYN_CANDIDATES = 4;

/** What one direction's SYNs said, until the peer's ACK says which one it took. */
class Handshake {
  /** ISNs of the SYNs seen, and the data each carried (EMPTY for none). */
  isns: number[] = [];
  data: Uint8Array[] = [];
  /** The peer acknowledged one of the SYNs: later SYNs cannot move the stream. */
  confirmed = false;
  /** SYN data the peer acknowledged, written at the next push of this direction. */
  accepted: Uint8Array | null = null;
}

/**
 * Both directions of one TCP connection, fed with decoded packets.
 *
 * The handshake decides where each stream starts, and an evader may send
 * SYNs the receiver never takes (a TTL too short to reach it, a second SYN
 * with another ISN after the connection is up): a stream anchored by such a
 * SYN would place the real data far outside it, uninspected. So the ISN that
 * counts is the one the peer acknowledges, and data on a SYN is held until
 * the peer's ACK covers it (TCP Fast Open) or the sender's next segment shows
 * whether the receiver kept it: a stack without Fast Open drops SYN data and
 * the client sends it again at ISN+1, possibly different.
 */
export class TcpStreamPair {
  readonly toServer: TcpStream;
  readonly toClient: TcpStream;
  /** Per direction, null once the stream has data or never saw a SYN. */
  private hs: [Handshake | null, Handshake | null] = [null, null];
  /** SYNs that could not move an established stream, or SYN data the receiver did not take. */
  synIgnored = 0;
  /** Data segments with a timestamp older than one the receiver already took (PAWS): not written. */
  pawsRejected = 0;
  /** Bit per direction: its SYN carried a timestamp option. PAWS applies once both did. */
  private tsOffered = 0;
  /** Bit per direction: tsRecent holds the TSval of a segment the receiver took in order. */
  private tsSeen = 0;
  private readonly tsRecent: [number, number] = [0, 0];

  /**
   * The direction's PAWS state as one number: the last in-order TSval the
   * receiver took, or -1 for none. With restoreTimestamp, a segment the
   * receiver never got (dropped) does not move it: else its TSval would make
   * the engine refuse the next real segment that the receiver takes.
   */
  timestampState(direction: Direction): number {
    return (this.tsSeen & (1 << direction)) !== 0 ? this.tsRecent[direction]! >>> 0 : -1;
  }

  restoreTimestamp(direction: Direction, state: number): void {
    const bit = 1 << direction;
    if (state < 0) {
      this.tsSeen &= ~bit;
    } else {
      this.tsRecent[direction] = state;
      this.tsSeen |= bit;
    }
  }

  constructor(depth: number, pool: StreamBufferPool | null = null) {
    this.toServer = new TcpStream(depth, pool);
    this.toClient = new TcpStream(depth, pool);
  }

  /** Both directions' TcpStream.release(). */
  release(): void {
    this.toServer.release();
    this.toClient.release();
    this.hs[0] = this.hs[1] = null;
  }

  stream(direction: Direction): TcpStream {
    return direction === Direction.TO_SERVER ? this.toServer : this.toClient;
  }

  /**
   * Feeds a TCP packet's payload; returns the in-order bytes it released.
   * A SYN anchors the stream at its ISN until the peer acknowledges one; its
   * data is held until taken (see the class comment). RST payloads are
   * ignored: stacks do not deliver them.
   */
  pushPacket(pkt: DecodedPacket, direction: Direction, refuseHeldConflicts = false): number {
    if (pkt.l4Offset < 0 || pkt.proto !== 6) return 0;
    const s = this.stream(direction);
    const flags = pkt.tcpFlags;
    if (flags & TcpFlag.RST) return 0;
    const peerHs = this.hs[direction ^ 1];
    if ((flags & TcpFlag.ACK) && peerHs !== null && !peerHs.confirmed) this.confirm(direction === Direction.TO_SERVER ? this.toClient : this.toServer, peerHs, pkt.tcpAck);
    let released = 0;
    let hs = this.hs[direction];
    if (hs !== null && hs.accepted !== null) {
      released += s.push(s.nextSeq, hs.accepted);
      this.hs[direction] = hs = null;
    }
    const len = pkt.payloadLength;
    const payload = len > 0 ? pkt.data.subarray(pkt.payloadOffset, pkt.payloadOffset + len) : EMPTY;
    const seq = pkt.tcpSeq;
    const ts = tsVal(pkt);
    const bit = 1 << direction;
    if (flags & TcpFlag.SYN) {
      if (ts >= 0) this.tsOffered |= bit;
      if (s.length > 0 || s.hasGap || (hs !== null && hs.confirmed)) {
        if (s.length > 0 || s.hasGap ? ((seq + 1) >>> 0) !== s.baseSequence : !hs!.isns.includes(seq) || len > 0) this.synIgnored++;
        return released;
      }
      if (hs === null) this.hs[direction] = hs = new Handshake();
      const at = hs.isns.indexOf(seq);
      if (at < 0 && hs.isns.length < MAX_SYN_CANDIDATES) {
        hs.isns.push(seq);
        hs.data.push(len > 0 ? payload.slice() : EMPTY);
      } else if (at >= 0 && len > 0 && hs.data[at]!.length === 0) {
        hs.data[at] = payload.slice();
      }
      // Until the peer answers, the latest SYN is the best guess (a client that retries sends a new SYN).
      s.setInitialSeq(seq);
      return released;
    }
    const inOrder = ((seq - s.nextSeq) | 0) <= 0;
    if (ts >= 0 && this.tsOffered === 3) {
      // PAWS (RFC 7323): with timestamps on, the receiver drops a segment whose
      // TSval is older than the last one it took in order. An evader's decoy
      // with an old TSval is such a segment: the host never reads it.
      if ((this.tsSeen & bit) !== 0 && ((ts - this.tsRecent[direction]!) | 0) < 0) {
        if (len > 0) this.pawsRejected++;
        return released;
      }
      if (inOrder) {
        this.tsRecent[direction] = ts;
        this.tsSeen |= bit;
      }
    }
    if (len <= 0) return released;
    if (hs !== null && !hs.confirmed) {
      // No ACK from the peer seen (a one-sided capture): the client's next segment tells.
      const isn = (s.baseSequence - 1) >>> 0;
      const held = hs.data[hs.isns.indexOf(isn)] ?? EMPTY;
      if (held.length > 0 && seq === ((isn + 1 + held.length) >>> 0)) released += s.push(s.nextSeq, held);
      else if (held.length > 0) this.synIgnored++;
      this.hs[direction] = null;
    } else if (hs !== null) {
      this.hs[direction] = null;
    }
    return released + s.push(seq, payload, refuseHeldConflicts);
  }

  /** The peer acknowledged `ack`: the SYN it names is the one the receiver took. */
  private confirm(s: TcpStream, hs: Handshake, ack: number): void {
    for (let i = 0; i < hs.isns.length; i++) {
      const isn = hs.isns[i]!;
      const data = hs.data[i]!;
      const plain = ack === ((isn + 1) >>> 0);
      if (!plain && !(data.length > 0 && ack === ((isn + 1 + data.length) >>> 0))) continue;
      hs.confirmed = true;
      s.setInitialSeq(isn);
      if (!plain) hs.accepted = data;
      else if (data.length > 0) this.synIgnored++;
      hs.isns = [isn];
      hs.data = [EMPTY];
      return;
    }
  }
}
