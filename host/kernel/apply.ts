// Seam between the rule store and the kernel: the rule commands call these
// after validating a change and before committing it to the state file.
// The kernel is reached through the pins recorded in attachments.json, so it
// works from any process and any network namespace on the machine.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SecuxflowError } from '../errors.js';
import type { RuleSet } from '../rules/types.js';
import { StateStore } from '../state/store.js';
import { readAttachments, type AttachmentRecord } from './attachments.js';
import { MapName } from './codec.js';
import { closeFd, objGet, objGetReadOnly } from './native.js';
import { refuseReadOnly } from './pins.js';
import { CONFIG, readConfigValue, writeConfig } from './config.js';
import { RuleMatcher } from '../rules/match.js';
import { reconcilePinnedFlows } from './flow-revoke.js';
import { activateGeneration, activeGeneration, clearGeneration, markRulesInFlight, readRulesStamp, ruleSetStamp, RULE_MAP_NAMES, retireGeneration, stageGeneration, stampRules, type RuleMapFds } from './ruleswap.js';
import { toGenerationImage } from './image.js';
import { readHitsBySlot } from './compile.js';

export interface KernelApplyResult {
  /** Interfaces whose maps now hold the rule set. Empty when nothing is attached. */
  appliedTo: string[];
  /** Of those, the ones whose program passes everything (a daemon stopped fail-open): the rules wait for `run` or `attach`. */
  passAll: string[];
}

interface OpenedMaps {
  record: AttachmentRecord;
  fds: RuleMapFds;
  close(): void;
}

function openPinnedRuleMaps(record: AttachmentRecord): OpenedMaps {
  const opened: number[] = [];
  const close = (): void => {
    for (const fd of opened.splice(0)) {
      try {
        closeFd(fd);
      } catch {
        // closing is best effort
      }
    }
  };
  try {
    const fds = {} as RuleMapFds;
    for (const [key, name] of Object.entries(RULE_MAP_NAMES) as Array<[keyof RuleMapFds, string]>) {
      const path = join(record.pinDir, name);
      if (!existsSync(path)) {
        throw new SecuxflowError(
          'E_STATE',
          `secuxflow is recorded as attached to ${record.iface}, but its map ${name} is not pinned in ${record.pinDir}`,
          `the pins were removed behind secuxflow's back: run secuxflow detach --iface ${record.iface}, then attach again`,
        );
      }
      const fd = objGet(path);
      opened.push(fd);
      fds[key] = fd;
    }
    const portsPath = join(record.pinDir, MapName.PORTS);
    if (existsSync(portsPath)) {
      const fd = objGet(portsPath);
      opened.push(fd);
      fds.ports = fd;
    }
    return { record, fds, close };
  } catch (e) {
    close();
    throw e;
  }
}

/**
 * Interfaces whose active rules are not the stored set, by the stamp the
 * last swap left (0: a swap was cut short). A rule command killed between
 * its kernel swap and its state write leaves one; the next rule change, or
 * attach, puts the stored set back. Interfaces that cannot be read are
 * skipped: this is a warning, never an error.
 */
export function kernelRulesOutOfStep(stateDir: string, stored: RuleSet): string[] {
  const want = ruleSetStamp(stored);
  const out: string[] = [];
  for (const record of readAttachments(new StateStore(stateDir))) {
    let fd = -1;
    try {
      fd = objGetReadOnly(join(record.pinDir, MapName.CONFIG));
      if (readRulesStamp(fd) !== want) out.push(record.iface);
    } catch {
      // not pinned, no bpffs, not root: status and list report those themselves
    } finally {
      if (fd >= 0) closeFd(fd);
    }
  }
  return out;
}

/**
 * Pushes the whole rule set into the maps of every interface secuxflow is
 * attached to, in one atomic swap. Throws a SecuxflowError (E_MAP_FULL,
 * E_KERNEL...) and leaves the kernel on the previous rule set when it cannot.
 */
export async function applyRulesIfAttached(stateDir: string, rules: RuleSet): Promise<KernelApplyResult> {
  return applyRulesTo(readAttachments(new StateStore(stateDir)), rules);
}

/**
 * The same, for the given attachments (the caller holds the state lock). The
 * rule set's own default policy is what the kernel applies when no rule
 * matches, so the engine, `inspect` and the kernel always agree on it.
 */
export async function applyRulesTo(records: AttachmentRecord[], rules: RuleSet): Promise<KernelApplyResult> {
  if (records.length === 0) return { appliedTo: [], passAll: [] };
  // Refused before any map is touched, so no interface gets the new set alone.
  for (const root of new Set(records.map((r) => dirname(r.pinDir)))) refuseReadOnly(root);

  const opened: OpenedMaps[] = [];
  const staged: Array<{ maps: OpenedMaps; oldGen: number; newGen: number }> = [];
  try {
    for (const record of records) opened.push(openPinnedRuleMaps(record));
    const stampsBefore = opened.map((maps) => readRulesStamp(maps.fds.config));
    for (const maps of opened) markRulesInFlight(maps.fds);
    // Every interface is staged before any flips, so a rule set that does not
    // fit one of them changes none of them.
    try {
      for (const maps of opened) {
        const image = toGenerationImage(rules, { portIndex: maps.fds.ports !== undefined });
        const oldGen = activeGeneration(maps.fds);
        const newGen = stageGeneration(maps.fds, image);
        staged.push({ maps, oldGen, newGen });
      }
    } catch (e) {
      for (const s of staged) {
        try {
          clearGeneration(s.maps.fds, s.newGen);
        } catch {
          // inactive generations are never read by packets
        }
      }
      // Nothing flipped: every interface still holds the set it held.
      opened.forEach((maps, i) => writeConfig(maps.fds.config, CONFIG.RULES_STAMP, stampsBefore[i]!));
      throw e;
    }
    for (const s of staged) activateGeneration(s.maps.fds, s.newGen);
    const liveIds = new Set(rules.rules.map((r) => r.id));
    for (const s of staged) await retireGeneration(s.maps.fds, s.oldGen, liveIds);
    const stamp = ruleSetStamp(rules);
    for (const maps of opened) stampRules(maps.fds, stamp);
    const passAll = opened.filter((maps) => readConfigValue(maps.fds.config, CONFIG.PASS_ALL) !== 0).map((maps) => maps.record.iface);
    return { appliedTo: records.map((r) => r.iface), passAll };
  } finally {
    for (const maps of opened) maps.close();
  }
}

export interface FlowsReconciledResult {
  /** Flows turned from allowed to blocked, over every attached interface. */
  flowsBlocked: number;
  /** Flows an earlier rule change blocked that the rules no longer drop, allowed again. */
  flowsRestored: number;
  /** Interfaces where that could not be done, and why (the rule change itself is made). */
  failed: { iface: string; error: string }[];
}

/**
 * After a rule change is stored, on every attached interface: the flows the
 * kernel had allowed whose packets the rules now drop become blocked flows,
 * so a new drop rule ends them too; and flows an earlier change blocked that
 * the rules no longer drop are allowed again (host/kernel/flow-revoke.ts).
 */
export function reconcileFlowsWithRuleChange(stateDir: string, rules: RuleSet): FlowsReconciledResult {
  const matcher = new RuleMatcher(rules);
  const out: FlowsReconciledResult = { flowsBlocked: 0, flowsRestored: 0, failed: [] };
  for (const record of readAttachments(new StateStore(stateDir))) {
    try {
      const r = reconcilePinnedFlows(record.pinDir, matcher);
      out.flowsBlocked += r.blocked;
      out.flowsRestored += r.restored;
    } catch (e) {
      out.failed.push({ iface: record.iface, error: e instanceof Error ? e.message : String(e) });
    }
  }
  return out;
}

export interface RuleHits {
  packets: number;
  bytes: number;
}

/**
 * Per-rule hit counters summed over CPUs and attached interfaces; empty when
 * nothing is attached. When attached, every stored rule has an entry (zero
 * until it matches), so callers can tell "no hits" from "not attached".
 * sf_rule_hits names the rules that were counted and their slots;
 * sf_rule_counters holds the per-CPU counts by slot.
 */
export async function readRuleHits(stateDir: string): Promise<Map<number, RuleHits>> {
  const store = new StateStore(stateDir);
  const records = readAttachments(store);
  const hits = new Map<number, RuleHits>();
  if (records.length === 0) return hits;

  let readable = 0;
  for (const record of records) {
    const hitsPath = join(record.pinDir, MapName.RULE_HITS);
    const countersPath = join(record.pinDir, MapName.RULE_COUNTERS);
    if (!existsSync(hitsPath) || !existsSync(countersPath)) continue;
    const hitsFd = objGetReadOnly(hitsPath);
    let countersFd = -1;
    try {
      countersFd = objGetReadOnly(countersPath);
      const one = readHitsBySlot(hitsFd, countersFd);
      readable++;
      for (const [id, c] of one) {
        const sum = hits.get(id);
        if (sum) {
          sum.packets += c.packets;
          sum.bytes += c.bytes;
        } else {
          hits.set(id, { ...c });
        }
      }
    } finally {
      closeFd(hitsFd);
      if (countersFd >= 0) closeFd(countersFd);
    }
  }
  if (readable === 0) return hits;
  for (const rule of store.readRules().rules) if (!hits.has(rule.id)) hits.set(rule.id, { packets: 0, bytes: 0 });
  return hits;
}
