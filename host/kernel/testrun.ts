// KernelTestBench: the real XDP program, loaded privately (no pins, no
// attach), fed single frames through BPF_PROG_TEST_RUN. The decision of each
// run is read back from SF_MAP_LAST, whose sequence number proves the record
// belongs to this very run. Used by tests, the differential test and
// `secuxflow inspect --kernel`.
import { SecuxflowError } from '../errors.js';
import type { RuleAction } from '../verdict.js';
import type { RuleSet } from '../rules/types.js';
import {
  LAYOUT, MapName, SfConfig, SfAction, SfStat, STAGE_NAMES,
  decodeDecision, encodeFlowKey, encodePenaltyKey, perCpuStride,
  u32Key, type Counter, type FlowKey, type SfStageName,
} from './codec.js';
import { writeConfig } from './config.js';
import { readStats, writeFlowVerdict, writePenalty, type VerdictMapFds } from './verdictmaps.js';
import { compileRules, installRuleImage, readRuleHitsFromMap, type RuleMapFds } from './compile.js';
import { mapDelete, mapLookup, openObject, possibleCpus, progTestRun, type OpenObjectOptions } from './native.js';

export type XdpActionName = 'aborted' | 'drop' | 'pass' | 'tx' | 'redirect';
const XDP_NAMES: readonly XdpActionName[] = ['aborted', 'drop', 'pass', 'tx', 'redirect'];
const ACTION_NAMES: Record<number, RuleAction> = { [SfAction.PASS]: 'pass', [SfAction.DROP]: 'drop', [SfAction.INSPECT]: 'inspect' };

/** XDP test runs need a whole Ethernet header. */
export const MIN_TEST_FRAME = 14;

export interface KernelRunResult {
  /** What the program returned to the driver. */
  xdpAction: XdpActionName;
  /** The decided action, before the punt fallback turned inspect into pass/drop. */
  action: RuleAction;
  /** The rule that decided, null for default policy, flows, penalty box and non-IP. */
  ruleId: number | null;
  stage: SfStageName;
  /** Kernel-measured run time of the program (ns, mean over repeat). */
  durationNs: number;
}

export interface StatsSnapshot {
  rx: Counter;
  pass: Counter;
  drop: Counter;
  punt: Counter;
  puntFallback: Counter;
  stages: Record<SfStageName, Counter>;
}

export class KernelTestBench {
  private readonly obj: ReturnType<typeof openObject>;
  private readonly cpus: number;
  private rules: RuleSet = { defaultPolicy: 'pass', rules: [] };
  private lastSeq = 0n;
  private readonly zeroKey = u32Key(0);

  constructor(opts: Pick<OpenObjectOptions, 'objectPath'> = {}) {
    this.obj = openObject(opts.objectPath ? { objectPath: opts.objectPath } : {});
    this.cpus = possibleCpus();
    try {
      this.setConfig(SfConfig.RECORD_LAST, 1);
      this.setRules(this.rules);
    } catch (e) {
      this.obj.close();
      throw e;
    }
  }

  /** Map name -> fd of the private object, for tests that poke maps directly. */
  get maps(): Readonly<Record<string, number>> {
    return this.obj.maps;
  }

  get progFd(): number {
    return this.obj.progFd;
  }

  private fd(name: string): number {
    const fd = this.obj.maps[name];
    if (fd === undefined) throw new SecuxflowError('E_INTERNAL', `map ${name} missing from the XDP object`);
    return fd;
  }

  private setConfig(index: number, value: number): void {
    writeConfig(this.fd(MapName.CONFIG), index, value);
  }

  /** Turns the decision record off (as attached programs run) or on; run() needs it on. */
  setRecordLast(on: boolean): void {
    this.setConfig(SfConfig.RECORD_LAST, on ? 1 : 0);
  }

  /** Compiles and swaps in a rule set (throws E_MAP_FULL when it does not fit). */
  setRules(set: RuleSet): void {
    installRuleImage(this.obj.maps as RuleMapFds, compileRules(set, { portIndex: true }));
    this.rules = set;
  }

  setDefaultPolicy(policy: RuleAction): void {
    this.setRules({ ...this.rules, defaultPolicy: policy });
  }

  /** The global pass-everything switch (daemon stopped fail-open). */
  setPassAll(on: boolean): void {
    this.setConfig(SfConfig.PASS_ALL, on ? 1 : 0);
  }

  /** What inspect does when no AF_XDP socket is bound on the queue. */
  setPuntFallback(policy: 'open' | 'closed'): void {
    this.setConfig(SfConfig.PUNT_FALLBACK, policy === 'closed' ? SfAction.DROP : SfAction.PASS);
  }

  /** One direction of a flow; call twice (reverseFlowKey) for both. */
  addFlowVerdict(key: FlowKey, verdict: 'allow' | 'block'): void {
    writeFlowVerdict(this.verdictFds(), key, verdict);
  }

  private verdictFds(): VerdictMapFds {
    return { sf_config: this.fd(MapName.CONFIG), sf_flows: this.fd(MapName.FLOWS), sf_penalty: this.fd(MapName.PENALTY) };
  }

  removeFlowVerdict(key: FlowKey): boolean {
    return mapDelete(this.fd(MapName.FLOWS), encodeFlowKey(key));
  }

  /** Flow counters summed over CPUs, null when the entry is absent. */
  flowCounters(key: FlowKey): Counter | null {
    const stride = perCpuStride(LAYOUT.sf_flow_meta.size);
    const v = mapLookup(this.fd(MapName.FLOWS), encodeFlowKey(key), stride * this.cpus);
    if (!v) return null;
    const dv = new DataView(v.buffer);
    let packets = 0;
    let bytes = 0;
    for (let c = 0; c < this.cpus; c++) {
      packets += Number(dv.getBigUint64(c * stride + 8, true));
      bytes += Number(dv.getBigUint64(c * stride + 16, true));
    }
    return { packets, bytes };
  }

  /** Blocks `addr` (4 or 16 bytes) for ttlMs; a negative ttl writes an already expired entry. */
  addPenalty(addr: Uint8Array, ttlMs: number): void {
    writePenalty(this.verdictFds(), addr, process.hrtime.bigint() + BigInt(Math.trunc(ttlMs * 1e6)));
  }

  removePenalty(addr: Uint8Array): boolean {
    return mapDelete(this.fd(MapName.PENALTY), encodePenaltyKey(addr));
  }

  /** Runs one frame through the program. */
  run(frame: Uint8Array): KernelRunResult {
    if (frame.length < MIN_TEST_FRAME) {
      throw new SecuxflowError('E_USAGE', `frame of ${frame.length} bytes is too short for BPF_PROG_TEST_RUN`,
        `XDP test runs need at least ${MIN_TEST_FRAME} bytes (an Ethernet header)`);
    }
    const r = progTestRun(this.obj.progFd, frame, 1);
    const raw = mapLookup(this.fd(MapName.LAST), this.zeroKey, LAYOUT.sf_decision.size);
    const d = raw ? decodeDecision(raw) : null;
    if (!d || d.seq === this.lastSeq) {
      throw new SecuxflowError('E_INTERNAL', 'the XDP program did not record its decision for this run');
    }
    this.lastSeq = d.seq;
    return {
      xdpAction: XDP_NAMES[r.retval] ?? 'aborted',
      action: ACTION_NAMES[d.action] ?? 'pass',
      ruleId: d.ruleId === 0 ? null : d.ruleId,
      stage: STAGE_NAMES[d.stage] ?? 'none',
      durationNs: r.durationNs,
    };
  }

  stats(): StatsSnapshot {
    const all = readStats(this.fd(MapName.STATS));
    const read = (i: number): Counter => all[i]!;
    const stages = {} as Record<SfStageName, Counter>;
    STAGE_NAMES.forEach((name, i) => { stages[name] = read(SfStat.STAGE_BASE + i); });
    return { rx: read(SfStat.RX), pass: read(SfStat.PASS), drop: read(SfStat.DROP), punt: read(SfStat.PUNT), puntFallback: read(SfStat.PUNT_FALLBACK), stages };
  }

  ruleHits(): Map<number, Counter> {
    return readRuleHitsFromMap(this.fd(MapName.RULE_HITS));
  }

  close(): void {
    this.obj.close();
  }
}
