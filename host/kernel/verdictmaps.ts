// Writers for the maps the live path (issue 4) fills: flow verdicts and the
// penalty box, plus the stats record. They also raise the SF_CFG_*_ACTIVE
// switches and their union SF_CFG_VERDICTS_ACTIVE (the one the XDP program
// reads), without which the program skips those lookups: always write these
// maps through here.
import {
  LAYOUT, MapName, SfActive, SfConfig, SfFlowOrigin, SfFlowVerdict, SfStage, SfStat, encodeFlowKey, reverseFlowKey, encodeFlowMetaPerCpu, decodeFlowMetaPerCpu, encodePenaltyKey,
  encodePenaltyMeta, perCpuStride, sumStatsRecord, u32Key, type Counter, type FlowKey, type FlowMetaSum,
} from './codec.js';
import { join } from 'node:path';
import { closeFd, mapDelete, mapLookup, mapNextKey, mapUpdate, mapUpdateBatch, objGet, possibleCpus } from './native.js';
import { loadConfigWord, readConfigValue, writeConfig } from './config.js';

export interface VerdictMapFds {
  [MapName.CONFIG]: number;
  [MapName.FLOWS]: number;
  [MapName.PENALTY]: number;
}

/** The verdict maps pinned in pinDir (one interface's); close() closes them. */
export function openPinnedVerdictMaps(pinDir: string): VerdictMapFds & { close(): void } {
  const opened: number[] = [];
  const get = (name: string): number => {
    const fd = objGet(join(pinDir, name));
    opened.push(fd);
    return fd;
  };
  try {
    return {
      [MapName.CONFIG]: get(MapName.CONFIG),
      [MapName.FLOWS]: get(MapName.FLOWS),
      [MapName.PENALTY]: get(MapName.PENALTY),
      close: () => { for (const fd of opened.splice(0)) closeFd(fd); },
    };
  } catch (e) {
    for (const fd of opened) closeFd(fd);
    throw e;
  }
}

const ACTIVE_BIT: Record<number, number> = { [SfConfig.FLOWS_ACTIVE]: SfActive.FLOWS, [SfConfig.PENALTY_ACTIVE]: SfActive.PENALTY };

/** SF_CFG_VERDICTS_ACTIVE as FLOWS_ACTIVE and PENALTY_ACTIVE say it should be. */
function wantedActive(fd: number): number {
  return (readConfigValue(fd, SfConfig.FLOWS_ACTIVE) ? SfActive.FLOWS : 0) | (readConfigValue(fd, SfConfig.PENALTY_ACTIVE) ? SfActive.PENALTY : 0);
}

/**
 * Sets one switch, then the union the program reads. Two writers (the daemon
 * and its queue threads, say) can interleave their read and write of the
 * union, so each writes it again until a read after its write agrees: the
 * last write to the union is then from a writer that read both switches
 * after every switch write before it.
 */
function enable(fds: Pick<VerdictMapFds, 'sf_config'>, index: number, on: boolean): void {
  const fd = fds.sf_config;
  // Raising a switch that is up, in a union that has it, changes nothing: two
  // loads from the mapped value instead of a store and a lookup syscall per
  // verdict. (A writer lowering it meanwhile is the race refreshActiveSwitches
  // describes, with or without a store here.)
  if (on && loadConfigWord(fd, index) === 1 && loadConfigWord(fd, SfConfig.VERDICTS_ACTIVE) & ACTIVE_BIT[index]!) return;
  writeConfig(fd, index, on ? 1 : 0);
  if (on && readConfigValue(fd, SfConfig.VERDICTS_ACTIVE) & ACTIVE_BIT[index]!) return;
  let want = wantedActive(fd);
  for (let i = 0; i < 8; i++) {
    writeConfig(fd, SfConfig.VERDICTS_ACTIVE, want);
    const now = wantedActive(fd);
    if (now === want) return;
    want = now;
  }
}

// Both directions' keys, and each verdict's per-CPU values twice, reused by
// every writeFlowVerdicts call: the write is on the verdict-latency path,
// where a lone packet's allocations and a second syscall showed up.
const pairKeys = new Uint8Array(2 * LAYOUT.sf_flow_key.size);
const pairValues = new Map<number, Uint8Array>();

function pairValue(verdict: number, origin: number, cpus: number): Uint8Array {
  const id = (origin * 4 + verdict) * 4096 + cpus;
  let v = pairValues.get(id);
  if (!v) {
    const one = encodeFlowMetaPerCpu(verdict, cpus, origin);
    v = new Uint8Array(2 * one.length);
    v.set(one, 0);
    v.set(one, one.length);
    pairValues.set(id, v);
  }
  return v;
}

/**
 * Both directions of a flow, in one batch update. `origin` says who decided:
 * the daemon (the default), or a rule change (host/kernel/flow-revoke.ts),
 * whose blocks a later rule change may lift.
 */
export function writeFlowVerdicts(fds: VerdictMapFds, key: FlowKey, verdict: 'allow' | 'block', origin: number = SfFlowOrigin.DAEMON): void {
  encodeFlowKey(key, pairKeys, 0);
  encodeFlowKey(reverseFlowKey(key), pairKeys, LAYOUT.sf_flow_key.size);
  const values = pairValue(verdict === 'block' ? SfFlowVerdict.BLOCK : SfFlowVerdict.ALLOW, origin, possibleCpus());
  mapUpdateBatch(fds.sf_flows, pairKeys, values, 2);
  enable(fds, SfConfig.FLOWS_ACTIVE, true);
}

/** One direction of a flow (call again with reverseFlowKey for the other). */
export function writeFlowVerdict(fds: VerdictMapFds, key: FlowKey, verdict: 'allow' | 'block'): void {
  mapUpdate(fds.sf_flows, encodeFlowKey(key), encodeFlowMetaPerCpu(verdict === 'block' ? SfFlowVerdict.BLOCK : SfFlowVerdict.ALLOW, possibleCpus()));
  enable(fds, SfConfig.FLOWS_ACTIVE, true);
}

export function deleteFlowVerdict(fds: VerdictMapFds, key: FlowKey): boolean {
  return mapDelete(fds.sf_flows, encodeFlowKey(key));
}

/** Verdict, origin and counters summed over CPUs, null when absent. */
export function readFlowVerdict(fds: VerdictMapFds, key: FlowKey): FlowMetaSum | null {
  const cpus = possibleCpus();
  const v = mapLookup(fds.sf_flows, encodeFlowKey(key), perCpuStride(LAYOUT.sf_flow_meta.size) * cpus);
  return v ? decodeFlowMetaPerCpu(v, cpus) : null;
}

/** Drops `addr` (4 or 16 bytes) until expiresNs on CLOCK_MONOTONIC (process.hrtime.bigint()). */
export function writePenalty(fds: VerdictMapFds, addr: Uint8Array, expiresNs: bigint): void {
  mapUpdate(fds.sf_penalty, encodePenaltyKey(addr), encodePenaltyMeta(expiresNs < 0n ? 0n : expiresNs));
  enable(fds, SfConfig.PENALTY_ACTIVE, true);
}

export function deletePenalty(fds: VerdictMapFds, addr: Uint8Array): boolean {
  return mapDelete(fds.sf_penalty, encodePenaltyKey(addr));
}

/**
 * Lowers the switches of maps that became empty, so idle machines skip the
 * lookups again. Call after expiry sweeps and deletions; safe beside writers
 * in other threads and processes (see refreshSwitch).
 */
export function refreshActiveSwitches(fds: VerdictMapFds): void {
  refreshSwitch(fds, SfConfig.FLOWS_ACTIVE, () => mapNextKey(fds.sf_flows, null, LAYOUT.sf_flow_key.size) === null);
  refreshSwitch(fds, SfConfig.PENALTY_ACTIVE, () => mapNextKey(fds.sf_penalty, null, LAYOUT.sf_penalty_key.size) === null);
}

/**
 * Sets one switch from `isEmpty`, a look at its map. A writer that adds an
 * entry between our look and our lowering may find the switch still up and
 * leave it, and the lowering then hides its entry from the program until
 * something refreshes again (a penalty entry: until it expires). So the map
 * is looked at once more after lowering: an entry written before that look
 * raises the switch here, and a writer whose entry comes after it finds the
 * switch down and raises it itself.
 */
export function refreshSwitch(fds: Pick<VerdictMapFds, 'sf_config'>, index: number, isEmpty: () => boolean): void {
  if (!isEmpty()) {
    enable(fds, index, true);
    return;
  }
  enable(fds, index, false);
  if (!isEmpty()) enable(fds, index, true);
}

/** Every SF_STAT_* counter summed over CPUs (index = SF_STAT_*). */
/** The packet counts `status` shows, from readStats(). */
export interface KernelPacketCounts { rx: number; pass: number; drop: number; invalid: number; punt: number; puntFallback: number }

export function kernelPacketCounts(stats: readonly Counter[]): KernelPacketCounts {
  const n = (i: number): number => stats[i]!.packets;
  return {
    rx: n(SfStat.RX), pass: n(SfStat.PASS), drop: n(SfStat.DROP), invalid: n(SfStat.STAGE_BASE + SfStage.INVALID),
    punt: n(SfStat.PUNT), puntFallback: n(SfStat.PUNT_FALLBACK),
  };
}

export function readStats(statsFd: number): Counter[] {
  const cpus = possibleCpus();
  const v = mapLookup(statsFd, u32Key(0), perCpuStride(LAYOUT.sf_stats_record.size) * cpus);
  return v ? sumStatsRecord(v, cpus) : sumStatsRecord(new Uint8Array(perCpuStride(LAYOUT.sf_stats_record.size) * cpus), cpus);
}
