// Replacing the rule set under live traffic. The XDP program reads the active
// generation from sf_config, then only that generation's rules (array slots
// gen*SF_MAX_RULES.., LPM keys carrying the gen byte, the prefix tables'
// cells of that generation, its header in sf_config's ruleset[gen]). So:
//   1. clear and fill the inactive generation (packets do not look at it),
//   2. flip sf_config word ACTIVE_GEN with one u32 store (the atomic step),
//   3. after a grace period, clear the generation packets just left.
// A failure in step 1 leaves the active generation exactly as it was.
import { setTimeout as sleep } from 'node:timers/promises';
import { SecuxflowError } from '../errors.js';
import type { RuleAction } from '../verdict.js';
import type { RuleSet } from '../rules/types.js';
import { ruleSetToJson } from '../rules/parse.js';
import { sortRules } from '../rules/match.js';
import type { PolicyName } from './attachments.js';
import { CONFIG, readConfigValue, writeConfig, writeRulesetMeta } from './config.js';
import { mapInfo, mapUpdate, mapUpdateBatch } from './native.js';
import { dportIndex, encodeLpmKey, encodePortKey, LAYOUT, MapName, SF, SfPortDir, SLOT_OFFSET } from './codec.js';
import { toGenerationImage, type GenerationImage, type LpmEntry } from './image.js';
import { CIDR4_TABLE, CIDR6_TABLE, writePrefixTable } from './prefix-table.js';
import {
  claimSlots, clearPortIndexGeneration, deleteGenerationKeys, GEN_BYTE, releaseSlots, retireSlots, writeDports, writeExactBatch, type SlotMapFds,
} from './compile.js';

export const POLICY_ACTION: Record<PolicyName, RuleAction> = { allow: 'pass', deny: 'drop' };

export const MAX_RULES_PER_FAMILY = SF.MAX_RULES;
const RULE_BYTES = LAYOUT.sf_rule.size;
const META_BYTES = LAYOUT.sf_ruleset_meta.size;

/**
 * After the flip a packet that already read the old generation may still be
 * scanning it. One XDP run takes microseconds inside an RCU read section, so
 * waiting this long before clearing is far beyond any such reader.
 */
export const RETIRE_GRACE_MS = 10;

export const RULE_MAP_NAMES = {
  config: MapName.CONFIG,
  rulesV4: MapName.RULES_V4,
  rulesV6: MapName.RULES_V6,
  cidr4: MapName.CIDR4,
  cidr4Meta: MapName.CIDR4_META,
  cidr6: MapName.CIDR6,
  cidr6Meta: MapName.CIDR6_META,
  lpmSrcV6: MapName.LPM_SRC_V6,
  lpmDstV6: MapName.LPM_DST_V6,
  dports: MapName.DPORTS,
  exactV4: MapName.EXACT_V4,
  exactV6: MapName.EXACT_V6,
  ruleHits: MapName.RULE_HITS,
  ruleSlots: MapName.RULE_SLOTS,
  ruleCounters: MapName.RULE_COUNTERS,
} as const;

export type RuleMapFds = { -readonly [K in keyof typeof RULE_MAP_NAMES]: number } & {
  /** sf_ports, absent in pins made by an object without the port index. */
  ports?: number;
};

/** Picks the rule maps out of an object's or a pin directory's map fds. */
export function ruleMapFds(maps: Readonly<Record<string, number>>): RuleMapFds {
  const out = {} as RuleMapFds;
  for (const [key, name] of Object.entries(RULE_MAP_NAMES) as Array<[keyof RuleMapFds, string]>) {
    const fd = maps[name];
    if (fd === undefined) throw new SecuxflowError('E_KERNEL', `map ${name} is missing`, 'the XDP object and the pins disagree: detach and attach again');
    out[key] = fd;
  }
  const ports = maps[MapName.PORTS];
  if (ports !== undefined) out.ports = ports;
  return out;
}

export function activeGeneration(fds: RuleMapFds): number {
  return readConfigValue(fds.config, CONFIG.ACTIVE_GEN) & 1;
}


/** E_MAP_FULL before anything is written, naming what does not fit. */
function checkCapacity(image: GenerationImage, fds: RuleMapFds): void {
  const families: Array<[string, number]> = [
    ['IPv4', image.v4Count],
    ['IPv6', image.v6Count],
  ];
  for (const [family, count] of families) {
    if (count > MAX_RULES_PER_FAMILY) {
      throw new SecuxflowError(
        'E_MAP_FULL',
        `the rule set needs ${count} ${family} rule slots in the kernel, which holds at most ${MAX_RULES_PER_FAMILY} per address family`,
        'remove rules, or merge them into wider CIDRs or port ranges; the kernel keeps the previous rule set',
      );
    }
  }
  // The prefix tables' room was settled by compileRules (toGenerationImage):
  // it refuses an IPv4 set that does not fit and leaves an IPv6 direction
  // that does not fit in its trie.
  const tries: Array<[string, LpmEntry[], number]> = [
    ['IPv6 source', image.lpm.srcV6, fds.lpmSrcV6],
    ['IPv6 destination', image.lpm.dstV6, fds.lpmDstV6],
  ];
  const exact: Array<[string, number, number]> = [
    ['IPv4', image.exact.srcV4.length + image.exact.dstV4.length, fds.exactV4],
    ['IPv6', image.exact.srcV6.length + image.exact.dstV6.length, fds.exactV6],
  ];
  for (const [family, count, fd] of exact) {
    const room = Math.floor(mapInfo(fd).maxEntries / 2);
    if (count > room) {
      throw new SecuxflowError(
        'E_MAP_FULL',
        `the rule set has ${count} CIDR-only ${family} single addresses; the kernel holds at most ${room} per rule set`,
        'remove rules or merge addresses into CIDRs; the kernel keeps the previous rule set',
      );
    }
  }
  for (const [what, entries, fd] of tries) {
    // Each trie holds both generations, so one generation gets half of it.
    const room = Math.floor(mapInfo(fd).maxEntries / 2);
    if (entries.length > room) {
      throw new SecuxflowError(
        'E_MAP_FULL',
        `the rule set has ${entries.length} CIDR-only ${what} prefixes; the kernel trie holds at most ${room} per rule set`,
        'remove rules or merge CIDRs; the kernel keeps the previous rule set',
      );
    }
  }
}

function isFull(e: unknown): boolean {
  const msg = e instanceof Error ? e.message : String(e);
  return /ENOSPC|E2BIG|No space|too big|full/i.test(msg);
}

/** Empties one generation: header first (packets then see no rules), then its entries. */
export function clearGeneration(fds: RuleMapFds, gen: number): void {
  writeRulesetMeta(fds.config, gen, new Uint8Array(META_BYTES));
  // The prefix tables need no clearing: the header's lpm_mask no longer
  // points into them, and staging rewrites every cell a new mask will reach.
  for (const fd of [fds.lpmSrcV6, fds.lpmDstV6]) deleteGenerationKeys(fd, gen, GEN_BYTE.lpm);
  for (const fd of [fds.exactV4, fds.exactV6]) deleteGenerationKeys(fd, gen, GEN_BYTE.exact);
  if (fds.ports !== undefined) clearPortIndexGeneration(fds.ports, fds.dports, gen);
  for (const fd of [fds.rulesV4, fds.rulesV6]) zeroSlots(fd, gen);
}

function zeroSlots(fd: number, gen: number): void {
  const keys = new Uint8Array(4 * MAX_RULES_PER_FAMILY);
  const dv = new DataView(keys.buffer);
  for (let i = 0; i < MAX_RULES_PER_FAMILY; i++) dv.setUint32(i * 4, gen * MAX_RULES_PER_FAMILY + i, true);
  mapUpdateBatch(fd, keys, new Uint8Array(RULE_BYTES * MAX_RULES_PER_FAMILY), MAX_RULES_PER_FAMILY);
}

function writeSlots(fd: number, gen: number, rules: Uint8Array, count: number): void {
  if (count === 0) return;
  const keys = new Uint8Array(4 * count);
  const dv = new DataView(keys.buffer);
  for (let i = 0; i < count; i++) dv.setUint32(i * 4, gen * MAX_RULES_PER_FAMILY + i, true);
  const written = mapUpdateBatch(fd, keys, rules.subarray(0, count * RULE_BYTES), count);
  if (written !== count) throw new SecuxflowError('E_KERNEL', `only ${written} of ${count} rules reached the kernel`);
}

/**
 * Writes the image into the inactive generation and returns that generation.
 * Nothing a packet can see changes; on failure the half-written generation
 * is cleared again and the error is E_MAP_FULL or E_KERNEL.
 */
function slotFds(fds: RuleMapFds): SlotMapFds {
  return { slots: fds.ruleSlots, counters: fds.ruleCounters, hits: fds.ruleHits };
}

/** Writes each entry's counter slot into the encoded values (found by the rule id each starts with). */
function fillSlots(image: GenerationImage, slotOf: ReadonlyMap<number, number>): void {
  const put = (b: Uint8Array, at: number, slotAt: number): void => {
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const slot = slotOf.get(dv.getUint32(at, true));
    if (slot === undefined) throw new SecuxflowError('E_INTERNAL', `rule ${dv.getUint32(at, true)} has no counter slot`);
    dv.setUint32(at + slotAt, slot, true);
  };
  for (const [rules, count] of [[image.v4Rules, image.v4Count], [image.v6Rules, image.v6Count]] as const) {
    for (let i = 0; i < count; i++) put(rules, i * RULE_BYTES, SLOT_OFFSET.sf_rule);
  }
  for (const tries of [image.lpm, image.exact, image.table6]) {
    for (const list of Object.values(tries) as LpmEntry[][]) for (const e of list) put(e.value, 0, SLOT_OFFSET.sf_lpm_meta);
  }
  for (const p of image.ports) put(p.value, 0, SLOT_OFFSET.sf_lpm_meta);
}

export function stageGeneration(fds: RuleMapFds, image: GenerationImage): number {
  checkCapacity(image, fds);
  const gen = activeGeneration(fds) ^ 1;
  let claimed: number[] = [];
  try {
    clearGeneration(fds, gen);
    const slots = claimSlots(slotFds(fds), image.slotIds);
    claimed = slots.claimed;
    fillSlots(image, slots.slotOf);
    writeSlots(fds.rulesV4, gen, image.v4Rules, image.v4Count);
    writeSlots(fds.rulesV6, gen, image.v6Rules, image.v6Count);
    writePrefixTable(CIDR4_TABLE, { table: fds.cidr4, meta: fds.cidr4Meta }, gen, [
      { dir: SfPortDir.SRC, entries: image.lpm.srcV4 },
      { dir: SfPortDir.DST, entries: image.lpm.dstV4 },
    ]);
    writePrefixTable(CIDR6_TABLE, { table: fds.cidr6, meta: fds.cidr6Meta }, gen, [
      { dir: SfPortDir.SRC, entries: image.table6.srcV6 },
      { dir: SfPortDir.DST, entries: image.table6.dstV6 },
    ]);
    const lpm: Array<[number, LpmEntry[]]> = [
      [fds.lpmSrcV6, image.lpm.srcV6],
      [fds.lpmDstV6, image.lpm.dstV6],
    ];
    for (const [fd, entries] of lpm) for (const e of entries) mapUpdate(fd, encodeLpmKey(gen, e.addr, e.prefixLen), e.value);
    const exact: Array<[number, number, LpmEntry[]]> = [
      [fds.exactV4, SfPortDir.SRC, image.exact.srcV4],
      [fds.exactV4, SfPortDir.DST, image.exact.dstV4],
      [fds.exactV6, SfPortDir.SRC, image.exact.srcV6],
      [fds.exactV6, SfPortDir.DST, image.exact.dstV6],
    ];
    for (const [fd, dir, entries] of exact) writeExact(fd, gen, dir, entries);
    // sf_ports lists every entry; sf_dports then mirrors the destination
    // ones for the lookup (order: see clearPortIndexGeneration).
    if (image.ports.length > 0) {
      if (fds.ports === undefined) throw new SecuxflowError('E_INTERNAL', 'the rule image uses the port index but the maps have no sf_ports');
      for (const p of image.ports) mapUpdate(fds.ports, encodePortKey(gen, p.proto, p.dir, p.port), p.value);
      const dst = image.ports.filter((p) => p.dir === SfPortDir.DST);
      writeDports(fds.dports, dst.map((p) => ({ idx: dportIndex(gen, p.proto as 6 | 17, p.port), meta: null, value: p.value })));
    }
    // The header goes last: until the flip nobody reads it, and it is what
    // makes the generation's rules visible once it is active.
    writeRulesetMeta(fds.config, gen, image.meta);
  } catch (e) {
    try {
      clearGeneration(fds, gen);
      releaseSlots(slotFds(fds), claimed);
    } catch {
      // the inactive generation is not read by packets; the next apply clears it,
      // and the next retire frees slots of rules that are not live
    }
    if (e instanceof SecuxflowError && e.code === 'E_MAP_FULL') throw e;
    if (isFull(e)) throw new SecuxflowError('E_MAP_FULL', `a kernel rule map is full: ${(e as Error).message}`, 'remove rules; the kernel keeps the previous rule set');
    throw e;
  }
  return gen;
}

/** The atomic step: packets read the new generation from the next one on. */
export function activateGeneration(fds: RuleMapFds, gen: number): void {
  writeConfig(fds.config, CONFIG.ACTIVE_GEN, gen);
}

/**
 * A stamp of a rule set (FNV-1a over its file form in evaluation order),
 * never 0. Kept in SF_CFG_RULES_STAMP for the set the active generation
 * holds: a rule command killed between its kernel swap and its state write
 * leaves a stamp that differs from the stored set's, and `rule list` says so.
 */
export function ruleSetStamp(set: RuleSet): number {
  const text = JSON.stringify(ruleSetToJson({ defaultPolicy: set.defaultPolicy, rules: sortRules(set.rules) }));
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h === 0 ? 1 : h;
}

/** Before a swap: the stamp says "in flight" until the new set is active. */
export function markRulesInFlight(fds: RuleMapFds): void {
  writeConfig(fds.config, CONFIG.RULES_STAMP, 0);
}

/** After a swap: the stamp of the set the active generation now holds (from ruleSetStamp). */
export function stampRules(fds: RuleMapFds, stamp: number): void {
  writeConfig(fds.config, CONFIG.RULES_STAMP, stamp);
}

/** The stamp an interface's config holds (0: a change in flight, or maps from before stamps). */
export function readRulesStamp(configFd: number): number {
  return readConfigValue(configFd, CONFIG.RULES_STAMP);
}

/**
 * Clears the generation packets just left, and drops hit counters of rules
 * that no longer exist so a re-used id starts from zero.
 */
export async function retireGeneration(fds: RuleMapFds, oldGen: number, liveIds: ReadonlySet<number>): Promise<void> {
  await sleep(RETIRE_GRACE_MS);
  clearGeneration(fds, oldGen);
  retireSlots(slotFds(fds), liveIds);
}

/** One batch per map and direction (hash maps take batches; the tries do not). */
function writeExact(fd: number, gen: number, dir: number, entries: LpmEntry[]): void {
  const written = writeExactBatch(fd, gen, dir, entries, (e, values, at) => values.set(e.value, at));
  if (written !== entries.length) throw new SecuxflowError('E_KERNEL', `only ${written} of ${entries.length} address entries reached the kernel`);
}

export interface InstallResult {
  rules: number;
  generation: number;
}

/** Stage, flip and retire on one interface's maps. */
export async function installRuleSet(maps: Readonly<Record<string, number>>, set: RuleSet): Promise<InstallResult> {
  const fds = ruleMapFds(maps);
  const image = toGenerationImage(set, { portIndex: fds.ports !== undefined });
  const old = activeGeneration(fds);
  markRulesInFlight(fds);
  const gen = stageGeneration(fds, image);
  activateGeneration(fds, gen);
  await retireGeneration(fds, old, new Set(set.rules.map((r) => r.id)));
  stampRules(fds, ruleSetStamp(set));
  return { rules: set.rules.length, generation: gen };
}
