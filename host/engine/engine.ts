// The inspection pipeline shared by every packet source (pcap, dry-run, AF_XDP):
// decode -> penalty box -> IP reassembly -> flow table -> flow verdicts -> rules
// -> TCP stream reassembly -> batched module calls -> combined verdict.
// The stages run in the XDP program's order so offline and live runs agree.
import type { RawFrame } from '../capture/types.js';
import { decodePacket } from '../packet/decode.js';
import type { DecodedPacket } from '../packet/types.js';
import { IpProto } from '../packet/types.js';
import { FlowTable, type FlowTableOptions } from '../flow/table.js';
import { Defragmenter, type DroppedDatagram } from '../flow/defrag.js';
import { TcpStreamPair } from '../flow/stream.js';
import type { Flow, FlowEnd } from '../flow/types.js';
import { RuleMatcher } from '../rules/match.js';
import type { RuleMatch, RuleSet } from '../rules/types.js';
import type { InspectItem, BatchOutput } from '../wasm/instance.js';
import { MetaFlag } from '../wasm/abi.js';
import { SecuxflowError } from '../errors.js';
import { Verdict, VERDICT_NAMES, VERDICT_RANK, dropsPacket } from '../verdict.js';
import { PenaltyBox } from './penalty-box.js';
import type { DecisionStage, EngineCounters, FlowRecord, ModuleRun, PacketDecision } from './types.js';

export type FailurePolicy = 'fail-open' | 'fail-closed';

/**
 * What the engine needs of a module: the in-thread InspectorInstance, or a
 * sandboxed runner that keeps the module in a worker, both fit.
 */
export interface ModuleRunner {
  /** Writes one verdict per item into out (and alerts/events); throws a SecuxflowError when the module fails. */
  inspect(items: readonly InspectItem[], count: number, out: BatchOutput): void;
  flowEnded(flowId: number): void;
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
  /** Packets of one flow handed to modules while undecided; then `flowCapPolicy` decides (Suricata's stream depth idea). */
  maxInspectPackets?: number;
  flowCapPolicy?: 'allow' | 'block';
  /** BLOCK_SRC ttl when a module gives 0. */
  defaultBlockTtl?: number;
  flowTable?: Partial<FlowTableOptions>;
  onDecision?: (d: PacketDecision) => void;
  onFlowEnd?: (r: FlowRecord) => void;
}

const FLOW_UNDECIDED = 0;
const FLOW_ALLOWED = 1;
const FLOW_BLOCKED = 2;

interface FlowState {
  decided: number;
  decidedBy: string;
  match: [RuleMatch | undefined, RuleMatch | undefined];
  /** Per loaded module: 0 not involved yet, 1 inspecting, 2 done (said ALLOW_FLOW). */
  moduleState: Uint8Array;
  streams: TcpStreamPair | null;
  inspected: number;
  lastVerdict: Verdict;
  alerted: boolean;
}

interface Pending {
  decision: PacketDecision;
  sources: DecodedPacket[];
  state: FlowState;
}

export class Engine {
  readonly counters: EngineCounters;
  private readonly matcher: RuleMatcher;
  private readonly flows: FlowTable;
  private readonly defrag = new Defragmenter({ onDrop: (d) => this.releaseFragments(d) });
  private readonly penalty = new PenaltyBox();
  private readonly modules: EngineModule[];
  private readonly moduleIndex = new Map<string, number>();
  private readonly batchSize: number;
  private readonly streamDepth: number;
  private readonly maxInspect: number;
  private readonly capPolicy: 'allow' | 'block';
  private readonly defaultTtl: number;
  private readonly onDecision: ((d: PacketDecision) => void) | undefined;
  private readonly onFlowEnd: ((r: FlowRecord) => void) | undefined;

  private frameIndex = 0;
  private nowSec = 0;
  private lastExpire = 0;
  private pending: Pending[] = [];
  /** Per module: the items of the current batch and which pending packet each belongs to. */
  private readonly moduleItems: InspectItem[][];
  private readonly moduleOwners: number[][];
  private readonly outputs: BatchOutput[];
  /** Fragments held until their datagram completes, keyed by the fragment packet. */
  private heldFragments: { pkt: DecodedPacket; index: number }[] = [];

  constructor(opts: EngineOptions) {
    this.matcher = new RuleMatcher(opts.rules);
    this.flows = new FlowTable(opts.flowTable);
    this.modules = opts.modules;
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
    this.maxInspect = opts.maxInspectPackets ?? 512;
    this.capPolicy = opts.flowCapPolicy ?? 'allow';
    this.defaultTtl = opts.defaultBlockTtl ?? 60;
    this.onDecision = opts.onDecision;
    this.onFlowEnd = opts.onFlowEnd;
    this.moduleItems = this.modules.map(() => []);
    this.moduleOwners = this.modules.map(() => []);
    this.outputs = this.modules.map(() => ({
      verdicts: new Uint8Array(this.batchSize),
      verdictArgs: new Uint16Array(this.batchSize),
      alerts: [],
      events: [],
    }));
    this.counters = {
      packetsRead: 0, packetsDecoded: 0, malformed: 0, nonIp: 0, fragments: 0, datagramsReassembled: 0,
      fragmentsIncomplete: 0, pass: 0, drop: 0, inspected: 0,
      byStage: { 'non-ip': 0, penalty: 0, flow: 0, rule: 0, default: 0, module: 0, fragment: 0 },
      byVerdict: Object.fromEntries(VERDICT_NAMES.map((n) => [n, 0])),
      alerts: 0, alertsBySignature: new Map(), events: 0, flows: 0, moduleFailures: 0,
    };
  }

  /** Feeds one captured frame. Decisions arrive through onDecision, possibly after later frames (batching). */
  push(frame: RawFrame): void {
    const pkt = decodePacket(frame.data, frame.linkType, frame.tsSec, frame.tsNsec, frame.wireLen);
    this.pushDecoded(pkt);
  }

  pushDecoded(raw: DecodedPacket): void {
    const c = this.counters;
    const index = this.frameIndex++;
    c.packetsRead++;
    if (raw.malformed === null) c.packetsDecoded++;
    else c.malformed++;
    const now = raw.tsSec + raw.tsNsec / 1e9;
    if (now > this.nowSec) this.nowSec = now;
    if (this.nowSec - this.lastExpire >= 1) this.expireIdle();

    if (raw.ipVersion === 0) {
      c.nonIp++;
      this.decide(this.decision(index, raw, null, 0, 'non-ip', Verdict.PASS, false), [raw]);
      return;
    }
    if (this.penalty.size > 0 && this.penalty.isBlocked(raw.src, this.nowSec)) {
      this.decide(this.decision(index, raw, null, 0, 'penalty', Verdict.DROP, true), [raw]);
      return;
    }

    let pkt = raw;
    let sources: DecodedPacket[] = [raw];
    if (raw.fragment !== null) {
      c.fragments++;
      const whole = this.defrag.push(raw);
      if (whole === null) {
        // Held across later frames, whose source may reuse or pin the buffer
        // this one lives in (capture chunks, AF_XDP frames): keep a copy.
        this.heldFragments.push({ pkt: decodePacket(raw.data.slice(), raw.linkType, raw.tsSec, raw.tsNsec, raw.wireLen), index });
        return;
      }
      if (whole !== raw) {
        c.datagramsReassembled++;
        sources = this.takeHeldFragments(raw);
        pkt = whole;
      }
    }
    this.classify(index, pkt, sources);
  }

  /** Flushes the pending batch: every pushed packet has its decision afterwards. */
  flush(): void {
    if (this.pending.length === 0) return;
    this.runModules();
    const pending = this.pending;
    this.pending = [];
    for (const p of pending) this.combine(p);
  }

  /** Ends the run: flushes, ends every flow, and returns the counters. */
  finish(): EngineCounters {
    this.flush();
    for (const held of this.heldFragments) {
      // A datagram that never completed cannot be inspected; an inline IPS would not forward it either.
      this.counters.fragmentsIncomplete++;
      this.decide(this.decision(held.index, held.pkt, null, 0, 'fragment', Verdict.DROP, true), [held.pkt]);
    }
    this.heldFragments = [];
    this.endFlows(this.flows.endAll());
    return this.counters;
  }

  private classify(index: number, pkt: DecodedPacket, sources: DecodedPacket[]): void {
    const tracked = this.flows.track(pkt);
    this.endFlows(this.flows.drainEnded());
    if (tracked === null) {
      this.decide(this.decision(index, pkt, null, 0, 'non-ip', Verdict.PASS, false), sources);
      return;
    }
    const { flow, direction } = tracked;
    const state = this.flowState(flow);

    if (state.decided !== FLOW_UNDECIDED) {
      const blocked = state.decided === FLOW_BLOCKED;
      this.decide(this.decision(index, pkt, flow, direction, 'flow', blocked ? Verdict.BLOCK_FLOW : Verdict.ALLOW_FLOW, blocked), sources);
      return;
    }

    let match = state.match[direction];
    if (match === undefined) {
      match = this.matcher.match(pkt);
      state.match[direction] = match;
    }
    if (match.action !== 'inspect' || this.modules.length === 0) {
      const dropped = match.action === 'drop';
      const d = this.decision(index, pkt, flow, direction, match.rule ? 'rule' : 'default', dropped ? Verdict.DROP : Verdict.PASS, dropped);
      d.rule = match.rule;
      d.ruleAction = match.action;
      this.decide(d, sources);
      return;
    }

    const d = this.decision(index, pkt, flow, direction, 'module', Verdict.CONTINUE, false);
    d.rule = match.rule;
    d.ruleAction = 'inspect';
    const pendingIndex = this.pending.length;
    this.pending.push({ decision: d, sources, state });
    this.counters.inspected++;
    state.inspected++;

    const { stream, streamNew, gap } = this.feedStream(state, pkt, direction);
    const names = match.rule && match.rule.modules.length > 0 ? match.rule.modules : null;
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
      this.moduleItems[m]!.push({ pkt, flowId: flow.id, direction, flags, stream, streamNew });
      this.moduleOwners[m]!.push(pendingIndex);
      d.modules.push({ module: this.modules[m]!.name, verdict: Verdict.CONTINUE, ttl: 0, alerts: [], events: [], failure: null });
    }
    if (d.modules.length === 0) {
      // Every module this rule names is done with the flow: nothing left to inspect.
      state.decided = FLOW_ALLOWED;
      state.decidedBy = 'modules done';
    }
    if (this.pending.length >= this.batchSize) this.flush();
  }

  private feedStream(state: FlowState, pkt: DecodedPacket, direction: 0 | 1): { stream: Uint8Array | null; streamNew: number; gap: boolean } {
    if (pkt.proto !== IpProto.TCP || pkt.l4Offset < 0) return { stream: null, streamNew: 0, gap: false };
    if (state.streams === null) state.streams = new TcpStreamPair(this.streamDepth);
    const added = state.streams.pushPacket(pkt, direction);
    const s = state.streams.stream(direction);
    // Only a packet that released new in-order bytes carries the stream: modules
    // then see each byte of the stream once as "new".
    if (added === 0) return { stream: null, streamNew: 0, gap: s.hasGap };
    return { stream: s.bytes(), streamNew: added, gap: s.hasGap };
  }

  private runModules(): void {
    for (let m = 0; m < this.modules.length; m++) {
      const items = this.moduleItems[m]!;
      if (items.length === 0) continue;
      const owners = this.moduleOwners[m]!;
      const mod = this.modules[m]!;
      const out = this.outputs[m]!;
      if (out.verdicts.length < items.length) {
        out.verdicts = new Uint8Array(items.length);
        out.verdictArgs = new Uint16Array(items.length);
      }
      out.verdicts.fill(0, 0, items.length);
      out.verdictArgs.fill(0, 0, items.length);
      out.alerts.length = 0;
      out.events.length = 0;
      let failure: string | null = null;
      try {
        mod.instance.inspect(items, items.length, out);
      } catch (e) {
        failure = e instanceof Error ? e.message : String(e);
        this.counters.moduleFailures++;
        const v = (mod.policy ?? 'fail-closed') === 'fail-open' ? Verdict.PASS : Verdict.DROP;
        out.verdicts.fill(v, 0, items.length);
        out.alerts.length = 0;
        out.events.length = 0;
      }
      for (let i = 0; i < items.length; i++) {
        const run = this.runFor(this.pending[owners[i]!]!.decision, mod.name);
        run.verdict = out.verdicts[i]! as Verdict;
        run.ttl = out.verdictArgs[i]! || this.defaultTtl;
        run.failure = failure;
      }
      for (const a of out.alerts) this.runFor(this.pending[owners[a.index]!]!.decision, mod.name).alerts.push(a);
      for (const ev of out.events) this.runFor(this.pending[owners[ev.index]!]!.decision, mod.name).events.push(ev);
      items.length = 0;
      owners.length = 0;
    }
  }

  private runFor(d: PacketDecision, module: string): ModuleRun {
    for (const r of d.modules) if (r.module === module) return r;
    throw new SecuxflowError('E_INTERNAL', `no run of module ${module} recorded for packet ${d.index}`);
  }

  private combine(p: Pending): void {
    const { decision: d, state } = p;
    if (state.decided === FLOW_BLOCKED) {
      // An earlier packet of this batch blocked the flow: the kernel would have dropped this one.
      d.stage = 'flow';
      d.verdict = Verdict.BLOCK_FLOW;
      d.dropped = true;
      this.decide(d, p.sources);
      return;
    }
    let verdict: Verdict = Verdict.ALLOW_FLOW;
    let blockTtl = 0;
    for (const run of d.modules) {
      if (VERDICT_RANK[run.verdict]! > VERDICT_RANK[verdict]!) verdict = run.verdict;
      if (run.verdict === Verdict.BLOCK_SRC && run.ttl > blockTtl) blockTtl = run.ttl;
      if (run.verdict === Verdict.ALLOW_FLOW) state.moduleState[this.moduleIndex.get(run.module)!] = 2;
      if (run.alerts.length > 0) state.alerted = true;
    }
    if (d.modules.length === 0) verdict = Verdict.ALLOW_FLOW;
    if (verdict === Verdict.BLOCK_SRC) {
      this.penalty.block(d.pkt.src, this.nowSec, blockTtl || this.defaultTtl);
      state.decided = FLOW_BLOCKED;
      state.decidedBy = 'BLOCK_SRC';
    } else if (verdict === Verdict.BLOCK_FLOW) {
      state.decided = FLOW_BLOCKED;
      state.decidedBy = 'BLOCK_FLOW';
    } else if (this.allModulesDone(d, state)) {
      state.decided = FLOW_ALLOWED;
      state.decidedBy = 'ALLOW_FLOW';
    } else if (state.inspected >= this.maxInspect) {
      state.decided = this.capPolicy === 'allow' ? FLOW_ALLOWED : FLOW_BLOCKED;
      state.decidedBy = 'inspection cap';
    }
    d.verdict = verdict;
    d.dropped = dropsPacket(verdict);
    state.lastVerdict = verdict;
    this.decide(d, p.sources);
  }

  private allModulesDone(d: PacketDecision, state: FlowState): boolean {
    const names = d.rule && d.rule.modules.length > 0 ? d.rule.modules : null;
    for (let m = 0; m < this.modules.length; m++) {
      if (names !== null && !names.includes(this.modules[m]!.name)) continue;
      if (state.moduleState[m] !== 2) return false;
    }
    return true;
  }

  private decision(index: number, pkt: DecodedPacket, flow: Flow | null, direction: 0 | 1, stage: DecisionStage, verdict: Verdict, dropped: boolean): PacketDecision {
    return { index, pkt, sources: [pkt], flow, direction, stage, rule: null, ruleAction: null, modules: [], verdict, dropped };
  }

  private decide(d: PacketDecision, sources: DecodedPacket[]): void {
    const c = this.counters;
    const n = sources.length;
    if (d.dropped) c.drop += n;
    else c.pass += n;
    c.byStage[d.stage] += n;
    c.byVerdict[VERDICT_NAMES[d.verdict]!]! += n;
    for (const run of d.modules) {
      for (const a of run.alerts) {
        c.alerts++;
        const key = `${run.module}:${a.sigId}`;
        const entry = c.alertsBySignature.get(key);
        if (entry) entry.count++;
        else c.alertsBySignature.set(key, { sigId: a.sigId, message: a.message, count: 1 });
      }
      c.events += run.events.length;
    }
    d.sources = sources;
    this.onDecision?.(d);
  }

  private takeHeldFragments(last: DecodedPacket): DecodedPacket[] {
    const taken = this.removeHeld((f) => sameDatagram(f, last));
    taken.push(last);
    return taken;
  }

  /** The reassembler gave up a datagram (timeout, memory, oversize): its held fragments are decided now. */
  private releaseFragments(d: DroppedDatagram): void {
    const freed = this.heldFragments.filter((h) => h.pkt.ipVersion === d.ipVersion && h.pkt.fragment!.id === d.id
      && (h.pkt.vlans[0] ?? 0) === d.vlan && sameBytes(h.pkt.src, d.src) && sameBytes(h.pkt.dst, d.dst));
    if (freed.length === 0) return;
    this.heldFragments = this.heldFragments.filter((h) => !freed.includes(h));
    for (const held of freed) {
      // A datagram that never completed cannot be inspected; an inline IPS would not forward it either.
      this.counters.fragmentsIncomplete++;
      this.decide(this.decision(held.index, held.pkt, null, 0, 'fragment', Verdict.DROP, true), [held.pkt]);
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
        decided: FLOW_UNDECIDED, decidedBy: '', match: [undefined, undefined],
        moduleState: new Uint8Array(this.modules.length), streams: null,
        inspected: 0, lastVerdict: Verdict.PASS, alerted: false,
      };
      flow.engine = s;
      this.counters.flows++;
    }
    return s;
  }

  private expireIdle(): void {
    this.lastExpire = this.nowSec;
    const ended = this.flows.expire(this.nowSec);
    if (ended.length > 0) {
      this.flush();
      this.endFlows(ended);
    }
    this.defrag.expire(this.nowSec);
  }

  private endFlows(ended: FlowEnd[]): void {
    if (ended.length === 0) return;
    for (const { flow, reason } of ended) {
      const s = flow.engine as FlowState | undefined;
      if (s) {
        for (let m = 0; m < this.modules.length; m++) {
          if (s.moduleState[m] !== 0) this.modules[m]!.instance.flowEnded(flow.id);
        }
      }
      const verdict = !s ? 'pass'
        : s.decided === FLOW_ALLOWED ? 'allow_flow'
        : s.decided === FLOW_BLOCKED ? (s.decidedBy === 'BLOCK_SRC' ? 'block_src' : 'block_flow')
        : VERDICT_NAMES[s.lastVerdict]!.toLowerCase();
      this.onFlowEnd?.({ flow, reason, verdict, alerted: s?.alerted ?? false });
    }
  }
}

/** Fragments of one datagram share id, addresses, VLAN and (IPv4) protocol. */
function sameDatagram(a: DecodedPacket, b: DecodedPacket): boolean {
  return a.ipVersion === b.ipVersion && a.fragment!.id === b.fragment!.id && (a.vlans[0] ?? 0) === (b.vlans[0] ?? 0)
    && (a.ipVersion === 6 || a.fragment!.nextHeader === b.fragment!.nextHeader)
    && sameBytes(a.src, b.src) && sameBytes(a.dst, b.dst);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
