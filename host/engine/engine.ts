// The inspection pipeline shared by every packet source (pcap, dry-run, AF_XDP):
// decode -> penalty box -> IP reassembly -> flow table -> flow verdicts -> rules
// -> TCP stream reassembly -> batched module calls -> combined verdict.
// The stages run in the XDP program's order so offline and live runs agree.
import type { RawFrame } from '../capture/types.js';
import { decodePacket } from '../packet/decode.js';
import type { DecodedPacket } from '../packet/types.js';
import { IpProto, TcpFlag, hasPortlessFlowKey } from '../packet/types.js';
import { FlowTable, type FlowTableOptions } from '../flow/table.js';
import { Defragmenter, type DroppedDatagram } from '../flow/defrag.js';
import { DEFAULT_STREAM_MEMCAP, StreamBufferPool, TcpStreamPair } from '../flow/stream.js';
import type { Flow, FlowEnd } from '../flow/types.js';
import { RuleMatcher } from '../rules/match.js';
import type { RuleMatch, RuleSet } from '../rules/types.js';
import type { InspectItem, BatchOutput, FlowEndOutput, ModuleAlert, ModuleEvent } from '../wasm/instance.js';
import type { OutputDrops } from '../wasm/types.js';
import { MetaFlag } from '../wasm/abi.js';
import { SecuxflowError } from '../errors.js';
import { Verdict, VERDICT_NAMES, VERDICT_RANK, dropsPacket } from '../verdict.js';
import { datagramIdOf, inDatagram } from '../flow/datagram-id.js';
import { selectsFlow, type FlowSelector } from '../flow/selector.js';
import { PenaltyBox } from './penalty-box.js';
import { NeverBlock } from './never-block.js';
import { UndeliveredBytes } from './undelivered.js';
import { NET6_PREFIX, penaltyKeyFor } from '../kernel/penalty-entry.js';
import { ChecksumGuard, type ChecksumMode } from './checksums.js';
import type { DecisionStage, EngineBounds, EngineCounters, FlowOutput, FlowRecord, ModuleRun, PacketDecision, ReassemblyCounters } from './types.js';
import { clear } from '../arrays.js';
import { outerAddrs, wordsKey } from '../packet/tunnel-headers.js';

export type FailurePolicy = 'fail-open' | 'fail-closed';

/**
 * What the engine needs of a module: the in-thread InspectorInstance, or a
 * sandboxed runner that keeps the module in a worker, both fit.
 */
export interface ModuleRunner {
  /** Writes one verdict per item into out (and alerts/events); throws a SecuxflowError when the module fails. */
  inspect(items: readonly InspectItem[], count: number, out: BatchOutput): void;
  /**
   * The flow is over. Alerts and events the module emits from on_flow_end go
   * to `output` (now, or later for a runner that answers flow ends with its
   * next batch); without one they are dropped and counted.
   */
  flowEnded(flowId: number, output?: FlowEndOutput): void;
  /**
   * For a runner that answers flow ends later: answers the ones told so far
   * now, so their output reaches `output` before this returns. The engine
   * then writes those flows' records after their output, as in-thread.
   */
  flushFlowEnds?(): void;
  /** What the module dropped since the runner was created (every runner of host/sandbox, and InspectorInstance). */
  outputDrops?(): OutputDrops;
  /** Verdict bytes outside 0..5 the module returned since the runner was created (each treated as CONTINUE). */
  verdictErrors?(): number;
}

export interface EngineModule {
  name: string;
  instance: ModuleRunner;
  /** What a module failure (trap) does to the packets it was given. Default fail-closed, as proxy-wasm hosts. */
  policy?: FailurePolicy;
}

export interface EngineOptions {
  rules: RuleSet;
  modules: EngineModule[];
  /** Packets per module call. */
  batchSize?: number;
  /** In-order TCP bytes kept per direction for L7 modules. */
  streamDepth?: number;
  /** Bytes all stream buffers may hold together (default DEFAULT_STREAM_MEMCAP); a segment needing more is dropped. */
  streamMemcap?: number;
  /** Packets of one flow handed to modules while undecided; then `flowCapPolicy` decides (Suricata's stream depth idea). */
  maxInspectPackets?: number;
  flowCapPolicy?: 'allow' | 'block';
  /**
   * Whether segments with a bad TCP or IPv4 header checksum are kept out of
   * stream reassembly, the TCP state and IP defragmentation, as the receiving
   * host drops them (docs/reassembly.md). Default 'ignore': the live daemon's
   * frames may carry checksums the sender's NIC was to fill in.
   */
  checksums?: ChecksumMode;
  /** BLOCK_SRC ttl when a module gives 0. */
  defaultBlockTtl?: number;
  /** What a BLOCK_SRC of an IPv6 source blocks: its /64 (the default) or the address alone. */
  blockIpv6Prefix?: 64 | 128;
  /** CIDRs no BLOCK_SRC may put in the penalty box (never-block.ts): such a verdict blocks the flow instead. */
  neverBlock?: readonly string[];
  flowTable?: Partial<FlowTableOptions>;
  onDecision?: (d: PacketDecision) => void;
  onFlowEnd?: (r: FlowRecord) => void;
  /** A module's alerts and events from on_flow_end, with the flow's record. */
  onFlowOutput?: (o: FlowOutput) => void;
}

/**
 * Distinct (module, signature id) pairs counted one by one in alertsBySignature.
 * A module may invent a new sid for every alert: past this many, new pairs are
 * only counted (alertsUntracked), so a long live run's memory stays bounded.
 */
export const MAX_TRACKED_SIGNATURES = 1000;

/**
 * The engine's own alerts: the evasion signals Suricata raises as stream and
 * defrag events. They ride on the packet's decision as a run of this name,
 * which takes no part in the verdict.
 */
export const ENGINE_MODULE = 'secuxflow';
export const SID_STREAM_OVERLAP = 2100001;
export const SID_FRAGMENT_OVERLAP = 2100002;
export const SID_URGENT_DATA = 2100003;
export const SID_PAWS = 2100004;

const FLOW_VERDICT_NAMES: readonly string[] = VERDICT_NAMES.map((n) => n.toLowerCase());

/** Heap a held fragment copy costs besides its bytes (the decoded packet and its entry), measured ~560 bytes. */
const HELD_FRAGMENT_OVERHEAD = 512;

const FLOW_UNDECIDED = 0;
const FLOW_ALLOWED = 1;
const FLOW_BLOCKED = 2;

interface FlowState {
  decided: number;
  decidedBy: string;
  /**
   * The rule match of each direction, once made. Two fields, not a pair in
   * an array: every packet reads one, and with tens of thousands of flows a
   * second object per flow is a second cache miss per packet.
   */
  matchToServer: RuleMatch | undefined;
  matchToClient: RuleMatch | undefined;
  /** Per loaded module: 0 not involved yet, 1 inspecting, 2 done (said ALLOW_FLOW). */
  moduleState: number[];
  streams: TcpStreamPair | null;
  inspected: number;
  lastVerdict: Verdict;
  alerted: boolean;
  /** The flow already raised SID_STREAM_OVERLAP: one per flow is the signal, more would be noise. */
  overlapAlerted: boolean;
  /** The same for SID_URGENT_DATA and SID_PAWS. */
  urgentAlerted: boolean;
  pawsAlerted: boolean;
  /** TCP bytes a module's DROP kept from the receiver (undelivered.ts), null while there are none. */
  undelivered: UndeliveredBytes | null;
  /** The engine's batchGen when a packet of the flow last joined the pending batch. */
  pendingIn: number;
}

/**
 * How often resent bytes of a flow are shown to the modules again. Past that
 * the engine drops further copies itself: each showing may cost a module a
 * scan up to the stream's end, and a sender that resends what the modules
 * keep dropping is not going to be let through by a fifth look.
 */
const MAX_SHOWINGS = 3;

// Shared by every decision until the first module run / alert / event is
// added (most packets never get one): frozen, so a stray push throws.
const NO_RUNS = Object.freeze([]) as unknown as ModuleRun[];
const NO_ALERTS = Object.freeze([]) as unknown as ModuleAlert[];
const NO_EVENTS = Object.freeze([]) as unknown as ModuleEvent[];

/** `list` with `x` appended: a list of its own in place of the shared empty one. */
function withItem<T>(list: T[], sharedEmpty: T[], x: T): T[] {
  if (list === sharedEmpty) return [x];
  list.push(x);
  return list;
}

export class Engine {
  readonly counters: EngineCounters;
  private readonly matcher: RuleMatcher;
  private readonly flows: FlowTable;
  private readonly defrag = new Defragmenter({ onDrop: (d) => this.releaseFragments(d) });
  private readonly penalty = new PenaltyBox();
  private readonly neverBlock: NeverBlock | null;
  private readonly checksums: ChecksumGuard;
  private readonly modules: EngineModule[];
  /** Each runner's drop totals when this engine took it: a runner may serve engines before this one (the daemon's). */
  private readonly dropsBefore: (OutputDrops | undefined)[];
  private readonly verdictErrorsBefore: (number | undefined)[];
  private readonly moduleIndex = new Map<string, number>();
  private readonly batchSize: number;
  private readonly streamDepth: number;
  private readonly maxInspect: number;
  private readonly capPolicy: 'allow' | 'block';
  private readonly defaultTtl: number;
  private readonly blockIpv6Prefix: 64 | 128;
  private readonly onDecision: ((d: PacketDecision) => void) | undefined;
  private readonly onFlowEnd: ((r: FlowRecord) => void) | undefined;
  private readonly onFlowOutput: ((o: FlowOutput) => void) | undefined;
  /** Records of ended flows held until runners that answer flow ends later have answered (flushFlowEnds). */
  private heldRecords: FlowRecord[] = [];

  private frameIndex = 0;
  private nowSec = 0;
  private lastExpire = 0;
  /** The batch: decisions waiting for the modules, and their flows' state. */
  private pending: PacketDecision[] = [];
  private pendingStates: FlowState[] = [];
  /** Per pending packet: its direction's in-order stream length before it was fed (what a dropped copy could not take from the receiver). */
  private pendingEdges: number[] = [];
  /** Per pending packet: fedTsBefore, put back when the packet is dropped (the receiver never saw its TSval). */
  private pendingTs: number[] = [];
  /** Counts the batches run, so a flow can tell it has a packet in the pending one. */
  private batchGen = 0;
  /**
   * Per module: the items of the current batch (objects reused from batch to
   * batch, only the first itemCount are current) and the run each one fills.
   */
  private readonly moduleItems: InspectItem[][];
  private readonly moduleRuns: ModuleRun[][];
  private readonly itemCount: number[];
  /** feedStream's results, kept here rather than in an object per packet. */
  private fedStream: Uint8Array | null = null;
  private fedNew = 0;
  private fedGap = false;
  /** The fed packet's direction's in-order stream length before it was fed. */
  private fedEdgeBefore = 0;
  /** Its direction's PAWS state before it was fed (TcpStreamPair.timestampState). */
  private fedTsBefore = -1;
  /** It carries bytes a module's DROP kept from the receiver. */
  private fedUndelivered = false;
  /** feedStream's segment re-sent held bytes with different data. */
  private fedConflict = false;
  /** feedStream's segment differed from bytes held past a hole, and the stream refused it (TcpStream.push). */
  private fedHeldConflict = false;
  /** feedStream's segment was refused for an old timestamp. */
  private fedPaws = false;
  /** feedStream's segment did not fit in the stream memory cap. */
  private fedRefused = false;
  /** An engine alert for the next decision made (a reassembled datagram's). */
  private engineAlert = 0;
  private readonly outputs: BatchOutput[];
  private readonly streamPool: StreamBufferPool;
  /** Streams of ended flows: their buffers go back to the pool once no batch item can still point into them. */
  private endedStreams: TcpStreamPair[] = [];
  /** Fragments held until their datagram completes, keyed by the fragment packet. */
  private heldFragments: { pkt: DecodedPacket; index: number }[] = [];

  constructor(opts: EngineOptions) {
    this.matcher = new RuleMatcher(opts.rules);
    this.flows = new FlowTable(opts.flowTable);
    this.modules = opts.modules;
    this.dropsBefore = this.modules.map((m) => m.instance.outputDrops?.());
    this.verdictErrorsBefore = this.modules.map((m) => m.instance.verdictErrors?.());
    this.modules.forEach((m, i) => this.moduleIndex.set(m.name, i));
    for (const rule of this.matcher.rules) {
      for (const name of rule.modules) {
        if (!this.moduleIndex.has(name)) {
          throw new SecuxflowError('E_MODULE_NOT_FOUND', `rule ${rule.id} inspects with module "${name}", which is not loaded`,
            `load it (--module ${name}) or remove it from the rule`);
        }
      }
    }
    this.batchSize = opts.batchSize ?? 256;
    this.streamDepth = opts.streamDepth ?? 64 * 1024;
    this.streamPool = new StreamBufferPool(undefined, undefined, opts.streamMemcap ?? DEFAULT_STREAM_MEMCAP);
    this.maxInspect = opts.maxInspectPackets ?? 512;
    this.capPolicy = opts.flowCapPolicy ?? 'allow';
    this.defaultTtl = opts.defaultBlockTtl ?? 60;
    this.blockIpv6Prefix = opts.blockIpv6Prefix ?? NET6_PREFIX;
    this.neverBlock = opts.neverBlock && opts.neverBlock.length > 0 ? new NeverBlock(opts.neverBlock) : null;
    this.checksums = new ChecksumGuard(opts.checksums ?? 'ignore');
    this.onDecision = opts.onDecision;
    this.onFlowEnd = opts.onFlowEnd;
    this.onFlowOutput = opts.onFlowOutput;
    this.moduleItems = this.modules.map(() => []);
    this.moduleRuns = this.modules.map(() => []);
    this.itemCount = this.modules.map(() => 0);
    this.outputs = this.modules.map(() => ({
      verdicts: new Uint8Array(this.batchSize),
      verdictArgs: new Uint16Array(this.batchSize),
      alerts: [],
      events: [],
    }));
    this.counters = {
      packetsRead: 0, packetsDecoded: 0, malformed: 0, malformedByEvent: new Map(), nonIp: 0, fragments: 0, datagramsReassembled: 0,
      fragmentsIncomplete: 0, pass: 0, drop: 0, inspected: 0,
      byStage: { 'non-ip': 0, invalid: 0, penalty: 0, flow: 0, rule: 0, default: 0, module: 0, fragment: 0, memcap: 0, resent: 0, overlap: 0 },
      byVerdict: Object.fromEntries(VERDICT_NAMES.map((n) => [n, 0])),
      alerts: 0, alertsBySignature: new Map(), alertsUntracked: 0, events: 0, eventsByKind: { dns: 0, tls: 0, http: 0, ssh: 0, other: 0 }, flows: 0, moduleFailures: 0, moduleFailurePackets: 0, verdictErrors: 0, alertsDropped: 0, eventsDropped: 0, logsDropped: 0, penaltyFull: 0, penaltySpared: 0,
      checksums: this.checksums.counters,
      reassembly: { streamOverlapConflicts: 0, streamBytesBeyondDepth: 0, synIgnored: 0, rstIgnored: 0, finIgnored: 0, fragmentOverlapConflicts: 0, datagramsEvicted: 0, streamMemcapDrops: 0, droppedBytesResent: 0 },
    };
  }

  bounds(): EngineBounds {
    const c = this.counters;
    return {
      flows: this.flows.size, flowsMax: this.flows.options.maxFlows, flowsEvicted: this.flows.stats.evicted,
      streamBytes: this.streamPool.inUse, streamMemcap: this.streamPool.memcap, streamMemcapDrops: c.reassembly.streamMemcapDrops,
      fragmentsHeld: this.heldFragments.length, defragBytes: this.defrag.bytesHeld, defragBytesMax: this.defrag.options.maxBytes,
      datagramsEvicted: this.defrag.stats.evicted, penaltySources: this.penalty.size, penaltyFull: c.penaltyFull, penaltySpared: c.penaltySpared,
      checksumsRefused: this.checksums.counters.refused,
    };
  }

  /**
   * Takes sources out of the penalty box (every one when `addrs` is null), as
   * `secuxflow block delete` does in the kernel: their packets are judged
   * again. Flows a module blocked stay blocked. Returns how many were in it.
   */
  releaseSources(addrs: readonly Uint8Array[] | null): number {
    if (addrs === null) return this.penalty.clear();
    let n = 0;
    for (const a of addrs) if (this.penalty.release(a)) n++;
    return n;
  }

  /**
   * Ends the decided flows `sel` picks, as `secuxflow flow delete` deletes
   * their kernel entries: the engine would otherwise repeat their verdicts
   * (and the daemon write them back) at their next punted packets, and the
   * modules keep a flow's block for its life. Each ends as it would on a
   * timeout (flow record, modules told), and its next packet starts a new
   * flow that the rules and modules judge afresh. Returns the ended flows' ids.
   */
  releaseFlows(sel: FlowSelector): number[] {
    const ended = this.flows.release((flow) => {
      const s = flow.engine as FlowState | undefined;
      if (!s || s.decided === FLOW_UNDECIDED) return false;
      const verdict = s.decided === FLOW_ALLOWED ? 'allow' : 'block';
      return selectsFlow(sel, { proto: flow.proto, addrA: flow.clientAddr, addrB: flow.serverAddr, portA: flow.clientPort, portB: flow.serverPort, verdict });
    });
    this.endFlows(ended);
    this.releaseRecords();
    return ended.map((e) => e.flow.id);
  }

  /** Fragments held until their datagram completes or is given up. */
  get heldFragmentCount(): number {
    return this.heldFragments.length;
  }

  /** Bytes the flows' stream buffers hold now (at most the stream memory cap). */
  get streamMemory(): number {
    return this.streamPool.inUse;
  }

  /** Feeds one captured frame. Decisions arrive through onDecision, possibly after later frames (batching). */
  push(frame: RawFrame): void {
    this.pushDecoded(decodeFrame(frame));
  }

  pushDecoded(raw: DecodedPacket): void {
    const c = this.counters;
    const index = this.frameIndex++;
    c.packetsRead++;
    if (raw.malformed === null) c.packetsDecoded++;
    else this.countMalformed(raw.anomaly ?? 'malformed');
    const now = raw.tsSec + raw.tsNsec / 1e9;
    if (now > this.nowSec) this.nowSec = now;
    if (this.nowSec - this.lastExpire >= 1) this.expireIdle();

    // Before the non-IP pass (a frame with too many VLAN tags has no IP layer)
    // and before reassembly (a tiny first fragment is dropped, so its datagram
    // never completes), as in XDP.
    if (raw.invalid !== null) {
      this.decide(this.decision(index, raw, null, 0, 'invalid', Verdict.DROP, true, [raw]));
      return;
    }
    if (raw.ipVersion === 0) {
      c.nonIp++;
      this.decide(this.decision(index, raw, null, 0, 'non-ip', Verdict.PASS, false, [raw]));
      return;
    }
    if (this.penalty.size > 0 && this.penalized(raw)) {
      this.decide(this.decision(index, raw, null, 0, 'penalty', Verdict.DROP, true, [raw]));
      return;
    }

    let pkt = raw;
    let sources: DecodedPacket[] = [raw];
    if (raw.fragment !== null) {
      c.fragments++;
      if (raw.ipVersion === 4 && !this.checksums.accepts(raw)) {
        // The host drops it: held for reassembly, it would let a decoy win an overlap.
        this.classify(index, raw, sources, false);
        return;
      }
      const whole = this.defrag.push(raw);
      const ds = this.defrag.stats;
      c.reassembly.fragmentOverlapConflicts = ds.overlapsConflicting;
      c.reassembly.datagramsEvicted = ds.evicted;
      if (whole === null) {
        // Held across later frames, whose source may reuse or pin the buffer
        // this one lives in (capture chunks, AF_XDP frames): keep a copy.
        const copy = decodePacket(raw.data.slice(), raw.linkType, raw.tsSec, raw.tsNsec, raw.wireLen);
        copy.frameNumber = raw.frameNumber;
        this.heldFragments.push({ pkt: copy, index });
        // After the push: a copy that takes the datagram over the bound is released with it.
        this.defrag.chargeLast(raw.data.length + HELD_FRAGMENT_OVERHEAD);
        c.reassembly.datagramsEvicted = ds.evicted;
        return;
      }
      if (whole !== raw) {
        if (this.defrag.lastConflicting) this.engineAlert = SID_FRAGMENT_OVERLAP;
        c.datagramsReassembled++;
        sources = this.takeHeldFragments(raw);
        pkt = whole;
      }
    }
    this.classify(index, pkt, sources);
  }

  /**
   * Whether the penalty box holds the packet's source. Inside a tunnel: the
   * outermost source, as the kernel's box would drop the whole tunnel's
   * packets, or the inner source blocked within this overlay (never in the
   * kernel, which cannot see it: host/daemon/writeback.ts).
   */
  private penalized(p: DecodedPacket): boolean {
    if (p.tunnelWords === null) return this.penalty.isBlocked(p.src, this.nowSec);
    const { src, len } = outerAddrs(p.tunnels[0]!);
    return this.penalty.isBlocked(p.data.subarray(src, src + len), this.nowSec) || this.penalty.isBlocked(p.src, this.nowSec, wordsKey(p.tunnelWords));
  }

  private countMalformed(event: string): void {
    const c = this.counters;
    c.malformed++;
    c.malformedByEvent.set(event, (c.malformedByEvent.get(event) ?? 0) + 1);
  }

  /** Flushes the pending batch: every pushed packet has its decision afterwards. */
  flush(): void {
    if (this.pending.length > 0) {
      this.batchGen++;
      this.runModules();
      const pending = this.pending;
      const states = this.pendingStates;
      const edges = this.pendingEdges;
      const stamps = this.pendingTs;
      this.pending = [];
      this.pendingStates = [];
      this.pendingEdges = [];
      this.pendingTs = [];
      for (let i = 0; i < pending.length; i++) this.combine(pending[i]!, states[i]!, edges[i]!, stamps[i]!);
      this.releaseEndedStreams();
    }
    this.releaseRecords();
  }

  private releaseEndedStreams(): void {
    const ended = this.endedStreams;
    if (ended.length === 0) return;
    this.endedStreams = [];
    for (const pair of ended) pair.release();
  }

  /** Ends the run: flushes, ends every flow, and returns the counters. */
  finish(): EngineCounters {
    this.flush();
    for (const held of this.heldFragments) {
      // A datagram that never completed cannot be inspected; an inline IPS would not forward it either.
      this.counters.fragmentsIncomplete++;
      this.decide(this.decision(held.index, held.pkt, null, 0, 'fragment', Verdict.DROP, true, [held.pkt]));
    }
    this.heldFragments = [];
    this.endFlows(this.flows.endAll());
    this.syncTableCounters();
    this.releaseEndedStreams();
    this.releaseRecords();
    this.countDrops();
    return this.counters;
  }

  /** The modules' drops and invalid verdicts during this run, from their runners. */
  private countDrops(): void {
    const c = this.counters;
    c.alertsDropped = c.eventsDropped = c.logsDropped = c.verdictErrors = 0;
    this.modules.forEach((m, i) => {
      const ve = m.instance.verdictErrors?.();
      if (ve !== undefined) c.verdictErrors += ve - (this.verdictErrorsBefore[i] ?? 0);
      const now = m.instance.outputDrops?.();
      const before = this.dropsBefore[i];
      if (now === undefined) return;
      c.alertsDropped += now.alertsDropped - (before?.alertsDropped ?? 0);
      c.eventsDropped += now.eventsDropped - (before?.eventsDropped ?? 0);
      c.logsDropped += now.logsDropped - (before?.logsDropped ?? 0);
    });
  }

  /** `valid`: whether the packet's checksums were found right; undefined when not checked yet. */
  private classify(index: number, pkt: DecodedPacket, sources: DecodedPacket[], valid?: boolean): void {
    // Segments that can end or restart a connection are checked before they move the TCP state.
    if (pkt.proto === IpProto.TCP && (pkt.tcpFlags & CONTROL_FLAGS) !== 0) {
      if (valid === undefined) valid = this.checksums.accepts(pkt);
      // Whether the receiver takes a RST or FIN depends on what the modules
      // dropped before it (rewindSeq), which the waiting batch decides.
      if ((pkt.tcpFlags & (TcpFlag.RST | TcpFlag.FIN)) !== 0 && this.pending.length > 0) this.flush();
    }
    const flow = this.flows.trackFlow(pkt, valid === false);
    const direction = this.flows.lastDirection;
    if (this.flows.hasEnded) this.endFlows(this.flows.drainEnded());
    if (flow === null) {
      this.decide(this.decision(index, pkt, null, 0, 'non-ip', Verdict.PASS, false, sources));
      return;
    }
    const state = this.flowState(flow);

    if (state.decided !== FLOW_UNDECIDED) {
      const blocked = state.decided === FLOW_BLOCKED;
      this.decide(this.decision(index, pkt, flow, direction, 'flow', blocked ? Verdict.BLOCK_FLOW : Verdict.ALLOW_FLOW, blocked, sources));
      return;
    }

    let match = direction === 0 ? state.matchToServer : state.matchToClient;
    if (match === undefined) {
      match = this.matcher.match(pkt);
      if (direction === 0) state.matchToServer = match;
      else state.matchToClient = match;
    }
    if (match.action !== 'inspect' || this.modules.length === 0) {
      const dropped = match.action === 'drop';
      const d = this.decision(index, pkt, flow, direction, match.rule ? 'rule' : 'default', dropped ? Verdict.DROP : Verdict.PASS, dropped, sources);
      // The flow record's verdict is its last packet's: a flow a rule dropped is not reported as passed.
      state.lastVerdict = d.verdict;
      d.rule = match.rule;
      d.ruleAction = match.action;
      this.decide(d);
      return;
    }

    // Resent bytes while a packet of the flow waits in this batch: whether the modules drop those bytes is not known
    // until the batch runs, and a resend must be judged knowing it (showUndelivered). So the batch runs first.
    if (state.pendingIn === this.batchGen && this.resendsBytes(state, pkt, direction)) this.flush();
    this.feedStream(state, pkt, direction, valid);
    if (this.fedHeldConflict) {
      this.refuseHeldConflict(this.decision(index, pkt, flow, direction, 'overlap', Verdict.DROP, true, sources), state);
      return;
    }
    if (state.undelivered !== null && this.showUndelivered(state, pkt, direction)) {
      this.dropUninspected(this.decision(index, pkt, flow, direction, 'resent', Verdict.DROP, true, sources), state);
      return;
    }
    if (this.fedRefused) {
      // Fail closed: the host does not get what the stream could not hold, so
      // the two stay in agreement and the sender sends it again later.
      this.counters.reassembly.streamMemcapDrops++;
      const d = this.decision(index, pkt, flow, direction, 'memcap', Verdict.DROP, true, sources);
      this.forgetDroppedSegment(d, state);
      this.dropUninspected(d, state);
      return;
    }
    const d = this.decision(index, pkt, flow, direction, 'module', Verdict.CONTINUE, false, sources);
    d.rule = match.rule;
    d.ruleAction = 'inspect';
    this.pending.push(d);
    this.pendingStates.push(state);
    this.pendingEdges.push(this.fedEdgeBefore);
    this.pendingTs.push(this.fedTsBefore);
    state.pendingIn = this.batchGen;
    this.counters.inspected++;
    d.inspected = ++state.inspected;

    const stream = this.fedStream, streamNew = this.fedNew, gap = this.fedGap;
    const names = match.rule && match.rule.modules.length > 0 ? match.rule.modules : null;
    let given = 0;
    for (let m = 0; m < this.modules.length; m++) {
      if (names !== null && !names.includes(this.modules[m]!.name)) continue;
      const ms = state.moduleState[m]!;
      if (ms === 2) continue;
      let flags = 0;
      if (ms === 0) {
        flags |= MetaFlag.FLOW_START;
        state.moduleState[m] = 1;
      }
      if (pkt.malformed !== null) flags |= MetaFlag.MALFORMED;
      if (pkt.data.length < pkt.wireLen) flags |= MetaFlag.TRUNCATED;
      if (sources.length > 1) flags |= MetaFlag.REASSEMBLED;
      if (gap) flags |= MetaFlag.STREAM_GAP;
      const run: ModuleRun = { module: this.modules[m]!.name, verdict: Verdict.CONTINUE, ttl: 0, alerts: NO_ALERTS, events: NO_EVENTS, failure: null };
      d.modules = withItem(d.modules, NO_RUNS, run);
      this.addItem(m, run, pkt, flow.id, direction, flags, stream, streamNew);
      given++;
    }
    if (this.fedConflict && !state.overlapAlerted) {
      state.overlapAlerted = true;
      addEngineAlert(d, SID_STREAM_OVERLAP);
    }
    // A receiver without SO_OOBINLINE (most servers) takes the urgent byte out
    // of the stream: "UNI" + urgent "X" + "ON" reads UNION there, UNIXON here.
    if ((pkt.tcpFlags & TcpFlag.URG) !== 0 && pkt.payloadLength > 0 && !state.urgentAlerted) {
      state.urgentAlerted = true;
      addEngineAlert(d, SID_URGENT_DATA);
    }
    if (this.fedPaws && !state.pawsAlerted) {
      state.pawsAlerted = true;
      addEngineAlert(d, SID_PAWS);
    }
    if (given === 0 && this.fedUndelivered) {
      // Bytes the receiver never got, and no module left to judge them again: fail closed (combine).
      d.stage = 'resent';
    } else if (given === 0 && state.undelivered === null) {
      // Every module this rule names is done with the flow: nothing left to inspect.
      // (While the receiver lacks dropped bytes it is not allowed: combine passes the packet only.)
      state.decided = FLOW_ALLOWED;
      state.decidedBy = 'modules done';
    }
    if (this.pending.length >= this.batchSize) this.flush();
  }

  /** Queues one item for module m; the item object is reused from earlier batches when there is one. */
  private addItem(m: number, run: ModuleRun, pkt: DecodedPacket, flowId: number, direction: 0 | 1, flags: number, stream: Uint8Array | null, streamNew: number): void {
    const n = this.itemCount[m]!;
    const items = this.moduleItems[m]!;
    const it = items[n];
    if (it === undefined) {
      items.push({ pkt, flowId, direction, flags, stream, streamNew });
    } else {
      it.pkt = pkt;
      it.flowId = flowId;
      it.direction = direction;
      it.flags = flags;
      it.stream = stream;
      it.streamNew = streamNew;
    }
    this.moduleRuns[m]![n] = run;
    this.itemCount[m] = n + 1;
  }

  /** Reports a packet the engine dropped without the modules (its decision made with the stage that did). */
  private dropUninspected(d: PacketDecision, state: FlowState): void {
    state.lastVerdict = d.verdict;
    this.decide(d);
  }

  /**
   * Drops a segment that differs from bytes held past a hole (the stream
   * refused it whole), so the receiver, like the modules, only ever has the
   * copy that was inspected. The flow table and PAWS forget it too: the
   * receiver's next sequence number stays at the stream's in-order edge.
   */
  private refuseHeldConflict(d: PacketDecision, state: FlowState): void {
    this.forgetDroppedSegment(d, state);
    if (!state.overlapAlerted) {
      state.overlapAlerted = true;
      addEngineAlert(d, SID_STREAM_OVERLAP);
    }
    this.dropUninspected(d, state);
  }

  /**
   * A segment the engine dropped before the modules, whose bytes the stream
   * did not take: the receiver's next sequence number stays at the stream's
   * in-order edge, for the flow table's RST and FIN checks too, and its
   * timestamp does not move PAWS. Else a RST at the end of the dropped bytes,
   * which the receiver ignores, ended the flow here.
   */
  private forgetDroppedSegment(d: PacketDecision, state: FlowState): void {
    const streams = state.streams!;
    streams.restoreTimestamp(d.direction, this.fedTsBefore);
    const pkt = d.pkt;
    this.flows.forgetAhead(d.flow!, d.direction, pkt.tcpSeq, (pkt.tcpSeq + pkt.payloadLength) >>> 0);
    this.flows.rewindSeq(d.flow!, d.direction, streams.stream(d.direction).nextSeq);
  }

  /** Whether a TCP payload starts before its direction's next in-order byte: a retransmission or an overlap. */
  private resendsBytes(state: FlowState, pkt: DecodedPacket, direction: 0 | 1): boolean {
    if (pkt.proto !== IpProto.TCP || pkt.payloadLength === 0 || state.streams === null) return false;
    const s = state.streams.stream(direction);
    return s.length > 0 && ((pkt.tcpSeq - s.nextSeq) | 0) < 0;
  }

  /**
   * A packet carrying bytes a module's DROP kept from the receiver: the
   * stream took them the first time ("first copy wins"), so the modules
   * would see nothing new and the resent bytes would pass. The receiver
   * takes them from this copy, whatever the first said, so the stream takes
   * this copy's bytes there, and the modules are shown the stream again from
   * the first of them to its end. Returns true when the packet is to be
   * dropped without them: the flow was shown such bytes MAX_SHOWINGS times
   * already, or its direction dropped too many separate ranges to track.
   */
  private showUndelivered(state: FlowState, pkt: DecodedPacket, direction: 0 | 1): boolean {
    if (pkt.proto !== IpProto.TCP || pkt.payloadLength === 0 || state.streams === null) return false;
    const u = state.undelivered!;
    if (u.closed(direction)) return true;
    const s = state.streams.stream(direction);
    const at = (pkt.tcpSeq - s.baseSequence) | 0;
    const payload = pkt.data.subarray(pkt.payloadOffset, pkt.payloadOffset + pkt.payloadLength);
    const first = u.overlaps(direction, Math.max(at, 0), at + payload.length);
    if (first < 0) return false;
    this.fedUndelivered = true;
    this.counters.reassembly.droppedBytesResent++;
    if (u.showings >= MAX_SHOWINGS) return true;
    u.showings++;
    // No view of these bytes waits in the batch: classify ran it first.
    u.overlaps(direction, Math.max(at, 0), at + payload.length, (from, to) => s.rewrite(from, payload.subarray(from - at, to - at)));
    if (first < s.length) {
      this.fedStream = s.bytes();
      this.fedNew = s.length - first;
    }
    return false;
  }

  /**
   * Keeps the flow's undelivered bytes in step with the receiver: what a
   * module dropped that the receiver did not already have (below the
   * in-order edge before the packet, and not already undelivered, it had
   * it) joins them; what was passed leaves them.
   */
  private trackUndelivered(state: FlowState, d: PacketDecision, edgeBefore: number, tsBefore: number): void {
    const s = state.streams!.stream(d.direction);
    const at = (d.pkt.tcpSeq - s.baseSequence) | 0;
    const start = Math.max(at, 0), end = at + d.pkt.payloadLength;
    if (d.dropped) {
      state.streams!.restoreTimestamp(d.direction, tsBefore);
      const u = state.undelivered ?? (state.undelivered = new UndeliveredBytes());
      u.add(d.direction, Math.max(start, edgeBefore), end);
      const first = u.firstStart(d.direction);
      if (first >= 0 && d.flow !== null) this.flows.rewindSeq(d.flow, d.direction, (s.baseSequence + first) >>> 0);
    } else {
      state.undelivered!.remove(d.direction, start, end);
    }
    if (state.undelivered!.empty) state.undelivered = null;
  }

  /** Feeds the packet to its flow's stream; the result is left in fedStream, fedNew and fedGap. */
  private feedStream(state: FlowState, pkt: DecodedPacket, direction: 0 | 1, valid: boolean | undefined): void {
    this.fedStream = null;
    this.fedNew = 0;
    this.fedGap = false;
    this.fedConflict = false;
    this.fedHeldConflict = false;
    this.fedPaws = false;
    this.fedRefused = false;
    this.fedEdgeBefore = 0;
    this.fedTsBefore = -1;
    this.fedUndelivered = false;
    if (pkt.proto !== IpProto.TCP || pkt.l4Offset < 0) return;
    if (state.streams === null) state.streams = new TcpStreamPair(this.streamDepth, this.streamPool);
    const s = state.streams.stream(direction);
    this.fedEdgeBefore = s.length;
    this.fedTsBefore = state.streams.timestampState(direction);
    // A full stream takes no more bytes: checksumming its segments (most of a bulk transfer) would buy nothing.
    if (valid === false || (valid === undefined && !s.full && !this.checksums.accepts(pkt))) return;
    const conflicts = s.stats.overlapConflicts, paws = state.streams.pawsRejected, refused = s.stats.memcapRefused;
    const heldConflicts = s.stats.heldConflictsRefused;
    // While the receiver lacks bytes a module dropped, a later copy of them may
    // differ and must be taken (showUndelivered): no refusal then.
    const added = state.streams.pushPacket(pkt, direction, state.undelivered === null);
    this.fedRefused = s.stats.memcapRefused !== refused;
    this.fedConflict = s.stats.overlapConflicts !== conflicts;
    this.fedHeldConflict = s.stats.heldConflictsRefused !== heldConflicts;
    this.fedPaws = state.streams.pawsRejected !== paws;
    // STREAM_GAP promises that no more in-order bytes will follow. A hole does
    // not: its bytes may come later, in another batch, and modules that took
    // the flag for the end gave up on the flow (allowing it) before the rest
    // of a ClientHello or request sent out of order arrived.
    this.fedGap = s.full;
    // Only a packet that released new in-order bytes carries the stream: modules
    // then see each byte of the stream once as "new".
    if (added === 0) return;
    this.fedStream = s.bytes();
    this.fedNew = added;
  }

  private runModules(): void {
    for (let m = 0; m < this.modules.length; m++) {
      const count = this.itemCount[m]!;
      if (count === 0) continue;
      const items = this.moduleItems[m]!;
      const runs = this.moduleRuns[m]!;
      const mod = this.modules[m]!;
      const out = this.outputs[m]!;
      if (out.verdicts.length < count) {
        out.verdicts = new Uint8Array(count);
        out.verdictArgs = new Uint16Array(count);
      }
      out.verdicts.fill(0, 0, count);
      out.verdictArgs.fill(0, 0, count);
      clear(out.alerts);
      clear(out.events);
      let failure: string | null = null;
      try {
        mod.instance.inspect(items, count, out);
      } catch (e) {
        failure = e instanceof Error ? e.message : String(e);
        this.counters.moduleFailures++;
        this.counters.moduleFailurePackets += count;
        const v = (mod.policy ?? 'fail-closed') === 'fail-open' ? Verdict.PASS : Verdict.DROP;
        out.verdicts.fill(v, 0, count);
        out.alerts.length = 0;
        out.events.length = 0;
      }
      const verdicts = out.verdicts, args = out.verdictArgs;
      for (let i = 0; i < count; i++) {
        const run = runs[i]!;
        run.verdict = verdicts[i]! as Verdict;
        run.ttl = args[i]! || this.defaultTtl;
        run.failure = failure;
      }
      for (const a of out.alerts) {
        const run = runFor(runs, a.index, mod.name);
        run.alerts = withItem(run.alerts, NO_ALERTS, a);
      }
      for (const ev of out.events) {
        const run = runFor(runs, ev.index, mod.name);
        run.events = withItem(run.events, NO_EVENTS, ev);
      }
      this.itemCount[m] = 0;
    }
  }

  private combine(d: PacketDecision, state: FlowState, edgeBefore: number, tsBefore: number): void {
    if (state.decided === FLOW_BLOCKED) {
      // An earlier packet of this batch blocked the flow: the kernel would have
      // dropped this one unseen, so the alerts and events the modules emitted
      // for it (they had the whole batch) are not reported; their verdicts and
      // failures stay on record, and so do the engine's own alerts.
      const runs = d.modules;
      for (let i = 0; i < runs.length; i++) {
        if (runs[i]!.module === ENGINE_MODULE) continue;
        runs[i]!.alerts = NO_ALERTS;
        runs[i]!.events = NO_EVENTS;
      }
      d.stage = 'flow';
      d.verdict = Verdict.BLOCK_FLOW;
      d.dropped = true;
      this.decide(d);
      return;
    }
    if (d.stage === 'resent') {
      d.verdict = Verdict.DROP;
      d.dropped = true;
      this.dropUninspected(d, state);
      return;
    }
    let verdict: Verdict = Verdict.ALLOW_FLOW;
    let blockTtl = 0;
    // A flow verdict or the cap on such a key would also decide packets of
    // other datagrams and connections between the two hosts (hasPortlessFlowKey).
    const perPacket = hasPortlessFlowKey(d.pkt);
    // Index loops on the per-packet path: for-of left an iterator per loop here (heap profile).
    const runs = d.modules;
    let moduleRuns = 0;
    for (let i = 0; i < runs.length; i++) {
      const run = runs[i]!;
      if (run.alerts.length > 0) state.alerted = true;
      if (run.module === ENGINE_MODULE) continue;
      moduleRuns++;
      if (VERDICT_RANK[run.verdict]! > VERDICT_RANK[verdict]!) verdict = run.verdict;
      if (run.verdict === Verdict.BLOCK_SRC && run.ttl > blockTtl) blockTtl = run.ttl;
      if (run.verdict === Verdict.ALLOW_FLOW && !perPacket) state.moduleState[this.moduleIndex.get(run.module)!] = 2;
    }
    if (moduleRuns === 0) verdict = Verdict.ALLOW_FLOW;
    if (verdict === Verdict.BLOCK_SRC && this.neverBlock !== null && this.neverBlock.shields(d.pkt.src, this.blockIpv6Prefix)) {
      // The write-back then writes the flow, not the source, into the kernel.
      verdict = Verdict.BLOCK_FLOW;
      this.counters.penaltySpared++;
    }
    if (verdict === Verdict.BLOCK_SRC) {
      // The ttl runs from the packet that earned the block, not from the engine's
      // clock when its batch was flushed: a capture's batch may wait for a
      // packet an hour later, and the source would stay blocked long past its ttl.
      const at = d.pkt.tsSec + d.pkt.tsNsec / 1e9;
      const scope = d.pkt.tunnelWords === null ? '' : wordsKey(d.pkt.tunnelWords);
      if (!this.penalty.block(penaltyKeyFor(d.pkt.src, this.blockIpv6Prefix), at, blockTtl || this.defaultTtl, scope)) this.counters.penaltyFull++;
      if (!perPacket) {
        state.decided = FLOW_BLOCKED;
        state.decidedBy = 'BLOCK_SRC';
      }
    } else if (perPacket) {
      // ALLOW_FLOW passes and BLOCK_FLOW drops this packet only (d.dropped below).
    } else if (verdict === Verdict.BLOCK_FLOW) {
      state.decided = FLOW_BLOCKED;
      state.decidedBy = 'BLOCK_FLOW';
    } else if (state.undelivered !== null && (verdict === Verdict.ALLOW_FLOW || this.allModulesDone(d, state))) {
      // Not while the receiver lacks bytes a module dropped: an allowed flow's
      // resend of them would pass unseen (in the kernel, live).
      if (verdict === Verdict.ALLOW_FLOW) verdict = Verdict.PASS;
    } else if (this.allModulesDone(d, state)) {
      state.decided = FLOW_ALLOWED;
      state.decidedBy = 'ALLOW_FLOW';
    } else if (state.inspected >= this.maxInspect) {
      state.decided = this.capPolicy === 'allow' ? FLOW_ALLOWED : FLOW_BLOCKED;
      state.decidedBy = 'inspection cap';
    }
    d.verdict = verdict;
    d.dropped = dropsPacket(verdict);
    if (state.decided === FLOW_UNDECIDED && d.pkt.proto === IpProto.TCP && d.pkt.payloadLength > 0 && state.streams !== null && (d.dropped || state.undelivered !== null)) this.trackUndelivered(state, d, edgeBefore, tsBefore);
    state.lastVerdict = verdict;
    this.decide(d);
  }

  private allModulesDone(d: PacketDecision, state: FlowState): boolean {
    const names = d.rule && d.rule.modules.length > 0 ? d.rule.modules : null;
    for (let m = 0; m < this.modules.length; m++) {
      if (names !== null && !names.includes(this.modules[m]!.name)) continue;
      if (state.moduleState[m] !== 2) return false;
    }
    return true;
  }

  private decision(index: number, pkt: DecodedPacket, flow: Flow | null, direction: 0 | 1, stage: DecisionStage, verdict: Verdict, dropped: boolean,
    sources: DecodedPacket[]): PacketDecision {
    const d: PacketDecision = { index, pkt, sources, flow, direction, stage, rule: null, ruleAction: null, modules: NO_RUNS, verdict, dropped, inspected: 0 };
    if (this.engineAlert !== 0) {
      addEngineAlert(d, this.engineAlert);
      this.engineAlert = 0;
      const s = flow?.engine as FlowState | undefined;
      if (s) s.alerted = true;
    }
    return d;
  }

  private decide(d: PacketDecision): void {
    const c = this.counters;
    const n = d.sources.length;
    if (d.dropped) c.drop += n;
    else c.pass += n;
    countStage(c.byStage, d.stage, n);
    countVerdict(c.byVerdict, d.verdict, n);
    const runs = d.modules;
    for (let i = 0; i < runs.length; i++) {
      const run = runs[i]!;
      for (let j = 0; j < run.alerts.length; j++) this.countAlert(run.module, run.alerts[j]!);
      for (let j = 0; j < run.events.length; j++) this.countEvent(run.events[j]!);
    }
    this.onDecision?.(d);
  }

  private countEvent(e: ModuleEvent): void {
    const c = this.counters;
    c.events++;
    // A switch, not byKind[e.kind]++: a computed key is a megamorphic access (see countStage).
    switch (e.kind) {
      case 'dns': c.eventsByKind.dns++; break;
      case 'tls': c.eventsByKind.tls++; break;
      case 'http': c.eventsByKind.http++; break;
      case 'ssh': c.eventsByKind.ssh++; break;
      default: c.eventsByKind.other++; break;
    }
  }

  private countAlert(module: string, a: ModuleAlert): void {
    const c = this.counters;
    c.alerts++;
    const key = `${module}:${a.sigId}`;
    const entry = c.alertsBySignature.get(key);
    if (entry) entry.count++;
    else if (c.alertsBySignature.size < MAX_TRACKED_SIGNATURES) c.alertsBySignature.set(key, { sigId: a.sigId, message: a.message, count: 1 });
    else c.alertsUntracked++;
  }

  private takeHeldFragments(last: DecodedPacket): DecodedPacket[] {
    const datagram = datagramIdOf(last);
    const taken = this.removeHeld((f) => inDatagram(f, datagram));
    taken.push(last);
    return taken;
  }

  /** The reassembler gave up a datagram (timeout, memory, oversize): its held fragments are decided now. */
  private releaseFragments(d: DroppedDatagram): void {
    const freed = this.heldFragments.filter((h) => inDatagram(h.pkt, d));
    if (freed.length === 0) return;
    this.heldFragments = this.heldFragments.filter((h) => !freed.includes(h));
    for (const held of freed) {
      // A datagram that never completed cannot be inspected; an inline IPS would not forward it either.
      this.counters.fragmentsIncomplete++;
      this.decide(this.decision(held.index, held.pkt, null, 0, 'fragment', Verdict.DROP, true, [held.pkt]));
    }
  }

  private removeHeld(match: (f: DecodedPacket) => boolean): DecodedPacket[] {
    const taken: DecodedPacket[] = [];
    const kept: { pkt: DecodedPacket; index: number }[] = [];
    for (const held of this.heldFragments) {
      if (match(held.pkt)) taken.push(held.pkt);
      else kept.push(held);
    }
    this.heldFragments = kept;
    return taken;
  }

  private flowState(flow: Flow): FlowState {
    let s = flow.engine as FlowState | null | undefined;
    if (!s) {
      s = {
        decided: FLOW_UNDECIDED, decidedBy: '', matchToServer: undefined, matchToClient: undefined,
        // A small array, not a typed array: it is created for every flow.
        moduleState: new Array<number>(this.modules.length).fill(0), streams: null,
        inspected: 0, lastVerdict: Verdict.PASS, alerted: false, overlapAlerted: false, urgentAlerted: false, pawsAlerted: false, undelivered: null, pendingIn: -1,
      };
      flow.engine = s;
      this.counters.flows++;
    }
    return s;
  }

  private syncTableCounters(): void {
    const r = this.counters.reassembly, t = this.flows.stats;
    r.rstIgnored = t.rstIgnored;
    r.finIgnored = t.finIgnored;
  }

  private expireIdle(): void {
    this.lastExpire = this.nowSec;
    this.syncTableCounters();
    const ended = this.flows.expire(this.nowSec);
    if (ended.length > 0) {
      this.flush();
      this.endFlows(ended);
      this.releaseRecords();
    }
    this.defrag.expire(this.nowSec);
  }

  private endFlows(ended: FlowEnd[]): void {
    if (ended.length === 0) return;
    // Held while a runner answers later, and behind any record already held, so records keep their order.
    const hold = this.heldRecords.length > 0 || this.modules.some(answersFlowEndsLater);
    for (const { flow, reason } of ended) {
      const s = flow.engine as FlowState | undefined;
      const verdict = !s ? 'pass'
        : s.decided === FLOW_ALLOWED ? 'allow_flow'
        : s.decided === FLOW_BLOCKED ? (s.decidedBy === 'BLOCK_SRC' ? 'block_src' : 'block_flow')
        : FLOW_VERDICT_NAMES[s.lastVerdict]!;
      const record: FlowRecord = { flow, reason, verdict, alerted: s?.alerted ?? false, out: false };
      if (s) {
        for (let m = 0; m < this.modules.length; m++) {
          if (s.moduleState[m] !== 0) this.tellFlowEnded(m, record);
        }
        if (s.streams !== null) {
          countStreams(this.counters.reassembly, s.streams);
          // Items of the pending batch may still point into these buffers.
          if (this.pending.length === 0) s.streams.release();
          else this.endedStreams.push(s.streams);
          s.streams = null;
        }
      }
      if (hold) this.heldRecords.push(record);
      else this.recordOut(record);
    }
  }

  private recordOut(record: FlowRecord): void {
    this.onFlowEnd?.(record);
    // A field, not a WeakSet beside the engine: nothing weak for the
    // collector to track per ended flow.
    record.out = true;
  }

  /**
   * Writes the held flow records once every runner that answers flow ends
   * later has answered them: a sandboxed module's alert about a flow then
   * comes before the flow's record, which says the flow alerted.
   */
  private releaseRecords(): void {
    if (this.heldRecords.length === 0) return;
    for (const m of this.modules) {
      try {
        m.instance.flushFlowEnds?.();
      } catch {
        this.counters.moduleFailures++;
      }
    }
    const held = this.heldRecords;
    this.heldRecords = [];
    for (const r of held) this.recordOut(r);
  }

  /**
   * A trap in on_flow_end used to escape push() and end the whole run, half-way
   * through ending flows. There is no packet to apply the failure policy to and
   * the flow is over either way: it is counted, and the module keeps running.
   */
  private tellFlowEnded(m: number, record: FlowRecord): void {
    const module = this.modules[m]!.name;
    try {
      this.modules[m]!.instance.flowEnded(record.flow.id, (alerts, events) => this.flowOutput({ record, module, alerts, events, late: record.out === true }));
    } catch {
      this.counters.moduleFailures++;
    }
  }

  private flowOutput(o: FlowOutput): void {
    if (o.alerts.length === 0 && o.events.length === 0) return;
    for (const a of o.alerts) this.countAlert(o.module, a);
    for (const e of o.events) this.countEvent(e);
    // The flow's record is written after its in-thread modules answered: it says they alerted.
    if (o.alerts.length > 0) o.record.alerted = true;
    this.onFlowOutput?.(o);
  }
}

const CONTROL_FLAGS = TcpFlag.SYN | TcpFlag.FIN | TcpFlag.RST;

const ENGINE_ALERTS: Record<number, string> = {
  [SID_STREAM_OVERLAP]: 'TCP segment overlaps held stream bytes with different data (the first copy was inspected)',
  [SID_FRAGMENT_OVERLAP]: 'IP fragment overlaps held datagram bytes with different data (the first copy was inspected)',
  [SID_URGENT_DATA]: 'TCP urgent data: a receiver without SO_OOBINLINE removes a byte the stream inspected still holds',
  [SID_PAWS]: 'TCP segment with a timestamp older than one already taken (PAWS): the receiver drops it, so it was not inspected as data',
};

/** Puts one of the engine's own alerts on a decision, in a run that takes no part in the verdict. */
function addEngineAlert(d: PacketDecision, sigId: number): void {
  // Suricata's stream and defrag event rules use classtype protocol-command-decode.
  const alert: ModuleAlert = { index: -1, sigId, severity: 2, message: ENGINE_ALERTS[sigId]!, metadata: { category: 'Generic Protocol Command Decode' } };
  const run: ModuleRun = { module: ENGINE_MODULE, verdict: Verdict.CONTINUE, ttl: 0, alerts: [alert], events: NO_EVENTS, failure: null };
  d.modules = withItem(d.modules, NO_RUNS, run);
}

function countStreams(r: ReassemblyCounters, pair: TcpStreamPair): void {
  r.synIgnored += pair.synIgnored;
  for (const s of [pair.toServer, pair.toClient]) {
    r.streamOverlapConflicts += s.stats.overlapConflicts;
    r.streamBytesBeyondDepth += s.stats.bytesBeyondDepth;
  }
}

function answersFlowEndsLater(m: EngineModule): boolean {
  return m.instance.flushFlowEnds !== undefined;
}

// Counting through a computed key (byStage[d.stage]) is a megamorphic keyed
// access, ~50 ns per packet; a switch makes each a plain named property.
function countStage(s: Record<DecisionStage, number>, stage: DecisionStage, n: number): void {
  switch (stage) {
    case 'module': s.module += n; break;
    case 'flow': s.flow += n; break;
    case 'rule': s.rule += n; break;
    case 'default': s.default += n; break;
    case 'non-ip': s['non-ip'] += n; break;
    case 'penalty': s.penalty += n; break;
    case 'fragment': s.fragment += n; break;
    case 'invalid': s.invalid += n; break;
    case 'memcap': s.memcap += n; break;
    case 'resent': s.resent += n; break;
    case 'overlap': s.overlap += n; break;
    default: {
      const unknown: never = stage;
      throw new SecuxflowError('E_INTERNAL', `no counter for decision stage ${String(unknown)}`);
    }
  }
}

function countVerdict(v: Record<string, number>, verdict: Verdict, n: number): void {
  switch (verdict) {
    case Verdict.CONTINUE: v.CONTINUE = v.CONTINUE! + n; break;
    case Verdict.PASS: v.PASS = v.PASS! + n; break;
    case Verdict.ALLOW_FLOW: v.ALLOW_FLOW = v.ALLOW_FLOW! + n; break;
    case Verdict.DROP: v.DROP = v.DROP! + n; break;
    case Verdict.BLOCK_FLOW: v.BLOCK_FLOW = v.BLOCK_FLOW! + n; break;
    case Verdict.BLOCK_SRC: v.BLOCK_SRC = v.BLOCK_SRC! + n; break;
  }
}

/**
 * The run an alert or event belongs to. One not tied to a packet (pkt_index
 * -1 inside on_batch) goes with the batch's first packet: an EVE record needs
 * a packet's endpoints, and dropping what a module chose to report is worse.
 */
function runFor(runs: ModuleRun[], index: number, module: string): ModuleRun {
  const run = index >= 0 ? runs[index] : runs[0];
  if (run === undefined) throw new SecuxflowError('E_INTERNAL', `module ${module} reported for item ${index}, which is not in its batch`);
  return run;
}

/** A capture's frame decoded as push() decodes it (for callers that look at it first, as inspect --filter does). */
export function decodeFrame(frame: RawFrame): DecodedPacket {
  return decodePacket(frame.data, frame.linkType, frame.tsSec, frame.tsNsec, frame.wireLen, frame.seq ?? -1, frame.offset ?? 0);
}
