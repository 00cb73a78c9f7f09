// IPv4 and IPv6 fragment reassembly, done before flow tracking and inspection
// so that an attacker cannot hide an L4 header or a payload pattern by
// splitting it across fragments. Policy and limits: docs/reassembly.md.
//
// Each datagram keeps one buffer indexed by fragment offset plus a sorted list
// of covered ranges; the header template comes from the offset-0 fragment.
// Datagrams live in a Map whose insertion order is their age, so expiry and
// eviction take the oldest from the front without scanning.

import { SecuxflowError } from '../errors.js';
import { finishChecksum, sumWords } from '../packet/checksum.js';
import { decodePacket } from '../packet/decode.js';
import { addrLength, dstAddrOffset, ipLayerEnd, srcAddrOffset, type DecodedPacket, type LinkType, type TunnelLayer } from '../packet/types.js';
import { datagramIdOf, type DatagramId } from './datagram-id.js';
import { wordsKey } from '../packet/tunnel-headers.js';

export type OverlapPolicy = 'first' | 'last';

export interface DefragOptions {
  /** Bytes held across all incomplete datagrams before the oldest is evicted (default 4 MiB). */
  maxBytes: number;
  /** Incomplete datagrams held at once (default 1024). */
  maxDatagrams: number;
  /** Seconds after its first fragment an incomplete datagram is dropped (default 30). */
  timeoutSec: number;
  /** Which copy of an overlapped byte wins (default 'first'). */
  policy: OverlapPolicy;
  /**
   * Called when an incomplete datagram is given up, so the caller can decide the
   * fragments it was holding back for it. Unset by default (no cost).
   */
  onDrop?: ((dropped: DroppedDatagram) => void) | undefined;
}

export type DropReason = 'timeout' | 'evicted' | 'oversized' | 'beyondLast';

/** Identifies a given-up datagram the way its fragments do (FragmentInfo.id, src, dst, VLAN). */
/** A datagram the reassembler gave up, and why. */
export interface DroppedDatagram extends DatagramId {
  reason: DropReason;
}

export const DEFAULT_DEFRAG_OPTIONS: Readonly<DefragOptions> = Object.freeze({
  maxBytes: 4 * 1024 * 1024, maxDatagrams: 1024, timeoutSec: 30, policy: 'first',
});

export interface DefragStats {
  /** Fragments given to push(). */
  fragments: number;
  reassembled: number;
  /** Incomplete datagrams dropped by expire(). */
  timedOut: number;
  /** Incomplete datagrams dropped to respect maxBytes / maxDatagrams. */
  evicted: number;
  /** Fragments that re-sent bytes already held, identically. */
  duplicates: number;
  /** Fragments that overlapped held bytes without being pure duplicates. */
  overlaps: number;
  /** Fragments whose overlapping bytes differ from the held ones: an evasion signal. */
  overlapsConflicting: number;
  /** Rejected: the datagram would exceed 65535 bytes (datagram dropped). */
  oversized: number;
  /** Rejected: data past the end set by the last fragment, or two different ends (datagram dropped). */
  beyondLast: number;
  /** Rejected: a non-last fragment with no data. */
  emptyFragment: number;
  /** Rejected: a non-last fragment whose length is not a multiple of 8. */
  misaligned: number;
  /** Rejected: the capture cut the fragment short, so its bytes are unknown. */
  truncated: number;
}

const MAX_DATAGRAM = 65535;

class Datagram {
  buf: Uint8Array = new Uint8Array(0);
  /** Sorted, disjoint, non-adjacent covered ranges as [start, end) pairs. */
  covered: number[] = [];
  /** Data length fixed by the last fragment, -1 until it arrives. */
  total = -1;
  /** Link + IP headers of the offset-0 fragment, up to its fragment data. */
  template: Uint8Array | null = null;
  l3Offset = 0;
  /** The offset-0 fragment's tunnels, whose carriers' lengths the rebuilt frame corrects. */
  tunnels: readonly TunnelLayer[] = [];
  linkType: LinkType = 1;
  held = 0;
  /** What the caller holds for this datagram besides its bytes (chargeLast). */
  charged = 0;
  /** A fragment overlapped held bytes with different ones. */
  conflict = false;
  /** Copied, not viewed: capture buffers may be reused before the datagram ends. */
  readonly identity: DatagramId;
  constructor(readonly key: string, readonly created: number, first: DecodedPacket) {
    this.identity = datagramIdOf(first, true);
  }

  maxEnd(): number { return this.covered.length === 0 ? 0 : this.covered[this.covered.length - 1]!; }
  complete(): boolean {
    return this.total >= 0 && this.template !== null && this.covered.length === 2 && this.covered[0] === 0 && this.covered[1] === this.total;
  }
}

export class Defragmenter {
  readonly options: Readonly<DefragOptions>;
  readonly stats: DefragStats = {
    fragments: 0, reassembled: 0, timedOut: 0, evicted: 0, duplicates: 0, overlaps: 0, overlapsConflicting: 0,
    oversized: 0, beyondLast: 0, emptyFragment: 0, misaligned: 0, truncated: 0,
  };
  private readonly datagrams = new Map<string, Datagram>();
  private heldBytes = 0;
  /** The datagram the last push() held a fragment for, for chargeLast(). */
  private lastHeld: Datagram | null = null;
  /** Whether the datagram push() returned last had fragments overlapping with different bytes. */
  lastConflicting = false;

  constructor(opts: Partial<DefragOptions> = {}) {
    const o: DefragOptions = { ...DEFAULT_DEFRAG_OPTIONS, ...opts };
    for (const name of ['maxBytes', 'maxDatagrams'] as const) {
      if (!Number.isInteger(o[name]) || o[name] < 1) {
        throw new SecuxflowError('E_USAGE', `defrag ${name} must be a positive integer, got ${String(o[name])}`);
      }
    }
    if (typeof o.timeoutSec !== 'number' || !(o.timeoutSec >= 0)) {
      throw new SecuxflowError('E_USAGE', `defrag timeoutSec must be a non-negative number, got ${String(o.timeoutSec)}`);
    }
    if (o.onDrop !== undefined && typeof o.onDrop !== 'function') {
      throw new SecuxflowError('E_USAGE', 'defrag onDrop must be a function');
    }
    if (o.policy !== 'first' && o.policy !== 'last') {
      throw new SecuxflowError('E_USAGE', `defrag policy must be 'first' or 'last', got '${String(o.policy)}'`, "'first' is what most IDSes use");
    }
    this.options = Object.freeze(o);
  }

  /** Incomplete datagrams held now. */
  get pending(): number { return this.datagrams.size; }
  /** Bytes held now by incomplete datagrams. */
  get bytesHeld(): number { return this.heldBytes; }

  /**
   * Counts `bytes` the caller keeps for the datagram the last push() held
   * (its copy of that fragment) against maxBytes, which may evict it. A
   * duplicate fragment adds nothing to the datagram itself, so without this
   * the same fragment resent until the timeout grew the caller's copies
   * without bound.
   */
  chargeLast(bytes: number): void {
    const d = this.lastHeld;
    this.lastHeld = null;
    if (d === null || this.datagrams.get(d.key) !== d) return;
    d.charged += bytes;
    d.held += bytes;
    this.heldBytes += bytes;
    this.enforceBudget(d);
  }

  /**
   * Returns `pkt` when it is not a fragment, null while its datagram is
   * incomplete, and the decoded rebuilt datagram once complete. A fragment that
   * breaks the rules is returned itself with `malformed` set (in place, unless
   * it already had a reason): the caller decides it on its own, and learns
   * through `onDrop` when fragments it held back lost their datagram.
   */
  push(pkt: DecodedPacket): DecodedPacket | null {
    const frag = pkt.fragment;
    if (frag === null || pkt.ipVersion === 0) return pkt;
    this.lastConflicting = false;
    this.lastHeld = null;
    const now = pkt.tsSec + pkt.tsNsec * 1e-9;
    this.expire(now);
    this.stats.fragments++;

    const data = pkt.data;
    const l3 = pkt.l3Offset;
    const v4 = pkt.ipVersion === 4;
    const ipEnd = ipLayerEnd(pkt);
    if (ipEnd > data.length) {
      this.stats.truncated++;
      return rejected(pkt, 'defrag.fragment_truncated', `defrag: fragment cut by the capture (${data.length - l3} of ${ipEnd - l3} IP bytes)`);
    }
    const len = ipEnd - frag.dataOffset;
    const start = frag.offset;
    const end = start + len;
    if (frag.moreFragments && len === 0) {
      this.stats.emptyFragment++;
      return rejected(pkt, 'defrag.empty_fragment', `defrag: empty non-last fragment at offset ${start}`);
    }
    if (frag.moreFragments && (len & 7) !== 0) {
      this.stats.misaligned++;
      return rejected(pkt, 'defrag.fragment_len_not_multiple_of_8', `defrag: non-last fragment length ${len} at offset ${start} is not a multiple of 8`);
    }
    // What precedes the fragment data in the rebuilt IP datagram (IPv4 header, or IPv6 unfragmentable part).
    const headerLen = v4 ? frag.dataOffset - l3 : frag.dataOffset - 8 - l3 - 40;
    const key = datagramKey(pkt);
    if (headerLen + end > MAX_DATAGRAM) {
      this.stats.oversized++;
      this.drop(key, 'oversized');
      return rejected(pkt, 'defrag.too_large', `defrag: fragment at offset ${start} ends at ${end}, datagram would exceed ${MAX_DATAGRAM} bytes`);
    }

    if (start === 0 && !frag.moreFragments) {
      // An atomic fragment (IPv6, RFC 6946) stands alone.
      const d = new Datagram(key, now, pkt);
      this.write(d, pkt, data.subarray(frag.dataOffset, ipEnd), 0);
      d.total = len;
      this.stats.reassembled++;
      return rebuild(d, pkt);
    }

    let d = this.datagrams.get(key);
    if (d === undefined) {
      if (this.datagrams.size >= this.options.maxDatagrams) this.evictOldest();
      d = new Datagram(key, now, pkt);
      this.datagrams.set(key, d);
    }
    if (!frag.moreFragments) {
      if ((d.total >= 0 && end !== d.total) || end < d.maxEnd()) {
        this.stats.beyondLast++;
        this.drop(key, 'beyondLast');
        return rejected(pkt, 'defrag.last_fragment_mismatch', `defrag: last fragment ends at ${end} but data up to ${Math.max(d.total, d.maxEnd())} was seen`);
      }
      d.total = end;
    } else if (d.total >= 0 && end > d.total) {
      this.stats.beyondLast++;
      this.drop(key, 'beyondLast');
      return rejected(pkt, 'defrag.after_last_fragment', `defrag: fragment ends at ${end}, after the last fragment's end ${d.total}`);
    }

    const before = d.held;
    this.write(d, pkt, data.subarray(frag.dataOffset, ipEnd), start);
    this.heldBytes += d.held - before;

    if (d.complete()) {
      this.datagrams.delete(key);
      this.heldBytes -= d.held;
      // Fragments may carry shorter headers than the offset-0 one the datagram is rebuilt with.
      if (rebuiltIpLength(d) > MAX_DATAGRAM) {
        this.stats.oversized++;
        this.report(d, 'oversized');
        return rejected(pkt, 'defrag.too_large', `defrag: reassembled datagram of ${rebuiltIpLength(d)} bytes exceeds ${MAX_DATAGRAM}`);
      }
      this.stats.reassembled++;
      this.lastConflicting = d.conflict;
      return rebuild(d, pkt);
    }
    this.enforceBudget(d);
    this.lastHeld = d;
    return null;
  }

  /** Drops incomplete datagrams whose first fragment is older than the timeout; returns how many. */
  expire(nowSec: number): number {
    let n = 0;
    const limit = nowSec - this.options.timeoutSec;
    for (const d of this.datagrams.values()) {
      if (d.created > limit) break;
      this.drop(d.key, 'timeout');
      this.stats.timedOut++;
      n++;
    }
    return n;
  }

  /** Copies one fragment's bytes in under the overlap policy and records its coverage. */
  private write(d: Datagram, pkt: DecodedPacket, bytes: Uint8Array, start: number): void {
    const end = start + bytes.length;
    if (end > d.buf.length) {
      const next = new Uint8Array(Math.min(MAX_DATAGRAM, Math.max(end, d.buf.length * 2)));
      next.set(d.buf);
      d.buf = next;
    }
    const last = this.options.policy === 'last';
    let overlapped = 0;
    let conflict = false;
    let pos = start;
    const cov = d.covered;
    for (let i = 0; i <= cov.length && pos < end; i += 2) {
      const cs = i < cov.length ? cov[i]! : end;
      const ce = i < cov.length ? cov[i + 1]! : end;
      if (ce <= pos) continue;
      const gapEnd = Math.min(cs, end);
      if (gapEnd > pos) { d.buf.set(bytes.subarray(pos - start, gapEnd - start), pos); pos = gapEnd; }
      const overEnd = Math.min(ce, end);
      for (let k = pos; k < overEnd; k++) {
        if (d.buf[k] !== bytes[k - start]) { conflict = true; break; }
      }
      if (overEnd > pos) {
        overlapped += overEnd - pos;
        if (last) d.buf.set(bytes.subarray(pos - start, overEnd - start), pos);
        pos = overEnd;
      }
    }
    if (overlapped > 0) {
      if (conflict) {
        this.stats.overlapsConflicting++;
        d.conflict = true;
      }
      if (conflict || overlapped < bytes.length) this.stats.overlaps++;
      else this.stats.duplicates++;
    }
    addRange(cov, start, end);
    if (start === 0 && (d.template === null || last)) {
      d.template = pkt.data.slice(0, pkt.fragment!.dataOffset);
      d.l3Offset = pkt.l3Offset;
      d.tunnels = pkt.tunnels;
      d.linkType = pkt.linkType;
    }
    d.held = d.buf.length + (d.template?.length ?? 0) + d.charged;
  }

  private enforceBudget(current: Datagram): void {
    while (this.heldBytes > this.options.maxBytes) {
      // Oldest first; the datagram being filled goes only when it alone is over budget.
      let victim: Datagram = current;
      for (const d of this.datagrams.values()) {
        if (d !== current) { victim = d; break; }
      }
      this.drop(victim.key, 'evicted');
      this.stats.evicted++;
      if (victim === current) return;
    }
  }

  private evictOldest(): void {
    const oldest = this.datagrams.keys().next().value;
    if (oldest !== undefined) { this.drop(oldest, 'evicted'); this.stats.evicted++; }
  }

  private drop(key: string, reason: DropReason): void {
    const d = this.datagrams.get(key);
    if (d === undefined) return;
    this.datagrams.delete(key);
    this.heldBytes -= d.held;
    this.report(d, reason);
  }

  private report(d: Datagram, reason: DropReason): void {
    const onDrop = this.options.onDrop;
    if (onDrop !== undefined) {
      onDrop({ ...d.identity, reason });
    }
  }
}

// In place, so `push(pkt) === pkt` keeps meaning "decide this packet on its own".
function rejected(pkt: DecodedPacket, event: string, reason: string): DecodedPacket {
  if (pkt.malformed === null) {
    pkt.malformed = reason;
    pkt.anomaly = event;
  }
  return pkt;
}

/** Code units of a datagram key: version, both VLAN ids, protocol, id (two), then both addresses as 16-bit words. */
const keyUnits = new Uint16Array(6 + 16);


/**
 * The datagram a fragment belongs to (the fields of DatagramId,
 * datagram-id.ts), as a string of 16-bit code units. A text key, two joins of the
 * addresses' bytes, cost 0.3 us (IPv4) to 0.7 us (IPv6) a fragment, which a fragment flood
 * pays on every packet.
 */
export function datagramKey(pkt: DecodedPacket): string {
  const f = pkt.fragment!;
  const d = pkt.data;
  const u = keyUnits;
  u[0] = pkt.ipVersion;
  u[1] = pkt.vlans.length > 0 ? pkt.vlans[0]! : 0;
  u[2] = pkt.vlans.length > 1 ? pkt.vlans[1]! : 0;
  u[3] = pkt.ipVersion === 4 ? f.nextHeader : 0xffff;
  u[4] = f.id >>> 16;
  u[5] = f.id & 0xffff;
  const len = addrLength(pkt);
  const src = srcAddrOffset(pkt);
  const dst = dstAddrOffset(pkt);
  let k = 6;
  for (let i = 0; i < len; i += 2) u[k++] = (d[src + i]! << 8) | d[src + i + 1]!;
  for (let i = 0; i < len; i += 2) u[k++] = (d[dst + i]! << 8) | d[dst + i + 1]!;
  const key = String.fromCharCode.apply(null, u.subarray(0, k) as unknown as number[]);
  // A tunnelled fragment's key ends with its tunnels: two overlays' datagrams never mix.
  return pkt.tunnelWords === null ? key : key + wordsKey(pkt.tunnelWords);
}

function addRange(cov: number[], start: number, end: number): void {
  let s = start, e = end;
  let i = 0;
  while (i < cov.length && cov[i + 1]! < s) i += 2;
  let j = i;
  while (j < cov.length && cov[j]! <= e) {
    s = Math.min(s, cov[j]!);
    e = Math.max(e, cov[j + 1]!);
    j += 2;
  }
  cov.splice(i, j - i, s, e);
}

/** IPv4 total length, or IPv6 payload length, of the datagram once rebuilt. */
function rebuiltIpLength(d: Datagram): number {
  const t = d.template!;
  const l3 = d.l3Offset;
  return (t[l3]! >> 4) === 4 ? ((t[l3]! & 0x0f) << 2) + d.total : t.length - 8 - l3 - 40 + d.total;
}

/** Builds the whole datagram's frame from the offset-0 headers and decodes it. */
function rebuild(d: Datagram, last: DecodedPacket): DecodedPacket {
  const t = d.template!;
  const l3 = d.l3Offset;
  const body = d.buf.subarray(0, d.total);
  const oldEnd = (t[l3]! >> 4) === 4 ? l3 + ((t[l3 + 2]! << 8) | t[l3 + 3]!) : l3 + 40 + ((t[l3 + 4]! << 8) | t[l3 + 5]!);
  let frame: Uint8Array;
  if ((t[l3]! >> 4) === 4) {
    const ihl = (t[l3]! & 0x0f) << 2;
    frame = new Uint8Array(t.length + body.length);
    frame.set(t, 0);
    frame.set(body, t.length);
    const totalLen = ihl + body.length;
    frame[l3 + 2] = totalLen >> 8;
    frame[l3 + 3] = totalLen & 0xff;
    frame[l3 + 6]! &= 0xc0; // keep reserved and DF bits, clear MF and the offset
    frame[l3 + 7] = 0;
    rewriteIpv4Checksum(frame, l3, ihl);
  } else {
    const fragHdr = t.length - 8;
    // Find the next-header byte that names the fragment header, to splice it out.
    let nhAt = l3 + 6;
    let pos = l3 + 40;
    while (pos < fragHdr) {
      const hdrLen = t[nhAt] === 51 ? (t[pos + 1]! + 2) << 2 : (t[pos + 1]! + 1) << 3;
      nhAt = pos;
      pos += hdrLen;
    }
    frame = new Uint8Array(fragHdr + body.length);
    frame.set(t.subarray(0, fragHdr), 0);
    frame.set(body, fragHdr);
    frame[nhAt] = t[fragHdr]!;
    const payloadLen = fragHdr - l3 - 40 + body.length;
    frame[l3 + 4] = payloadLen >> 8;
    frame[l3 + 5] = payloadLen & 0xff;
  }
  if (d.tunnels.length > 0) growCarriers(frame, d.tunnels, frame.length - oldEnd);
  return decodePacket(frame, d.linkType, last.tsSec, last.tsNsec);
}

/** The IPv4 header at l3 (ihl bytes) gets its checksum computed again. */
function rewriteIpv4Checksum(frame: Uint8Array, l3: number, ihl: number): void {
  frame[l3 + 10] = 0;
  frame[l3 + 11] = 0;
  const sum = finishChecksum(sumWords(frame, l3, l3 + ihl));
  frame[l3 + 10] = sum >> 8;
  frame[l3 + 11] = sum & 0xff;
}

/**
 * The tunnels around a reassembled inner datagram carried its first
 * fragment: their length fields grow by what the datagram added, or the
 * decoder would end each carrier, and so the datagram, where that fragment
 * ended. A carrier past 65535 bytes keeps 65535 and the datagram is cut
 * there (a tunnel endpoint could not have sent it whole either).
 */
function growCarriers(frame: Uint8Array, tunnels: readonly TunnelLayer[], delta: number): void {
  const add = (at: number): void => {
    const v = Math.min(0xffff, ((frame[at]! << 8) | frame[at + 1]!) + delta);
    frame[at] = v >> 8;
    frame[at + 1] = v & 0xff;
  };
  for (const t of tunnels) {
    const l3 = t.outerL3Offset;
    if (t.outerVersion === 4) {
      add(l3 + 2);
      rewriteIpv4Checksum(frame, l3, (frame[l3]! & 0x0f) << 2);
    } else {
      add(l3 + 4);
    }
    if (t.outerL4Offset >= 0) {
      add(t.outerL4Offset + 4);
      // The UDP checksum no longer holds; 0 says "none" (over IPv6 too: nothing here reads it).
      frame[t.outerL4Offset + 6] = 0;
      frame[t.outerL4Offset + 7] = 0;
    }
  }
}
