// What the engine reports: per-packet decisions (for the dry-run decision path
// and --write-dropped) and events (EVE JSON).
import type { DecodedPacket } from '../packet/types.js';
import type { Flow, FlowEndReason } from '../flow/types.js';
import type { Rule, RuleAction } from '../rules/types.js';
import type { Verdict } from '../verdict.js';
import type { ModuleAlert, ModuleEvent, ModuleEventKind } from '../wasm/instance.js';
import type { ChecksumCounters } from './checksums.js';

/** Where the final decision for a packet was taken, in the kernel's stage order. */
export type DecisionStage =
  | 'non-ip'     // not subject to rules
  | 'invalid'    // dropped before the rules: DecodedPacket.invalid
  | 'penalty'    // source in the penalty box
  | 'flow'       // flow already decided (ALLOW_FLOW / BLOCK_FLOW)
  | 'rule'       // a rule's pass/drop
  | 'default'    // the default policy's pass/drop
  | 'module'     // inspected by modules
  | 'fragment'   // an IP fragment whose datagram never completed
  | 'memcap'     // a TCP segment the stream memory cap had no room for
  | 'resent'     // TCP bytes the modules kept dropping, resent yet again (dropped without them)
  | 'overlap';   // a TCP segment differing from bytes held past a hole (dropped: the receiver keeps the inspected copy)

export interface ModuleRun {
  module: string;
  verdict: Verdict;
  /** BLOCK_SRC ttl in seconds (after the module default applied). */
  ttl: number;
  alerts: ModuleAlert[];
  events: ModuleEvent[];
  /** Set when the module failed and its failure policy decided instead. */
  failure: string | null;
}

export interface PacketDecision {
  /** Index of the frame in the source, 0-based. */
  index: number;
  pkt: DecodedPacket;
  /** The captured frames behind pkt: [pkt], or every fragment of a reassembled datagram. */
  sources: DecodedPacket[];
  flow: Flow | null;
  direction: 0 | 1;
  stage: DecisionStage;
  /** The rule that matched, null for the default policy or stages before rules. */
  rule: Rule | null;
  ruleAction: RuleAction | null;
  modules: ModuleRun[];
  /** Combined verdict of the modules (or the stage's own) and whether the packet is delivered. */
  verdict: Verdict;
  dropped: boolean;
  /** Packets of the flow handed to modules so far, this one included; 0 when this one was not. */
  inspected: number;
}

export interface FlowRecord {
  flow: Flow;
  reason: FlowEndReason;
  verdict: string;
  /** True when a module raised an alert on one of the flow's packets. */
  alerted: boolean;
  /** Set once onFlowEnd has had the record: module output for it arrives late. */
  out?: boolean;
}

/**
 * What one module emitted from on_flow_end: it belongs to the flow, not to a
 * packet. It may arrive after the flow's own record (a sandboxed module's
 * flow ends are answered with its next batch).
 */
export interface FlowOutput {
  record: FlowRecord;
  module: string;
  alerts: readonly ModuleAlert[];
  events: readonly ModuleEvent[];
  /** onFlowEnd already had the flow's record. */
  late: boolean;
}

export interface EngineCounters {
  packetsRead: number;
  packetsDecoded: number;
  malformed: number;
  /** Malformed packets by the decoder's name for the fault (ipv4.hlen_too_small...), as Suricata counts decoder events. */
  malformedByEvent: Map<string, number>;
  nonIp: number;
  fragments: number;
  datagramsReassembled: number;
  fragmentsIncomplete: number;
  pass: number;
  drop: number;
  inspected: number;
  byStage: Record<DecisionStage, number>;
  byVerdict: Record<string, number>;
  alerts: number;
  /** Per "module:sid", up to MAX_TRACKED_SIGNATURES pairs. */
  alertsBySignature: Map<string, { sigId: number; message: string; count: number }>;
  /** Alerts of pairs that arrived after alertsBySignature was full: counted in alerts, not per signature. */
  alertsUntracked: number;
  events: number;
  /** Protocol events per kind (dns, tls, http, ssh, other): the transactions the modules reported. */
  eventsByKind: Record<ModuleEventKind, number>;
  flows: number;
  /** Failed module calls: a batch (its packets are in moduleFailurePackets) or an on_flow_end. */
  moduleFailures: number;
  /** Packets whose verdict a failed batch call left to the module's failure policy: every packet of that batch, not only the one it failed on. */
  moduleFailurePackets: number;
  /** Verdict bytes outside 0..5 the modules returned during this run: each was treated as CONTINUE. */
  verdictErrors: number;
  /** What the modules raised over their output budgets (or where no batch takes it), during this run: reached no output. */
  alertsDropped: number;
  eventsDropped: number;
  logsDropped: number;
  /** BLOCK_SRC verdicts not applied because the penalty box was full of live entries (as the kernel's sf_penalty refuses them). */
  penaltyFull: number;
  /** BLOCK_SRC verdicts on a `never_block` source: its flow was blocked instead (never-block.ts). */
  penaltySpared: number;
  /** Bad IPv4 header and TCP checksums: those packets were not reassembled nor allowed to move the TCP state. */
  checksums: ChecksumCounters;
  reassembly: ReassemblyCounters;
}

/**
 * Where the engine's memory bounds stand (docs/live.md, "Resource bounds"):
 * what is held now against its bound, and what each bound has refused or
 * evicted since the engine was built.
 */
export interface EngineBounds {
  flows: number;
  flowsMax: number;
  /** Flows ended to make room for a new one at flowsMax. */
  flowsEvicted: number;
  streamBytes: number;
  streamMemcap: number;
  /** Segments dropped uninspected because the stream memory was at its cap. */
  streamMemcapDrops: number;
  /** Fragment copies waiting for their datagram, and the bytes the defragmenter counts for them. */
  fragmentsHeld: number;
  defragBytes: number;
  defragBytesMax: number;
  /** Incomplete datagrams given up at the bound: their fragments were dropped. */
  datagramsEvicted: number;
  penaltySources: number;
  /** BLOCK_SRC verdicts the full penalty box could not apply in the engine. */
  penaltyFull: number;
  /** BLOCK_SRC verdicts on a `never_block` source, which blocked its flow instead. */
  penaltySpared: number;
  /** Segments and fragments with a bad checksum kept out of reassembly and the TCP state (insertion decoys, or corruption). */
  checksumsRefused: number;
}

/**
 * What reassembly met that an evader uses (docs/reassembly.md). Streams are
 * added up when their flow ends; the defragmenter's counts are current.
 */
export interface ReassemblyCounters {
  /** TCP segments that re-sent held bytes with different contents: the first copy was inspected. */
  streamOverlapConflicts: number;
  /** TCP payload bytes past the stream depth: not inspected. */
  streamBytesBeyondDepth: number;
  /** SYNs that could not move a stream already anchored, and SYN data the receiver did not take. */
  synIgnored: number;
  /** RSTs whose sequence number the receiver would not accept: they did not end the flow. */
  rstIgnored: number;
  /** FINs out of sequence: they did not close the flow. */
  finIgnored: number;
  /** Fragments whose bytes differ from bytes of the datagram already held. */
  fragmentOverlapConflicts: number;
  /** Incomplete datagrams given up to stay within the defragmenter's memory bounds: their fragments were dropped uninspected. */
  datagramsEvicted: number;
  /** TCP segments dropped uninspected because stream buffers had reached the engine's stream memory cap. */
  streamMemcapDrops: number;
  /** TCP segments resending bytes a module's DROP kept from the receiver: handed to the modules again as new stream bytes. */
  droppedBytesResent: number;
}
