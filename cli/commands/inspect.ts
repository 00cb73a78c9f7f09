// `secuxflow inspect`: a dry-run packet built from flags, or a capture file,
// through the rules and the inspector modules.
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { action, printJson } from '../action.js';
import { describePacket, table, thousands } from '../format.js';
import { SecuxflowError } from '../../host/errors.js';
import { printable } from '../../host/text.js';
import { buildDryRunPacket, runDryRun, type DryRunPacketArgs } from '../../host/engine/dry-run.js';
import { runCapture, type CaptureRunResult } from '../../host/engine/capture-run.js';
import { loadModules, resolveRules, type RuleSource } from '../../host/engine/setup.js';
import { MAX_TRACKED_SIGNATURES, type EngineModule } from '../../host/engine/engine.js';
import { MAX_PENALTY_SOURCES } from '../../host/engine/penalty-box.js';
import { MAX_STREAM_DEPTH, MIN_STREAM_MEMCAP, ZERO_STREAM_DEPTH_HINT } from '../../host/flow/stream.js';
import { SF } from '../../host/kernel/codec.js';
import { parseByteSize } from '../size.js';
import { compileFilter } from '../../host/capture/filter.js';
import { isStandardOutput } from '../../host/engine/output-paths.js';
import type { FlowOutput, PacketDecision } from '../../host/engine/types.js';
import type { ModuleAlert, ModuleEvent } from '../../host/wasm/types.js';
import { VERDICT_NAMES } from '../../host/verdict.js';
import type { RuleSet } from '../../host/rules/types.js';
import { refuseStateFileOutputs } from '../../host/state/own-files.js';
import { registeredModuleNames } from '../../host/modules/resolve.js';
import { parseNeverBlock } from '../../host/engine/never-block.js';

export interface InspectOptions extends Partial<DryRunPacketArgs> {
  pcap?: string;
  rules?: string;
  module?: string[];
  moduleConfig?: string[];
  eve?: string;
  writeDropped?: string;
  json?: boolean;
  stateDir?: string;
  kernel?: boolean;
  progress?: boolean;
  /** Run modules in the main thread, without the sandbox's CPU budget: for trusted modules and benchmarks. */
  unsafeInThread?: boolean;
  /** --pcap: a tcpdump filter; only the packets it matches are read. */
  filter?: string;
  /** --pcap: in-order TCP bytes kept per direction for modules: bytes, or text such as "1MiB". */
  streamDepth?: number | string;
  /** --pcap: bytes all stream buffers may hold together: bytes, or text such as "64MiB". */
  streamMemcap?: number | string;
  /** --pcap: CIDRs no BLOCK_SRC puts in the penalty box (the daemon's never_block). */
  neverBlock?: string[];
}

const DRY_RUN_FLAGS: [keyof InspectOptions, string][] = [
  ['ip', '--ip'], ['src', '--src'], ['port', '--port'], ['sport', '--sport'], ['proto', '--proto'],
  ['payload', '--payload'], ['payloadHex', '--payload-hex'], ['vlan', '--vlan'],
];

/** --stream-depth: 1 byte to MAX_STREAM_DEPTH; 0 is refused (ZERO_STREAM_DEPTH_HINT says why). */
function parseStreamDepth(text: string): number {
  if (parseByteSize('--stream-depth', text, 0, Number.MAX_SAFE_INTEGER) === 0) {
    throw usage(`--stream-depth ${text}: 0 would give TCP modules no stream bytes`, ZERO_STREAM_DEPTH_HINT);
  }
  return parseByteSize('--stream-depth', text, 1, MAX_STREAM_DEPTH);
}

function usage(message: string, hint?: string): SecuxflowError {
  return new SecuxflowError('E_USAGE', message, hint);
}

/** --module-config NAME=FILE: each module's config text, and the file it came from. */
function parseModuleConfigs(list: string[] | undefined): { configs: Map<string, string>; files: Map<string, string> } {
  const out = new Map<string, string>();
  const files = new Map<string, string>();
  for (const item of list ?? []) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw usage(`--module-config ${JSON.stringify(item)}: expected NAME=FILE`, 'name the module the file configures, e.g. --module-config threat_intel=iocs.txt');
    const name = item.slice(0, eq);
    const file = item.slice(eq + 1);
    // A module takes one config: a second one for it would silently replace
    // the first (half of someone's IOC lists, say), so which is meant is a guess.
    const first = files.get(name);
    if (first !== undefined) {
      throw usage(`--module-config ${name} is given twice (${first}, ${file}): a module takes one configuration file`,
        `merge them into one file and give --module-config ${name}=FILE once`);
    }
    files.set(name, file);
    try {
      out.set(name, readFileSync(file, 'utf8'));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const what = code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'is not readable (permission denied)' : `cannot be read: ${code ?? (e as Error).message}`;
      throw new SecuxflowError('E_IO', `--module-config ${name}: the config file ${file} ${what}`, `give ${name}=FILE with the path of its JSON or YAML config`);
    }
  }
  return { configs: out, files };
}

async function prepare(opts: InspectOptions): Promise<{ rules: RuleSource; modules: EngineModule[] }> {
  const rules = resolveRules(opts.rules, opts.stateDir);
  const { configs, files } = parseModuleConfigs(opts.moduleConfig);
  const modules = await loadModules(opts.module ?? [], {
    configs,
    configFiles: files,
    forRules: rules.set,
    ...(opts.stateDir !== undefined ? { stateDir: opts.stateDir } : {}),
    unsafeInThread: opts.unsafeInThread === true,
  });
  for (const name of configs.keys()) {
    if (!modules.some((m) => m.name === name)) throw usage(`--module-config ${name}: no module of that name is loaded`, notLoadedHint(name, modules));
  }
  return { rules, modules };
}

/**
 * A config does not load its module: the modules that need one (threat_intel,
 * ratelimit) are not in the default set, and --module replaces that set.
 */
function notLoadedHint(name: string, modules: EngineModule[]): string {
  const loaded = modules.map((m) => m.name).join(', ') || 'none';
  return `add --module ${name} to load it (a config does not load its module; loaded here: ${loaded})`;
}

export interface DryRunReport {
  packet: string;
  rules: { origin: string; count: number; defaultPolicy: string };
  rule: { id: number; priority: number; action: string; comment: string } | null;
  stage: string;
  modules: { module: string; verdict: string; ttl: number; failure: string | null; alerts: ReportAlert[]; events: ReportEvent[] }[];
  /** What modules raised when the packet's flow ended (after this one packet). */
  flow_end: { module: string; alerts: ReportAlert[]; events: ReportEvent[] }[];
  verdict: string;
  dropped: boolean;
  /** What the user may not have meant, e.g. a --payload holding "\\r\\n" as typed. */
  notes: string[];
  kernel?: KernelReport;
}

interface ReportAlert { signature_id: number; severity: number; signature: string; metadata: unknown }
interface ReportEvent { kind: string; data: unknown }

const reportAlerts = (alerts: readonly ModuleAlert[]): ReportAlert[] =>
  alerts.map((a) => ({ signature_id: a.sigId, severity: a.severity, signature: a.message, metadata: a.metadata }));
const reportEvents = (events: readonly ModuleEvent[]): ReportEvent[] => events.map((e) => ({ kind: e.kind, data: e.data }));

export interface KernelReport {
  /** XDP return code of the real program under BPF_PROG_TEST_RUN. */
  xdp_action: string;
  action: string;
  rule_id: number | null;
  stage: string;
  /** Whether the kernel's rule decision (action and rule) equals the engine's. */
  agrees: boolean;
  summary: string;
}

/**
 * Registered modules a run without --module left out: it runs the shipped
 * set, while `run` runs the registry, so an author's module silently not
 * running looked like a module that found nothing.
 */
function notRunNote(names: readonly string[]): string {
  return `registered module${names.length === 1 ? '' : 's'} ${names.join(', ')}: inspect runs the shipped set unless --module names others (--module ${names[0]}); run uses the registry`;
}

function registeredNotRun(opts: InspectOptions, modules: readonly EngineModule[]): string[] {
  if ((opts.module ?? []).length > 0) return [];
  const loaded = new Set(modules.map((m) => m.name));
  return registeredModuleNames(opts.stateDir).filter((n) => !loaded.has(n));
}

/** Runs one dry-run packet; the same function backs the CLI and programmatic use. */
export async function inspectPacket(opts: InspectOptions): Promise<DryRunReport> {
  if (opts.ip === undefined) throw usage('--ip is required for a dry-run packet', 'or give --pcap FILE to inspect a capture');
  if (opts.proto === undefined) throw usage('--proto is required for a dry-run packet (tcp, udp or icmp)');
  for (const [key, flag] of [['eve', '--eve'], ['writeDropped', '--write-dropped'], ['streamDepth', '--stream-depth'], ['streamMemcap', '--stream-memcap'], ['filter', '--filter'], ['neverBlock', '--never-block']] as const) {
    if (opts[key] !== undefined) throw usage(`${flag} only applies to --pcap runs`);
  }
  const pkt = buildDryRunPacket(opts as DryRunPacketArgs);
  const { rules, modules } = await prepare(opts);
  const { decision: d, flowEnd, verdictErrors } = runDryRun(pkt, rules.set, modules);
  const report = dryRunReport(d, flowEnd, rules);
  for (const e of verdictErrors) {
    report.notes.push(`module ${e.module} wrote a verdict outside 0..5, which the host took as CONTINUE: `
      + "write 0 CONTINUE, 1 PASS, 2 ALLOW_FLOW, 3 DROP, 4 BLOCK_FLOW or 5 BLOCK_SRC into each meta record's VERDICT byte (docs/abi/v1.md section 6)");
  }
  const escapes = opts.payload !== undefined ? typedEscapes(opts.payload) : [];
  if (escapes.length > 0) {
    report.notes.push(`--payload is taken as typed: ${escapes.join(' ')} stayed a backslash and a letter, not a control byte; `
      + `in bash write --payload $'GET / HTTP/1.1\\r\\n\\r\\n', or give the bytes with --payload-hex`);
  }
  if (report.stage === 'module' && pkt.data.length > SF.PUNT_MAX_FRAME) report.notes.push(tooLongToPunt(pkt.data.length));
  if (modules.length > 0 && report.modules.length === 0 && (report.stage === 'rule' || report.stage === 'default')) {
    report.notes.push(`no module ran: ${report.rule ? `rule ${report.rule.id} decides ${report.rule.action}` : `no rule matched and the default policy is ${report.rules.defaultPolicy}`}, `
      + 'so the packet is not sent to inspection (a rule with --action inspect or secuxflow rule default inspect sends it; --rules FILE runs other rules)');
  }
  const notRun = registeredNotRun(opts, modules);
  if (notRun.length > 0) report.notes.push(notRunNote(notRun));
  if (opts.kernel) report.kernel = await kernelVerdict(pkt.data, rules.set, report);
  return report;
}

/**
 * The dry run inspects a frame of any length, but the XDP program punts none
 * longer than an AF_XDP frame holds: such a frame never reaches the modules
 * of `secuxflow run` (README, Limits), so what they said here is not what
 * happens live.
 */
function tooLongToPunt(bytes: number): string {
  return `the frame is ${thousands(bytes)} bytes, longer than the ${thousands(SF.PUNT_MAX_FRAME)} the XDP program hands to the daemon: `
    + 'live, these modules would not see it, and the attachment\'s fail mode would pass it (open) or drop it (closed) uninspected';
}

/**
 * Backslash escapes typed into --payload (\r, \n, \t, \0, \xHH), which a
 * shell's double quotes pass on as two characters: a request written that way
 * has no line end, so an HTTP inspector waits for more and reports nothing.
 */
function typedEscapes(text: string): string[] {
  return [...new Set(text.match(/\\(?:[rnt0]|x[0-9a-fA-F]{2})/g) ?? [])];
}

/** The same packet through the real XDP program (BPF_PROG_TEST_RUN): needs root and the built addon. */
async function kernelVerdict(frame: Uint8Array, rules: RuleSet, engine: DryRunReport): Promise<KernelReport> {
  const { KernelTestBench } = await import('../../host/kernel/testrun.js');
  const bench = new KernelTestBench();
  try {
    bench.setRules(rules);
    const r = bench.run(frame);
    const engineAction = engine.stage === 'non-ip' ? 'pass' : engine.rule ? engine.rule.action : engine.rules.defaultPolicy;
    const engineRule = engine.rule ? engine.rule.id : null;
    const agrees = r.action === engineAction && r.ruleId === engineRule;
    const by = r.ruleId !== null ? `rule ${r.ruleId}` : `stage ${r.stage}`;
    const punt = r.action === 'inspect' ? ' (no AF_XDP socket is bound in a test run, so the fail-open fallback passed it)' : '';
    return {
      xdp_action: r.xdpAction,
      action: r.action,
      rule_id: r.ruleId,
      stage: r.stage,
      agrees,
      summary: `XDP_${r.xdpAction.toUpperCase()}: ${r.action} by ${by}${punt}; ${agrees ? 'agrees with the engine' : `DISAGREES with the engine (${engineAction} by ${engineRule === null ? 'no rule' : `rule ${engineRule}`})`}`,
    };
  } finally {
    bench.close();
  }
}

function dryRunReport(d: PacketDecision, flowEnd: FlowOutput[], rules: RuleSource): DryRunReport {
  return {
    packet: describePacket(d.pkt),
    rules: { origin: rules.origin, count: rules.set.rules.length, defaultPolicy: rules.set.defaultPolicy },
    rule: d.rule ? { id: d.rule.id, priority: d.rule.priority, action: d.rule.action, comment: d.rule.comment } : null,
    stage: d.stage,
    modules: d.modules.map((r) => ({
      module: r.module,
      verdict: VERDICT_NAMES[r.verdict]!,
      ttl: r.ttl,
      failure: r.failure,
      alerts: reportAlerts(r.alerts),
      events: reportEvents(r.events),
    })),
    flow_end: flowEnd.map((o) => ({ module: o.module, alerts: reportAlerts(o.alerts), events: reportEvents(o.events) })),
    verdict: VERDICT_NAMES[d.verdict]!,
    dropped: d.dropped,
    notes: [],
  };
}

const VERDICT_MEANING: Record<string, string> = {
  CONTINUE: 'the packet passes; the flow stays under inspection',
  PASS: 'the packet passes',
  ALLOW_FLOW: 'the packet passes; the rest of the flow is allowed without inspection',
  DROP: 'the packet is dropped',
  BLOCK_FLOW: 'the packet is dropped; the rest of the flow is blocked',
  BLOCK_SRC: 'the packet is dropped; its source is blocked for the module\'s ttl',
};

/** Alert and event text is the module's: escaped, so it cannot drive the terminal or fake a line. */
function outputLines(lines: string[], m: { alerts: ReportAlert[]; events: ReportEvent[] }): void {
  for (const a of m.alerts) lines.push(`    alert sid ${a.signature_id} severity ${a.severity}: ${printable(a.signature)}`);
  for (const e of m.events) lines.push(`    ${printable(e.kind)} ${printable(JSON.stringify(e.data))}`);
}

function printDryRun(r: DryRunReport): void {
  const lines: string[] = [];
  lines.push(`packet   ${r.packet}`);
  lines.push(`rules    ${r.rules.origin}: ${r.rules.count} rule${r.rules.count === 1 ? '' : 's'}, default policy ${r.rules.defaultPolicy}`);
  if (r.stage === 'non-ip') lines.push('  match  not an IP packet: rules do not apply');
  else if (r.rule) lines.push(`  match  rule ${r.rule.id} (priority ${r.rule.priority}) -> ${r.rule.action}${r.rule.comment ? `  "${r.rule.comment}"` : ''}`);
  else lines.push(`  match  no rule matched: default policy -> ${r.rules.defaultPolicy}`);
  if (r.modules.length === 0) {
    lines.push('modules  none ran');
  } else {
    lines.push('modules');
    for (const m of r.modules) {
      const ttl = m.verdict === 'BLOCK_SRC' ? ` (ttl ${m.ttl}s)` : '';
      lines.push(`  ${m.module.padEnd(16)} ${m.verdict}${ttl}${m.failure ? `  FAILED: ${printable(m.failure)}` : ''}`);
      outputLines(lines, m);
    }
  }
  if (r.flow_end.length > 0) {
    lines.push('flow end (the flow ends after this one packet)');
    for (const m of r.flow_end) {
      lines.push(`  ${m.module}`);
      outputLines(lines, m);
    }
  }
  if (r.kernel !== undefined) lines.push(`kernel   ${r.kernel.summary}`);
  for (const n of r.notes) lines.push(`note     ${printable(n)}`);
  lines.push(`final    ${r.verdict}: ${VERDICT_MEANING[r.verdict] ?? (r.dropped ? 'dropped' : 'passes')}`);
  process.stdout.write(lines.join('\n') + '\n');
}

export interface CaptureReport extends Omit<CaptureRunResult, 'counters' | 'error' | 'unsupportedLinkTypes' | 'timestampsOutOfRange'> {
  /** Link types the decoder does not know, with how many frames had each (all counted as malformed). */
  unsupportedLinkTypes: { linkType: number; packets: number }[];
  pcap: string;
  rules: string;
  modules: string[];
  counters: Record<string, unknown>;
  alertsBySignature: { module: string; signature_id: number; signature: string; count: number }[];
  error: { code: string; message: string; hint?: string; offset?: number } | null;
  /** --filter as given, or null. */
  filter: string | null;
  /** Registered modules this run did not load (inspect runs the shipped set unless --module names others). */
  registeredNotRun: string[];
}

/** Runs a capture file; returns the summary (also used programmatically). */
export async function inspectCapture(opts: InspectOptions, onProgress?: (done: number, total: number) => void): Promise<CaptureReport> {
  for (const [key, flag] of DRY_RUN_FLAGS) {
    if (opts[key] !== undefined) throw usage(`${flag} builds a dry-run packet and cannot be combined with --pcap`);
  }
  // Read before the modules load, so a typo costs no module compile.
  const streamDepth = opts.streamDepth === undefined ? undefined : parseStreamDepth(String(opts.streamDepth));
  const streamMemcap = opts.streamMemcap === undefined ? undefined : parseByteSize('--stream-memcap', String(opts.streamMemcap), MIN_STREAM_MEMCAP, Number.MAX_SAFE_INTEGER);
  const filter = opts.filter === undefined ? undefined : compileFilter(opts.filter);
  const neverBlock = opts.neverBlock === undefined ? undefined : parseNeverBlock(opts.neverBlock, '--never-block');
  refuseStateFileOutputs(opts.stateDir, [
    ...(opts.eve !== undefined ? [{ flag: '--eve', path: opts.eve }] : []),
    ...(opts.writeDropped !== undefined ? [{ flag: '--write-dropped', path: opts.writeDropped }] : []),
  ]);
  const { rules, modules } = await prepare(opts);
  const result = await runCapture({
    ...(filter !== undefined ? { filter } : {}),
    ...(streamDepth !== undefined ? { streamDepth } : {}),
    ...(streamMemcap !== undefined ? { streamMemcap } : {}),
    ...(neverBlock !== undefined ? { neverBlock } : {}),
    pcap: opts.pcap!,
    rules: rules.set,
    modules,
    ...(opts.eve !== undefined ? { eve: opts.eve } : {}),
    ...(opts.writeDropped !== undefined ? { writeDropped: opts.writeDropped } : {}),
    ...(onProgress ? { onProgress } : {}),
    onWaitingForReader: (flag, path) => process.stderr.write(printable(`secuxflow: ${flag} ${path} is a named pipe no one reads yet: waiting for its reader (for example: cat ${path})`) + '\n'),
  });
  const c = result.counters;
  const err = result.error;
  return {
    pcap: opts.pcap!,
    rules: rules.origin,
    modules: modules.map((m) => m.name),
    format: result.format,
    elapsedSec: result.elapsedSec,
    packetsPerSec: result.packetsPerSec,
    eveRecords: result.eveRecords,
    droppedWritten: result.droppedWritten,
    droppedSkipped: result.droppedSkipped,
    filter: opts.filter ?? null,
    registeredNotRun: registeredNotRun(opts, modules),
    filteredOut: result.filteredOut,
    unsupportedLinkTypes: [...result.unsupportedLinkTypes].map(([linkType, packets]) => ({ linkType, packets })),
    counters: {
      packets_read: c.packetsRead, decoded: c.packetsDecoded, malformed: c.malformed, malformed_by_event: Object.fromEntries(c.malformedByEvent), non_ip: c.nonIp,
      fragments: c.fragments, reassembled: c.datagramsReassembled, fragments_incomplete: c.fragmentsIncomplete,
      flows: c.flows, pass: c.pass, drop: c.drop, inspected: c.inspected, alerts: c.alerts, events: c.events, events_by_kind: c.eventsByKind,
      module_failures: c.moduleFailures, module_failure_packets: c.moduleFailurePackets, verdict_errors: c.verdictErrors, by_stage: c.byStage, by_verdict: c.byVerdict,
      alerts_untracked: c.alertsUntracked, alerts_dropped: c.alertsDropped, events_dropped: c.eventsDropped, logs_dropped: c.logsDropped,
      penalty_full: c.penaltyFull, penalty_spared: c.penaltySpared, timestamps_out_of_range: result.timestampsOutOfRange,
      checksums: { checked: c.checksums.checked, ipv4_bad: c.checksums.ipv4Bad, tcp_bad: c.checksums.tcpBad, refused: c.checksums.refused },
      reassembly: {
        stream_overlap_conflicts: c.reassembly.streamOverlapConflicts, stream_bytes_beyond_depth: c.reassembly.streamBytesBeyondDepth,
        syn_ignored: c.reassembly.synIgnored, rst_ignored: c.reassembly.rstIgnored, fin_ignored: c.reassembly.finIgnored, fragment_overlap_conflicts: c.reassembly.fragmentOverlapConflicts, datagrams_evicted: c.reassembly.datagramsEvicted,
        stream_memcap_drops: c.reassembly.streamMemcapDrops, dropped_bytes_resent: c.reassembly.droppedBytesResent,
      },
    },
    alertsBySignature: [...c.alertsBySignature.entries()]
      .map(([key, v]) => ({ module: key.slice(0, key.lastIndexOf(':')), signature_id: v.sigId, signature: v.message, count: v.count }))
      .sort((a, b) => b.count - a.count || a.signature_id - b.signature_id),
    error: err === null ? null : errorReport(err),
  };
}

function printCaptureSummary(r: CaptureReport, out: NodeJS.WriteStream): void {
  const c = r.counters as Record<string, number> & {
    by_stage: Record<string, number>; by_verdict: Record<string, number>; events_by_kind: Record<string, number>;
    malformed_by_event: Record<string, number>;
    checksums: { ipv4_bad: number; tcp_bad: number; refused: number };
    reassembly: Record<string, number>;
  };
  const ck = c.checksums, re = c.reassembly;
  const evasion = [
    [re.stream_overlap_conflicts, `TCP segments re-sent held bytes with other data (the first copy was inspected${c.by_stage.overlap ? `; ${thousands(c.by_stage.overlap)} differing from bytes held past a hole were dropped, so the receiver keeps the inspected copy (docs/reassembly.md)` : ''})`],
    [re.fragment_overlap_conflicts, 'IP fragments overlapped held bytes with other data (the first copy was inspected)'],
    [re.syn_ignored, 'SYNs or SYN data the receiver did not take'],
    [re.rst_ignored, 'RSTs with a sequence number the receiver ignores (the flow went on)'],
    [re.fin_ignored, 'FINs out of sequence (the flow went on)'],
    [re.dropped_bytes_resent, `TCP segments resent bytes a module had dropped (shown to the modules again, not passed as already inspected${c.by_stage.resent ? `; ${thousands(c.by_stage.resent)} dropped without them: shown 3 times already, too many dropped ranges, or no module left to judge them (docs/reassembly.md)` : ''})`],
    [c.by_stage.invalid ?? 0, 'packets dropped as invalid: first fragments too short for their TCP/UDP header, IPv6 header chains too long to walk or split across fragments, or frames with more than two VLAN tags (docs/rules.md)'],
  ].filter(([n]) => (n as number) > 0).map(([n, what]) => `${thousands(n as number)} ${what as string}`);
  const nz = (o: Record<string, number>) => Object.entries(o).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${thousands(v)}`).join(', ') || '-';
  // Most frequent first: the decoder's names for what was wrong (EVE anomaly records name each packet).
  const byCount = (o: Record<string, number>) => nz(Object.fromEntries(Object.entries(o).sort((a, b) => b[1] - a[1])));
  const rows = [
    ['capture', `${printable(r.pcap)} (${r.format})`],
    ...(r.filter !== null ? [['filter', `${printable(r.filter)}: ${thousands(c.packets_read)} packets matched, ${thousands(r.filteredOut)} left out (not read, not counted below)`]] : []),
    ['rules', r.rules],
    ['modules', r.modules.join(', ') || '-'],
    ...(r.registeredNotRun.length > 0 ? [['not run', notRunNote(r.registeredNotRun)]] : []),
    ['packets', `${thousands(c.packets_read)} read, ${thousands(c.decoded)} decoded, ${thousands(c.malformed)} malformed, ${thousands(c.non_ip)} non-IP`],
    ...(c.malformed > 0 ? [['malformed', byCount(c.malformed_by_event)]] : []),
    ['fragments', `${thousands(c.fragments)} fragments, ${thousands(c.reassembled)} datagrams reassembled, ${thousands(c.fragments_incomplete)} incomplete`],
    ['flows', thousands(c.flows)],
    ['actions', `pass ${thousands(c.pass)}, drop ${thousands(c.drop)} (inspected ${thousands(c.inspected)})`],
    // Stored rules without an inspect rule (a `rule clear` writes such a file) leave the modules idle: say so, not only "inspected 0".
    ...(r.modules.length > 0 && c.inspected === 0 && c.decoded > 0
      ? [['not inspected', 'no packet reached the modules: the rules send none to inspection (secuxflow rule list shows them; --rules FILE runs others, or secuxflow rule default inspect)']]
      : []),
    ['by stage', nz(c.by_stage)],
    ['by verdict', nz(c.by_verdict)],
    ['alerts', thousands(c.alerts)],
    ['protocol events', c.events > 0 ? `${thousands(c.events)}: ${nz(c.events_by_kind)}` : '0'],
    // Only when something went wrong: what the run's figures above do not explain.
    ...(c.module_failures > 0
      ? [['module failures', `${thousands(c.module_failures)} failed module call${c.module_failures === 1 ? '' : 's'} (a trap, the CPU budget or the memory limit; the log lines above name the module): `
        + `${thousands(c.module_failure_packets)} packet${c.module_failure_packets === 1 ? '' : 's'} got the module's failure policy, every packet of a failed call's batch, not only the one it failed on (docs/modules.md)`]]
      : []),
    ...(c.verdict_errors > 0
      ? [['invalid verdicts', `${thousands(c.verdict_errors)} verdict${c.verdict_errors === 1 ? '' : 's'} outside 0..5 returned by modules: each was treated as CONTINUE (docs/abi/v1.md)`]]
      : []),
    ...(c.alerts_dropped + c.events_dropped + c.logs_dropped > 0
      ? [['dropped by modules', `${thousands(c.alerts_dropped)} alerts, ${thousands(c.events_dropped)} events, ${thousands(c.logs_dropped)} log lines over their output budgets (docs/abi/v1.md, Limits)`]]
      : []),
    ...(c.alerts_untracked > 0 ? [['untracked alerts', `${thousands(c.alerts_untracked)} alerts of signatures past the first ${thousands(MAX_TRACKED_SIGNATURES)} module:sid pairs: counted, not listed below`]] : []),
    // Evasion attempts and limits that leave bytes uninspected (docs/reassembly.md).
    ...(ck.tcp_bad + ck.ipv4_bad > 0
      ? [['bad checksums', `${thousands(ck.tcp_bad)} TCP, ${thousands(ck.ipv4_bad)} IPv4 header: ${thousands(ck.refused)} kept out of reassembly and the TCP state, as the receiving host drops them${ck.tcp_bad + ck.ipv4_bad > ck.refused ? `; ${thousands(ck.tcp_bad + ck.ipv4_bad - ck.refused)} taken as data, from hosts that never sent a right one (checksum offload on the capturing host)` : ''}`]]
      : []),
    ...(evasion.length > 0 ? [['evasion signals', evasion.join('; ')]] : []),
    ...(re.stream_bytes_beyond_depth > 0 ? [['beyond depth', `${thousands(re.stream_bytes_beyond_depth)} TCP payload bytes past the stream depth were not inspected`]] : []),
    ...(re.stream_memcap_drops > 0 ? [['stream memcap', `${thousands(re.stream_memcap_drops)} TCP segments dropped uninspected: the stream buffers held --stream-memcap (docs/reassembly.md); a larger one, or a smaller --stream-depth, keeps them`]] : []),
    ...(re.datagrams_evicted > 0 ? [['defrag evicted', `${thousands(re.datagrams_evicted)} incomplete datagrams given up at the reassembly memory bound: their fragments were dropped uninspected`]] : []),
    ...(c.penalty_full > 0 ? [['penalty box full', `${thousands(c.penalty_full)} BLOCK_SRC verdicts not applied: the box held its ${thousands(MAX_PENALTY_SOURCES)} live sources`]] : []),
    ...(c.penalty_spared > 0 ? [['never blocked', `${thousands(c.penalty_spared)} BLOCK_SRC verdicts on --never-block sources blocked their flows instead`]] : []),
  ];
  let text = `secuxflow inspect summary\n${table(rows)}\n`;
  if (r.alertsBySignature.length > 0) {
    text += table([['sid', 'module', 'count', 'signature'], ...r.alertsBySignature.map((a) => [String(a.signature_id), a.module, String(a.count), printable(a.signature)])], '    ') + '\n';
  }
  text += table([['speed', `${thousands(c.packets_read)} packets in ${r.elapsedSec.toFixed(3)} s = ${thousands(r.packetsPerSec)} packets/s`]]) + '\n';
  if (r.eveRecords) text += table([['eve', `${thousands(r.eveRecords)} records`]]) + '\n';
  if (r.droppedWritten) text += table([['dropped', `${thousands(r.droppedWritten)} frames written`]]) + '\n';
  for (const u of r.unsupportedLinkTypes) {
    text += table([['warning', `${thousands(u.packets)} frames have link type ${u.linkType}, which secuxflow does not decode (it reads Ethernet, raw IP, Linux cooked SLL/SLL2 and BSD loopback): they count as malformed`]]) + '\n';
  }
  if (c.timestamps_out_of_range > 0) {
    text += table([['warning', `${thousands(c.timestamps_out_of_range)} records have a timestamp fraction of a second or more (a faulty clock or capture writer): read with the whole seconds carried into the seconds, the instant tshark gives them`]]) + '\n';
  }
  if (r.droppedSkipped) {
    text += table([['warning', `${thousands(r.droppedSkipped)} dropped frames of another link type were not written: use a .pcapng --write-dropped file to keep them`]]) + '\n';
  }
  out.write(text);
}

function progressBar(): (done: number, total: number) => void {
  return (done, total) => {
    if (total <= 0) return; // a pipe: its size is unknown
    const width = 30;
    const frac = total > 0 ? Math.min(1, done / total) : 0;
    const filled = Math.round(frac * width);
    process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}%  ${(done / 1048576).toFixed(1)} MiB`);
    if (frac >= 1) process.stderr.write('\n');
  };
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('run a dry-run packet (--ip ...) or a capture (--pcap FILE) through the rules and inspector modules')
    .option('--pcap <file>', 'inspect a pcap or pcapng capture (- or a pipe: read it as a stream)')
    .option('--ip <addr>', 'dry-run: destination address (IPv4 or IPv6)')
    .option('--src <addr>', 'dry-run: source address (default 198.18.0.1 or 2001:db8::1)')
    .option('--port <port>', 'dry-run: destination port (tcp/udp)')
    .option('--sport <port>', 'dry-run: source port (default 40000)')
    .option('--proto <proto>', 'dry-run: tcp, udp or icmp')
    .option('--payload <text>', 'dry-run: payload as text')
    .option('--payload-hex <hex>', 'dry-run: payload as hex bytes')
    .option('--vlan <id>', 'dry-run: 802.1Q VLAN tag')
    .option('--rules <file>', 'rule file (JSON or YAML); default: the stored rules, else inspect everything')
    .option('--module <name|file>', 'inspector module: a shipped name or a .wasm/.wat file (repeatable)', collect)
    .option('--module-config <name=file>', 'configuration file for a module (repeatable)', collect)
    .option('--eve <file|->', '--pcap: write EVE JSON events to a file, or - for stdout')
    .option('--write-dropped <file|->', '--pcap: write dropped frames to a pcap, or - for stdout')
    .option('--state-dir <dir>', 'state directory holding stored rules')
    .option('--kernel', 'dry-run: also run the packet through the real XDP program (BPF_PROG_TEST_RUN; root)')
    .option('--filter <expr>', '--pcap: read only packets matching a tcpdump filter (host, net, port, portrange, src, dst, ip, ip6, tcp, udp, icmp, icmp6, and/or/not)')
    .option('--stream-depth <size>', '--pcap: in-order TCP bytes kept per direction for modules (default 64KiB)')
    .option('--stream-memcap <size>', '--pcap: memory all stream buffers share; past it segments are dropped (default 256MiB)')
    .option('--never-block <cidr>', '--pcap: a network no BLOCK_SRC puts in the penalty box; its flow is blocked instead (repeatable)', collect)
    .option('--unsafe-in-thread', 'run modules in this thread without the sandbox (no CPU budget: trusted modules only)')
    .option('--no-progress', 'no progress bar')
    .option('--json', 'print the result as JSON')
    .action(action('inspect', async (opts: InspectOptions) => {
      if (opts.pcap === undefined) {
        if (opts.ip === undefined && opts.port === undefined && opts.proto === undefined) {
          throw usage('nothing to inspect: give --pcap FILE, or --ip ADDR --port PORT --proto tcp|udp|icmp for a dry-run packet');
        }
        const report = await inspectPacket(opts);
        if (opts.json) printJson(report);
        else printDryRun(report);
        return;
      }
      if (opts.kernel) throw usage('--kernel applies to dry-run packets, not --pcap');
      // `--eve /dev/stdout | jq`, or --eve naming the file stdout is redirected to, is stdout.
      if (opts.eve !== undefined && isStandardOutput(opts.eve)) opts.eve = '-';
      if (opts.writeDropped !== undefined && isStandardOutput(opts.writeDropped)) opts.writeDropped = '-';
      // An output on stdout (--eve -, --write-dropped -) keeps it to itself: the summary goes to stderr.
      const stdoutTaken = opts.eve === '-' || opts.writeDropped === '-';
      const summaryOut = stdoutTaken ? process.stderr : process.stdout;
      const showProgress = opts.progress !== false && process.stderr.isTTY && !opts.json;
      const report = await inspectCapture(opts, showProgress ? progressBar() : undefined);
      if (opts.json) {
        if (stdoutTaken) process.stderr.write(JSON.stringify(report, null, 2) + '\n');
        else printJson(report);
      } else {
        printCaptureSummary(report, summaryOut);
      }
      if (report.error) {
        // A corrupt capture stops the reading; a failed output (a full disk) only loses output.
        const after = report.error.code === 'E_CAPTURE'
          ? `everything before it was processed (${report.counters.packets_read} packets)`
          : `all ${report.counters.packets_read} packets were processed, but that output is incomplete`;
        const hint = report.error.hint ? `\n  hint: ${report.error.hint}` : '';
        process.stderr.write(`secuxflow inspect: error[${report.error.code}]: ${report.error.message}${hint}\n  ${after}\n`);
        process.exitCode = 1;
      }
    }));
}

function errorReport(err: Error): NonNullable<CaptureReport['error']> {
  const e = err as Partial<SecuxflowError> & { offset?: number };
  return {
    code: e.code ?? 'E_INTERNAL',
    message: err.message,
    ...(e.hint !== undefined ? { hint: e.hint } : {}),
    ...(typeof e.offset === 'number' ? { offset: e.offset } : {}),
  };
}
