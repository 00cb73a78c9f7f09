// The flow table: one entry per bidirectional conversation, found by hashing the
// tuple to a number (no string is built per packet) and comparing in a short chain.
// Each chain node carries its own copy of the key as numbers (address words,
// ports, VLAN/protocol/family), so a lookup reads the packet and the nodes only,
// not the Flow or its address arrays.
//
// Idle expiry is amortised with one access-ordered list per timeout class: the
// head of each list is its least recently seen flow, so expire() only looks at
// heads and stops at the first one still alive. Eviction picks the oldest of
// those heads, which is the least recently used flow overall.

import { randomBytes } from 'node:crypto';
import { SecuxflowError } from '../errors.js';
import { IpProto, TcpFlag, addrLength, dstAddrOffset, srcAddrOffset, type DecodedPacket } from '../packet/types.js';
import { addrWord } from '../packet/addr.js';
import { sameWords } from '../packet/tunnel-headers.js';
import { flowTunnelOf } from '../packet/tunnel-summary.js';
import { Direction, type Flow, type FlowEnd, type FlowEndReason, type FlowTunnel, type TcpState } from './types.js';

/** Idle timeouts in seconds, by what the flow is doing. */
export interface FlowTimeouts {
  /** Handshake seen through (or picked up mid-stream with ACKs). */
  tcpEstablished: number;
  /** After FINs both ways or a RST: only late packets are expected. */
  tcpClosed: number;
  /** Handshake in progress, half-closed (one FIN), or no handshake evidence. */
  tcpSyn: number;
  udp: number;
  /** ICMP and ICMPv6. */
  icmp: number;
  other: number;
}

export interface FlowTableOptions {
  /** Flows kept at once; the least recently used one is evicted beyond it. */
  maxFlows: number;
  timeouts: FlowTimeouts;
  /**
   * How stale a flow's place in its idle list may get, in seconds. A flow
   * moves to the list's tail at most once per this period, not on every
   * packet: so a flow ends at most this long after its timeout, and eviction
   * takes a flow seen at most this long after the least recently seen one.
   * 0 moves it on every packet (exact order).
   */
  lruResolutionSec: number;
}

export const DEFAULT_FLOW_TIMEOUTS: Readonly<FlowTimeouts> = Object.freeze({
  tcpEstablished: 600, tcpClosed: 10, tcpSyn: 30, udp: 60, icmp: 30, other: 60,
});
export const DEFAULT_MAX_FLOWS = 65536;
export const DEFAULT_LRU_RESOLUTION_SEC = 1;

export interface FlowTableStats {
  /** Packets given to track(), including those without an IP layer. */
  packets: number;
  /** Packets ignored because they carry no IP layer. */
  noIp: number;
  created: number;
  timedOut: number;
  closed: number;
  evicted: number;
  /** Closed TCP flows replaced by a new SYN on the same tuple (port reuse). */
  reused: number;
  shutdown: number;
  /** Flows an operator released (`secuxflow flow delete`). */
  released: number;
  /** RSTs whose sequence number was not the sender's next one: the receiver ignores them (RFC 5961), so the flow stays. */
  rstIgnored: number;
  /** FINs out of sequence (ahead of a hole, or far from the sender's next number): they did not move the state. */
  finIgnored: number;
}

export interface TrackResult {
  flow: Flow;
  direction: Direction;
  isNew: boolean;
}

export type FlowTableInit = Partial<Omit<FlowTableOptions, 'timeouts'>> & {
  timeouts?: Partial<FlowTimeouts>;
  /** Bits of the tuple hash that pick a chain (default 30). Fewer only to make tests exercise long chains. */
  hashBits?: number;
};

// Timeout classes index the per-class lists.
const CLS_SYN = 0, CLS_EST = 1, CLS_CLOSED = 2, CLS_UDP = 3, CLS_ICMP = 4, CLS_OTHER = 5;
const CLASS_COUNT = 6;

const FIN_TO_SERVER = 1, FIN_TO_CLIENT = 2;
/** Out-of-order segments remembered per flow for its next sequence numbers. */
const MAX_AHEAD = 8;

/**
 * The list is full: the segment replaces the one farthest ahead, if it is
 * nearer. Decoys sent far ahead to fill the list cannot push out the real
 * out-of-order segments just past the hole.
 */
function rememberCloser(a: number[], direction: Direction, next: number, seq: number, end: number): void {
  let far = -1, farDist = (seq - next) | 0;
  for (let i = 0; i < a.length; i += 3) {
    const d = a[i] === direction ? (a[i + 1]! - next) | 0 : 0x7fffffff;
    if (d > farDist) { far = i; farDist = d; }
  }
  if (far < 0) return;
  a[far] = direction;
  a[far + 1] = seq;
  a[far + 2] = end;
}

/** `next` moved past the segments remembered ahead of it that it now reaches. */
function joinAhead(node: Node, direction: Direction, next: number): number {
  const a = node.ahead;
  if (a === null) return next;
  let moved = true;
  while (moved) {
    moved = false;
    for (let i = 0; i < a.length; i += 3) {
      if (a[i] !== direction || ((a[i + 1]! - next) | 0) > 0) continue;
      if (((a[i + 2]! - next) | 0) > 0) next = a[i + 2]!;
      a.splice(i, 3);
      moved = true;
      break;
    }
  }
  if (a.length === 0) node.ahead = null;
  return next;
}

// A node is also the Flow the table hands out (its `flow` is itself): the
// packet path reads the key, the counters and the engine's slot from one
// object. As two objects, node and flow, they were two cache misses a packet
// with tens of thousands of flows (bench/live/queue-worker-replay.ts, 60,000
// flows: ~40 ns a packet less in flow order, ~200 ns in random order). The
// flow's extra fields (links, key words) are the table's. The addresses live as words in the node and become bytes
// only when read (EVE output), instead of two typed arrays per flow created:
// those were most of a new flow's cost and memory.
interface Node extends Omit<Flow, 'clientAddr' | 'serverAddr' | 'clientPort' | 'serverPort' | 'tunnel'> {}
class Node implements Flow {
  prev: Node | null = null;
  next: Node | null = null;
  /** Next node in the same hash bucket. */
  chain: Node | null = null;
  /** Timeout class the flow belongs to now. */
  cls = 0;
  /** Class list the node is linked in, -1 when unlinked. */
  list = -1;
  /** Packet time when the node was last put at its list's tail: lists are in this order. */
  queuedAt = 0;
  finMask = 0;
  /** The server answered the client's SYN with a SYN-ACK: the direction is settled. */
  answered = false;
  /** Per direction (bit 1 << direction): whether seqNext holds the sender's next sequence number. */
  seqKnown = 0;
  /** The sequence number each side sends next, advanced by in-order segments only. */
  seqNextToServer = 0;
  seqNextToClient = 0;
  /**
   * Segments seen ahead of the next number, as [direction, start, end] triples,
   * null while there are none (nearly always): once the hole before one is
   * filled, the next number moves past it, as the receiver's does.
   */
  ahead: number[] | null = null;
  /**
   * The key: keyKind(), the inner VLAN id, ports, and the address words (IPv4:
   * word 0 only, the rest 0). Both VLAN ids, as the kernel's sf_flow_key: under
   * QinQ, the same addresses behind two inner VLANs are two networks' flows.
   */
  kind = 0;
  innerVlan = 0;
  clientPort = 0;
  serverPort = 0;
  c0 = 0; c1 = 0; c2 = 0; c3 = 0;
  s0 = 0; s1 = 0; s2 = 0; s3 = 0;
  /**
   * The tunnels of an inner flow (its kind has KIND_TUNNELLED), null outside
   * tunnels. One field, not three: nodes stay small.
   */
  // Set last in the constructor: appended after the fields every packet reads, it moves none of them to another cache line.
  tunnelKey: TunnelKey | null;
  readonly hash: number;
  constructor(hash: number, id: number, vlans: readonly number[], ipVersion: 4 | 6, proto: number, clientPort: number, serverPort: number, now: number) {
    this.hash = hash;
    this.id = id;
    this.vlan = vlans.length > 0 ? vlans[0]! : 0;
    this.vlans = vlans;
    this.ipVersion = ipVersion;
    this.proto = proto;
    this.clientPort = clientPort;
    this.serverPort = serverPort;
    this.pktsToServer = 0;
    this.pktsToClient = 0;
    this.bytesToServer = 0;
    this.bytesToClient = 0;
    this.start = now;
    this.last = now;
    this.tcpState = proto === IpProto.TCP ? 'new' : 'none';
    this.firstIcmpType = -1;
    this.firstIcmpCode = 0;
    this.engine = undefined;
    this.communityId = undefined;
    this.tunnelKey = null;
  }

  /** The flow this node is. */
  get flow(): Flow {
    return this;
  }

  get tunnel(): FlowTunnel | null {
    return this.tunnelKey === null ? null : this.tunnelKey.summary;
  }

  get clientAddr(): Uint8Array {
    return addrBytes(this.ipVersion, this.c0, this.c1, this.c2, this.c3);
  }

  get serverAddr(): Uint8Array {
    return addrBytes(this.ipVersion, this.s0, this.s1, this.s2, this.s3);
  }
}

/** An address from its big-endian words (IPv4: w0 only). */
function addrBytes(ver: 4 | 6, w0: number, w1: number, w2: number, w3: number): Uint8Array {
  // No array of the words and no closure: each flow's EVE record reads both
  // addresses twice, and a flood of new flows writes one record a packet.
  const b = new Uint8Array(ver === 4 ? 4 : 16);
  putWord(b, 0, w0);
  if (ver !== 4) {
    putWord(b, 4, w1);
    putWord(b, 8, w2);
    putWord(b, 12, w3);
  }
  return b;
}

function putWord(b: Uint8Array, at: number, w: number): void {
  b[at] = w >>> 24;
  b[at + 1] = w >>> 16;
  b[at + 2] = w >>> 8;
  b[at + 3] = w;
}

/** An inner flow's tunnels: DecodedPacket.tunnelHash and tunnelWords, and what EVE prints of them. */
interface TunnelKey {
  hash: number;
  words: readonly number[];
  summary: FlowTunnel;
}

function sameTunnel(k: TunnelKey | null, hash: number, words: readonly number[] | null): boolean {
  return k !== null && k.hash === hash && sameWords(k.words, words);
}

const KIND_TUNNELLED = 1 << 24;

/** VLAN id (12 bits), protocol and IP version in one number. */
function keyKind(vlan: number, proto: number, ver: number): number {
  return (vlan << 12) | (proto << 4) | ver;
}

export class FlowTable {
  readonly options: Readonly<FlowTableOptions>;
  readonly stats: FlowTableStats = {
    packets: 0, noIp: 0, created: 0, timedOut: 0, closed: 0, evicted: 0, reused: 0, shutdown: 0, released: 0, rstIgnored: 0, finIgnored: 0,
  };

  private readonly buckets = new Map<number, Node>();
  private readonly heads: (Node | null)[] = new Array(CLASS_COUNT).fill(null);
  private readonly tails: (Node | null)[] = new Array(CLASS_COUNT).fill(null);
  private readonly classTimeout: number[];
  private pending: FlowEnd[] = [];
  private readonly hashMask: number;
  /**
   * Per-table random hash seed: senders choose addresses and ports, so with a
   * fixed hash they could make every flow land in one chain (Suricata seeds
   * its flow hash the same way).
   */
  private readonly seed = randomBytes(4).readInt32LE(0);
  private count = 0;
  private nextId = 1;
  /** Direction of the packet trackFlow() saw last. */
  lastDirection: Direction = Direction.TO_SERVER;
  /** Whether trackFlow()'s last packet created its flow. */
  lastIsNew = false;

  constructor(opts: FlowTableInit = {}) {
    const timeouts: FlowTimeouts = { ...DEFAULT_FLOW_TIMEOUTS, ...opts.timeouts };
    const maxFlows = opts.maxFlows ?? DEFAULT_MAX_FLOWS;
    if (!Number.isInteger(maxFlows) || maxFlows < 1) {
      throw new SecuxflowError('E_USAGE', `flow table maxFlows must be a positive integer, got ${String(maxFlows)}`, 'use for example 65536');
    }
    for (const [name, v] of Object.entries(timeouts)) {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
        throw new SecuxflowError('E_USAGE', `flow timeout ${name} must be a non-negative number of seconds, got ${String(v)}`);
      }
    }
    const lruResolutionSec = opts.lruResolutionSec ?? DEFAULT_LRU_RESOLUTION_SEC;
    if (typeof lruResolutionSec !== 'number' || !Number.isFinite(lruResolutionSec) || lruResolutionSec < 0) {
      throw new SecuxflowError('E_USAGE', `flow table lruResolutionSec must be a non-negative number of seconds, got ${String(lruResolutionSec)}`);
    }
    this.options = Object.freeze({ maxFlows, timeouts: Object.freeze(timeouts), lruResolutionSec });
    const hashBits = opts.hashBits ?? 30;
    if (!Number.isInteger(hashBits) || hashBits < 0 || hashBits > 30) {
      throw new SecuxflowError('E_USAGE', `flow table hashBits must be an integer 0..30, got ${String(hashBits)}`);
    }
    this.hashMask = hashBits === 0 ? 0 : 0x3fffffff >>> (30 - hashBits);
    this.classTimeout = [timeouts.tcpSyn, timeouts.tcpEstablished, timeouts.tcpClosed, timeouts.udp, timeouts.icmp, timeouts.other];
  }

  get size(): number { return this.count; }

  /** Hash chains in use: close to size unless flows collide (tests check the hash spreads crafted flows). */
  get chains(): number { return this.buckets.size; }

  /**
   * Finds or creates the packet's flow and updates it. The packet's timestamp is
   * "now". Returns null for packets without an IP layer. ICMP flows use ports 0:
   * all ICMP between two hosts (per VLAN) is one flow. Feed reassembled packets:
   * a non-first fragment has no ports and would land in another flow.
   */
  track(pkt: DecodedPacket): TrackResult | null {
    const flow = this.trackFlow(pkt);
    return flow === null ? null : { flow, direction: this.lastDirection, isNew: this.lastIsNew };
  }

  /**
   * track() without a result object per packet, for the engine's hot path:
   * the flow, with the direction and newness in lastDirection / lastIsNew.
   * `stateless`: a TCP segment the receiver drops (a bad checksum) is counted
   * in its flow but leaves the TCP state alone.
   */
  trackFlow(pkt: DecodedPacket, stateless = false): Flow | null {
    this.stats.packets++;
    const ver = pkt.ipVersion;
    if (ver === 0 || pkt.l3Offset < 0) { this.stats.noIp++; return null; }
    const proto = pkt.proto;
    const icmp = proto === IpProto.ICMP || proto === IpProto.ICMPV6;
    const sport = icmp ? 0 : pkt.srcPort;
    const dport = icmp ? 0 : pkt.dstPort;
    const vlans = pkt.vlans;
    const vlan = vlans.length > 0 ? vlans[0]! : 0;
    const inner = vlans.length > 1 ? vlans[1]! : 0;
    // Addresses are read in place as 32-bit words: no view is made per packet.
    const data = pkt.data;
    const src = srcAddrOffset(pkt), dst = dstAddrOffset(pkt), alen = addrLength(pkt);
    const s0 = addrWord(data, src), d0 = addrWord(data, dst);
    let s1 = 0, s2 = 0, s3 = 0, d1 = 0, d2 = 0, d3 = 0;
    if (alen === 16) {
      s1 = addrWord(data, src + 4); s2 = addrWord(data, src + 8); s3 = addrWord(data, src + 12);
      d1 = addrWord(data, dst + 4); d2 = addrWord(data, dst + 8); d3 = addrWord(data, dst + 12);
    }
    const now = pkt.tsSec + pkt.tsNsec * 1e-9;
    const th = pkt.tunnelHash;
    // Tunnelled or not is in the kind, so an untunnelled lookup never reads
    // tunnelKey: one more field read per node was one more cache miss.
    const kind = keyKind(vlan, proto, ver) | (th === 0 ? 0 : KIND_TUNNELLED);

    const seed = this.seed;
    const ea = alen === 4 ? endpointHash4(seed, s0, sport) : endpointHash6(seed, s0, s1, s2, s3, sport);
    const eb = alen === 4 ? endpointHash4(seed, d0, dport) : endpointHash6(seed, d0, d1, d2, d3, dport);
    const hash = tupleHash(ea < eb ? ea : eb, ea < eb ? eb : ea, (inner << 18) ^ (vlan << 12) ^ (proto << 4) ^ ver ^ th) & this.hashMask;

    let node = this.buckets.get(hash) ?? null;
    let direction: Direction = Direction.TO_SERVER;
    while (node !== null) {
      if (node.kind === kind && node.innerVlan === inner && (th === 0 || sameTunnel(node.tunnelKey, th, pkt.tunnelWords))) {
        if (node.clientPort === sport && node.serverPort === dport && node.c0 === s0 && node.s0 === d0
          && node.c1 === s1 && node.c2 === s2 && node.c3 === s3 && node.s1 === d1 && node.s2 === d2 && node.s3 === d3) {
          direction = Direction.TO_SERVER;
          break;
        }
        if (node.clientPort === dport && node.serverPort === sport && node.c0 === d0 && node.s0 === s0
          && node.c1 === d1 && node.c2 === d2 && node.c3 === d3 && node.s1 === s1 && node.s2 === s2 && node.s3 === s3) {
          direction = Direction.TO_CLIENT;
          break;
        }
      }
      node = node.chain;
    }

    // A segment the receiver drops (a bad checksum) must not end or restart the connection.
    const flags = proto === IpProto.TCP && !stateless ? pkt.tcpFlags : 0;
    const opening = flags & (TcpFlag.SYN | TcpFlag.ACK | TcpFlag.RST);
    if (node !== null && (opening === TcpFlag.SYN || opening === (TcpFlag.SYN | TcpFlag.ACK))) {
      const st = node.flow.tcpState;
      // A fresh SYN on a finished connection starts a new conversation.
      const reused = opening === TcpFlag.SYN && (st === 'closed' || st === 'reset');
      // The handshake was never answered and it now shows the flow the wrong
      // way round: a stray packet from the server's side came first (an
      // evader's, so that modules read the request as the response). A SYN
      // from the "server" of a flow no SYN opened, or a SYN-ACK from its
      // "client", starts the flow again, the right way round.
      const turned = !node.answered && (opening === TcpFlag.SYN
        ? direction === Direction.TO_CLIENT && st !== 'syn_sent'
        : direction === Direction.TO_SERVER && st === 'syn_sent');
      if (reused || turned) {
        this.remove(node);
        this.stats.reused++;
        this.stats.closed++;
        this.pending.push({ flow: node.flow, reason: 'closed' });
        node = null;
      }
    }

    let isNew = false;
    if (node === null) {
      if (this.count >= this.options.maxFlows) this.evictOne();
      const serverSent = (flags & (TcpFlag.SYN | TcpFlag.ACK)) === (TcpFlag.SYN | TcpFlag.ACK);
      node = this.create(pkt, hash, vlan, serverSent ? dport : sport, serverSent ? sport : dport, now);
      node.kind = kind;
      node.innerVlan = inner;
      if (th !== 0) node.tunnelKey = { hash: th, words: pkt.tunnelWords!, summary: flowTunnelOf(pkt)! };
      if (serverSent) {
        node.c0 = d0; node.c1 = d1; node.c2 = d2; node.c3 = d3;
        node.s0 = s0; node.s1 = s1; node.s2 = s2; node.s3 = s3;
      } else {
        node.c0 = s0; node.c1 = s1; node.c2 = s2; node.c3 = s3;
        node.s0 = d0; node.s1 = d1; node.s2 = d2; node.s3 = d3;
      }
      direction = serverSent ? Direction.TO_CLIENT : Direction.TO_SERVER;
      isNew = true;
    }

    const f = node.flow;
    if (direction === Direction.TO_SERVER) {
      f.pktsToServer++;
      f.bytesToServer += pkt.wireLen;
    } else {
      f.pktsToClient++;
      f.bytesToClient += pkt.wireLen;
    }
    if (now > f.last) f.last = now;
    if (proto === IpProto.TCP && !stateless) this.advanceTcp(node, flags, direction, isNew, pkt.tcpSeq, pkt.payloadLength);
    // Moving a node writes to both of its neighbours: two cache misses a
    // packet once the table outgrows the cache. So a node in its class list
    // moves at most once per lruResolutionSec.
    if (node.list !== node.cls || now - node.queuedAt >= this.options.lruResolutionSec) this.touch(node, now);
    this.lastDirection = direction;
    this.lastIsNew = isNew;
    return f;
  }

  /** Removes flows idle past their state's timeout. Cheap when nothing is due. */
  expire(nowSec: number): FlowEnd[] {
    const out: FlowEnd[] = [];
    for (let c = 0; c < CLASS_COUNT; c++) {
      const timeout = this.classTimeout[c]!;
      let n: Node | null = this.heads[c] ?? null;
      // Lists are in queuedAt order, and a flow's last packet is less than
      // lruResolutionSec after its queuedAt. A head seen since it was queued
      // ends the walk: it and the flows behind it are due within that time.
      while (n !== null && n.flow.last + timeout <= nowSec) {
        const next = n.next;
        this.remove(n);
        const reason: FlowEndReason = c === CLS_CLOSED ? 'closed' : 'timeout';
        if (reason === 'closed') this.stats.closed++; else this.stats.timedOut++;
        out.push({ flow: n.flow, reason });
        n = next;
      }
    }
    return out;
  }

  /** Whether drainEnded() has flows to give: the packet path asks first, so it makes no array per packet. */
  get hasEnded(): boolean {
    return this.pending.length > 0;
  }

  /** Flows ended by track() itself (LRU eviction, port reuse) since the last call. */
  drainEnded(): FlowEnd[] {
    if (this.pending.length === 0) return [];
    const out = this.pending;
    this.pending = [];
    return out;
  }

  /** Ends every flow (shutdown or end of capture); not-yet-drained ends come first. */
  endAll(): FlowEnd[] {
    const out = this.drainEnded();
    for (let c = 0; c < CLASS_COUNT; c++) {
      let n: Node | null = this.heads[c] ?? null;
      while (n !== null) {
        out.push({ flow: n.flow, reason: 'shutdown' });
        this.stats.shutdown++;
        n = n.next;
      }
      this.heads[c] = null;
      this.tails[c] = null;
    }
    this.buckets.clear();
    this.count = 0;
    return out;
  }

  /** Ends the live flows `pick` chooses, as released; their next packets start new flows. */
  release(pick: (flow: Flow) => boolean): FlowEnd[] {
    const out: FlowEnd[] = [];
    for (let c = 0; c < CLASS_COUNT; c++) {
      let n: Node | null = this.heads[c] ?? null;
      while (n !== null) {
        const next = n.next;
        if (pick(n.flow)) {
          this.remove(n);
          this.stats.released++;
          out.push({ flow: n.flow, reason: 'released' });
        }
        n = next;
      }
    }
    return out;
  }

  /** Live flows, least recently seen first within each timeout class. */
  *flows(): IterableIterator<Flow> {
    for (let c = 0; c < CLASS_COUNT; c++) {
      for (let n: Node | null = this.heads[c] ?? null; n !== null; n = n.next) yield n.flow;
    }
  }

  /** The caller then fills in the node's key (its address words are the flow's addresses). */
  private create(pkt: DecodedPacket, hash: number, vlan: number, clientPort: number, serverPort: number, now: number): Node {
    const proto = pkt.proto;
    const node = new Node(hash, this.nextId++, pkt.vlans, pkt.ipVersion as 4 | 6, proto, clientPort, serverPort, now);
    node.firstIcmpType = pkt.icmpType;
    node.firstIcmpCode = pkt.icmpCode;
    node.cls = proto === IpProto.TCP ? CLS_SYN
      : proto === IpProto.UDP ? CLS_UDP
        : proto === IpProto.ICMP || proto === IpProto.ICMPV6 ? CLS_ICMP : CLS_OTHER;
    node.chain = this.buckets.get(hash) ?? null;
    this.buckets.set(hash, node);
    this.count++;
    this.stats.created++;
    return node;
  }

  private advanceTcp(node: Node, flags: number, direction: Direction, isNew: boolean, seq: number, len: number): void {
    const f = node.flow;
    let st: TcpState = f.tcpState;
    if (flags & TcpFlag.RST) {
      // A RST the receiver ignores must not end the flow for us only, with the
      // rest of the connection then seen as a new, mid-stream flow.
      if (!this.rstAccepted(node, direction, seq)) {
        this.stats.rstIgnored++;
        return;
      }
      st = 'reset';
    } else {
      // A FIN out of sequence does not close the receiver's side yet (or ever, when it lies beyond the window).
      if ((flags & TcpFlag.FIN) && !this.inSequence(node, direction, seq, len + 1)) {
        this.stats.finIgnored++;
        flags &= ~TcpFlag.FIN;
      }
      this.advanceSeq(node, direction, seq, len + (flags & TcpFlag.SYN ? 1 : 0) + (flags & TcpFlag.FIN ? 1 : 0));
      if (isNew) {
        if (flags & TcpFlag.SYN) st = flags & TcpFlag.ACK ? 'syn_recv' : 'syn_sent';
        else if (flags & TcpFlag.FIN) { st = 'fin_wait'; node.finMask = finBit(direction); }
        else if (flags & TcpFlag.ACK) st = 'established'; // picked up mid-stream
        else st = 'new';
      } else if (flags & TcpFlag.FIN) {
        if (st !== 'closed' && st !== 'reset') {
          node.finMask |= finBit(direction);
          st = node.finMask === (FIN_TO_SERVER | FIN_TO_CLIENT) ? 'closed' : 'fin_wait';
        }
      } else {
        switch (st) {
          case 'new':
            if (flags & TcpFlag.SYN) st = flags & TcpFlag.ACK ? 'syn_recv' : 'syn_sent';
            else if (flags & TcpFlag.ACK) st = 'established';
            break;
          case 'syn_sent':
            if ((flags & (TcpFlag.SYN | TcpFlag.ACK)) === (TcpFlag.SYN | TcpFlag.ACK) && direction === Direction.TO_CLIENT) {
            st = 'syn_recv';
            node.answered = true;
          }
            // The client ACKing without a SYN-ACK seen: asymmetric capture, the handshake happened.
            else if (!(flags & TcpFlag.SYN) && (flags & TcpFlag.ACK) && direction === Direction.TO_SERVER) st = 'established';
            break;
          case 'syn_recv':
            if (!(flags & TcpFlag.SYN) && (flags & TcpFlag.ACK) && direction === Direction.TO_SERVER) st = 'established';
            break;
          default:
            break;
        }
      }
    }
    if (st === f.tcpState) return;
    f.tcpState = st;
    node.cls = st === 'established' ? CLS_EST : st === 'closed' || st === 'reset' ? CLS_CLOSED : CLS_SYN;
  }

  /**
   * The receiver did not get the sender's bytes from `seq` on (a module
   * dropped them): its next number is back there, as the RST and FIN checks
   * must see it. Otherwise a RST at the end of the dropped bytes, which the
   * receiver ignores, ended the flow here and with it what the engine knew
   * of the dropped bytes.
   */
  rewindSeq(flow: Flow, direction: Direction, seq: number): void {
    const node = flow as Node;
    if ((node.seqKnown & (1 << direction)) === 0) return;
    const next = direction === Direction.TO_SERVER ? node.seqNextToServer : node.seqNextToClient;
    if (((seq - next) | 0) >= 0) return;
    if (direction === Direction.TO_SERVER) node.seqNextToServer = seq >>> 0;
    else node.seqNextToClient = seq >>> 0;
  }

  /**
   * The segment [seq, end) never reaches the receiver (the engine dropped
   * it): it must not count once the hole before it is filled.
   */
  forgetAhead(flow: Flow, direction: Direction, seq: number, end: number): void {
    const node = flow as Node;
    const a = node.ahead;
    if (a === null) return;
    for (let i = 0; i < a.length; i += 3) {
      if (a[i] !== direction || a[i + 1] !== seq || a[i + 2] !== end) continue;
      a.splice(i, 3);
      break;
    }
    if (a.length === 0) node.ahead = null;
  }

  /**
   * RFC 5961, which Linux, Windows and the BSDs follow: a RST resets the
   * connection only when its sequence number is exactly the next one the
   * receiver expects; any other, even in the window, draws a challenge ACK.
   * Before the sender's sequence is known (a RST answering a SYN), it is taken.
   */
  private rstAccepted(node: Node, direction: Direction, seq: number): boolean {
    if ((node.seqKnown & (1 << direction)) === 0) return true;
    return seq === (direction === Direction.TO_SERVER ? node.seqNextToServer : node.seqNextToClient);
  }

  /** The segment [seq, seq+len) starts at or before the sender's next number and reaches it; true while that is unknown. */
  private inSequence(node: Node, direction: Direction, seq: number, len: number): boolean {
    if ((node.seqKnown & (1 << direction)) === 0) return true;
    const next = direction === Direction.TO_SERVER ? node.seqNextToServer : node.seqNextToClient;
    return ((seq - next) | 0) <= 0 && ((seq + len - next) | 0) >= 0;
  }

  /**
   * Advances the sender's next sequence number with a segment that starts at
   * or before it. A segment ahead of it is remembered (up to MAX_AHEAD) and
   * counts once the hole before it is filled, so a RST after out-of-order
   * delivery is still taken. A segment far ahead, beyond the receiver's
   * window, never joins on its own, so it cannot make a RST look valid.
   */
  private advanceSeq(node: Node, direction: Direction, seq: number, len: number): void {
    const bit = 1 << direction;
    let end = (seq + len) >>> 0;
    if ((node.seqKnown & bit) === 0) {
      node.seqKnown |= bit;
    } else {
      const next = direction === Direction.TO_SERVER ? node.seqNextToServer : node.seqNextToClient;
      if (((end - next) | 0) <= 0) return;
      if (((seq - next) | 0) > 0) {
        const a = node.ahead ?? (node.ahead = []);
        if (a.length < MAX_AHEAD * 3) a.push(direction, seq, end);
        else rememberCloser(a, direction, next, seq, end);
        return;
      }
      end = joinAhead(node, direction, end);
    }
    if (direction === Direction.TO_SERVER) node.seqNextToServer = end;
    else node.seqNextToClient = end;
  }

  /** Moves the node to the tail (most recent) of its class list; it may switch lists. */
  private touch(node: Node, now: number): void {
    const c = node.cls;
    node.queuedAt = now;
    if (this.tails[c] === node) return;
    this.unlink(node);
    const tail = this.tails[c] ?? null;
    node.prev = tail;
    if (tail !== null) tail.next = node; else this.heads[c] = node;
    this.tails[c] = node;
    node.list = c;
  }

  private unlink(node: Node): void {
    const c = node.list;
    if (c < 0) return;
    if (node.prev !== null) node.prev.next = node.next; else this.heads[c] = node.next;
    if (node.next !== null) node.next.prev = node.prev; else this.tails[c] = node.prev;
    node.prev = null;
    node.next = null;
    node.list = -1;
  }

  private remove(node: Node): void {
    this.unlink(node);
    let n = this.buckets.get(node.hash) ?? null;
    if (n === node) {
      if (node.chain === null) this.buckets.delete(node.hash); else this.buckets.set(node.hash, node.chain);
    } else {
      while (n !== null && n.chain !== node) n = n.chain;
      if (n !== null) n.chain = node.chain;
    }
    node.chain = null;
    this.count--;
  }

  private evictOne(): void {
    let victim: Node | null = null;
    for (let c = 0; c < CLASS_COUNT; c++) {
      const h = this.heads[c] ?? null;
      if (h !== null && (victim === null || h.flow.last < victim.flow.last)) victim = h;
    }
    if (victim === null) return;
    this.remove(victim);
    this.stats.evicted++;
    this.pending.push({ flow: victim.flow, reason: 'evicted' });
  }
}

function finBit(direction: Direction): number {
  return direction === Direction.TO_SERVER ? FIN_TO_SERVER : FIN_TO_CLIENT;
}

/** One word into a running hash (MurmurHash3's block step): words never cancel each other, as a plain XOR of address and port did. */
function mixWord(h: number, w: number): number {
  let k = Math.imul(w, 0xcc9e2d51);
  k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function finish(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Seeded hash of an IPv4 address (one word) and a port. */
function endpointHash4(seed: number, w0: number, port: number): number {
  return finish(mixWord(mixWord(seed, w0), port));
}

/** Seeded hash of an IPv6 address (four words) and a port. */
function endpointHash6(seed: number, w0: number, w1: number, w2: number, w3: number, port: number): number {
  return finish(mixWord(mixWord(mixWord(mixWord(mixWord(seed, w0), w1), w2), w3), port));
}

function tupleHash(lo: number, hi: number, extra: number): number {
  let h = Math.imul(lo ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 16) ^ hi, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 13) ^ extra, 0x27d4eb2d);
  // Kept within small-integer range so Map lookups stay on V8's fast path.
  return (h ^ (h >>> 15)) & 0x3fffffff;
}

