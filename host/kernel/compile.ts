// RuleSet -> the kernel's map contents (compileRules, pure), the counter-slot
// allocation every writer shares (claimSlots/retireSlots), and the atomic
// swap that writes an image into a loaded or pinned program's maps
// (installRuleImage). The placement is docs/kernel-maps.md:
//  - a CIDR-only rule (exactly one of src/dst, proto any, no ports, no vlan)
//    goes into the prefix index of its family and direction (the tables of
//    prefix-table.ts; an LPM trie for an IPv6 direction they cannot hold);
//    each entry holds the best (priority, id) of every CIDR-only rule of
//    that index covering the entry's prefix, so the longest match already
//    yields the best of them; full-length entries (/32, /128) go into
//    sf_exact_v4/v6 with that same value (an exact hit is one hash lookup
//    and decides), unless their direction's prefixes are in a table that
//    holds them too;
//  - with the port index on, a port-only rule (proto tcp/udp/any, exactly one
//    of src/dst port, a single port, nothing else) goes into SF_MAP_PORTS,
//    each (proto, direction, port) key holding its best rule;
//  - every other rule goes into the priority-ordered array of its family, or
//    of both families when it names no address.
import { SecuxflowError } from '../errors.js';
import { RULE_ACTION_CODE } from '../verdict.js';
import type { Cidr, Rule, RuleSet } from '../rules/types.js';
import {
  SF, SfConfig, SfLpmHas, SfPortDir, SfRuleFlag, MapName, LAYOUT,
  dportIndex, encodeExactKey, encodeLpmKey, encodeLpmMeta, encodePortKey, encodeRule, u32Key, decodeU32,
  sumCounters, type KernelRuleEntry, type LpmMeta,
} from './codec.js';
import { mapDelete, mapDump, mapLookup, mapUpdateBatch, perCpuValueBytes } from './native.js';
import { readConfigValue, writeConfig, writeRulesetMeta } from './config.js';
import { checkPrefixTableCapacity, CIDR4_TABLE, CIDR6_TABLE, fitsPrefixTable, writePrefixTable, type PrefixEntry } from './prefix-table.js';

export interface LpmEntry {
  addr: Uint8Array;
  prefixLen: number;
  meta: LpmMeta;
}

export interface PortEntry {
  proto: 6 | 17;
  dir: 0 | 1;
  port: number;
  meta: LpmMeta;
}

export interface CompileOptions {
  /**
   * Put port-only rules into SF_MAP_PORTS (O(1) per packet) instead of the
   * scanned arrays. Whoever writes the image must then also write
   * SF_MAP_PORTS (installRuleImage does). Default false.
   */
  portIndex?: boolean;
}

/** Port entries one generation may hold (SF_MAX_PORT_ENTRIES / generations). */
export const MAX_PORT_ENTRIES = SF.MAX_RULES * 2;

export interface KernelRuleImage {
  defaultAction: number;
  /** General rules per family, sorted by (priority, id). */
  v4: KernelRuleEntry[];
  v6: KernelRuleEntry[];
  /** Prefix index entries: IPv4 for the prefix table, IPv6 for the tries (CIDR-only prefixes shorter than the address, and the /32s beside IPv4 prefixes). */
  lpm: LpmTries;
  /** IPv6 directions in the IPv6 prefix table instead of their tries (with their /128s when those fit too). */
  table6: { srcV6: LpmEntry[]; dstV6: LpmEntry[] };
  /** Full-length CIDR-only entries (/32, /128) for sf_exact_v4/v6, valued as the trie would be. */
  exact: LpmTries;
  /** Port index entries; empty unless compiled with portIndex. */
  ports: PortEntry[];
  /** Every rule id of the set (for hit-counter housekeeping). */
  ruleIds: number[];
  /** The ids some map entry can report as matched: each needs a counter slot. */
  slotIds: number[];
}

export interface LpmTries { srcV4: LpmEntry[]; dstV4: LpmEntry[]; srcV6: LpmEntry[]; dstV6: LpmEntry[] }

/** sf_ruleset_meta.lpm_mask of an image: which lookups have entries to find. */
export function indexMask(image: Pick<KernelRuleImage, 'lpm' | 'exact' | 'ports' | 'table6'>): number {
  let m = 0;
  if (image.table6.srcV6.length) m |= SfLpmHas.TABLE_SRC_V6;
  if (image.table6.dstV6.length) m |= SfLpmHas.TABLE_DST_V6;
  if (image.ports.some((p) => p.dir === SfPortDir.DST)) m |= SfLpmHas.PORTS_DST;
  if (image.ports.some((p) => p.dir === SfPortDir.SRC)) m |= SfLpmHas.PORTS_SRC;
  if (image.lpm.srcV4.length) m |= SfLpmHas.SRC_V4;
  if (image.lpm.dstV4.length) m |= SfLpmHas.DST_V4;
  if (image.lpm.srcV6.length) m |= SfLpmHas.SRC_V6;
  if (image.lpm.dstV6.length) m |= SfLpmHas.DST_V6;
  if (image.exact.srcV4.length) m |= SfLpmHas.EXACT_SRC_V4;
  if (image.exact.dstV4.length) m |= SfLpmHas.EXACT_DST_V4;
  if (image.exact.srcV6.length) m |= SfLpmHas.EXACT_SRC_V6;
  if (image.exact.dstV6.length) m |= SfLpmHas.EXACT_DST_V6;
  return m;
}

const PROTO_NUMBER: Record<Rule['proto'], { v4: number; v6: number }> = {
  tcp: { v4: 6, v6: 6 }, udp: { v4: 17, v6: 17 }, icmp: { v4: 1, v6: 58 }, any: { v4: 0, v6: 0 },
};

export function isCidrOnly(r: Rule): boolean {
  return (r.src === null) !== (r.dst === null) && r.proto === 'any' && r.srcPort === null && r.dstPort === null && r.vlan === null;
}

export function isPortOnly(r: Rule): boolean {
  if (r.src || r.dst || r.vlan !== null || r.proto === 'icmp') return false;
  const one = (p: Rule['srcPort']): boolean => p !== null && p.lo === p.hi;
  return (one(r.srcPort) && r.dstPort === null) || (one(r.dstPort) && r.srcPort === null);
}

function portEntries(rules: Rule[]): PortEntry[] {
  const byKey = new Map<number, PortEntry>();
  for (const r of rules) {
    const dir = r.dstPort ? SfPortDir.DST : SfPortDir.SRC;
    const port = (r.dstPort ?? r.srcPort)!.lo;
    const meta: LpmMeta = { ruleId: r.id, priority: r.priority, action: RULE_ACTION_CODE[r.action] };
    const protos: (6 | 17)[] = r.proto === 'tcp' ? [6] : r.proto === 'udp' ? [17] : [6, 17];
    for (const proto of protos) {
      const key = (proto << 17) | (dir << 16) | port;
      const seen = byKey.get(key);
      if (!seen) byKey.set(key, { proto, dir, port, meta });
      else if (better(meta, seen.meta)) seen.meta = meta;
    }
  }
  return [...byKey.values()];
}

function cidrWords(c: Cidr | null): { net: number[]; mask: number[] } {
  const net = [0, 0, 0, 0];
  const mask = [0, 0, 0, 0];
  if (!c) return { net, mask };
  const words = c.version === 4 ? 1 : 4;
  for (let i = 0; i < words; i++) {
    const bits = Math.max(0, Math.min(32, c.prefixLen - i * 32));
    const m = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    const a = ((c.addr[i * 4]! << 24) | (c.addr[i * 4 + 1]! << 16) | (c.addr[i * 4 + 2]! << 8) | c.addr[i * 4 + 3]!) >>> 0;
    mask[i] = m;
    net[i] = (a & m) >>> 0;
  }
  return { net, mask };
}

function toEntry(r: Rule, family: 4 | 6): KernelRuleEntry {
  let flags = 0;
  if (r.src) flags |= SfRuleFlag.SRC;
  if (r.dst) flags |= SfRuleFlag.DST;
  if (r.srcPort) flags |= SfRuleFlag.SPORT;
  if (r.dstPort) flags |= SfRuleFlag.DPORT;
  if (r.vlan !== null) flags |= SfRuleFlag.VLAN;
  if (r.proto !== 'any') flags |= SfRuleFlag.PROTO;
  const src = cidrWords(r.src);
  const dst = cidrWords(r.dst);
  return {
    id: r.id,
    priority: r.priority,
    action: RULE_ACTION_CODE[r.action],
    proto: family === 4 ? PROTO_NUMBER[r.proto].v4 : PROTO_NUMBER[r.proto].v6,
    sportLo: r.srcPort?.lo ?? 0, sportHi: r.srcPort?.hi ?? 65535,
    dportLo: r.dstPort?.lo ?? 0, dportHi: r.dstPort?.hi ?? 65535,
    vlan: r.vlan ?? 0,
    flags,
    srcNet: src.net, srcMask: src.mask, dstNet: dst.net, dstMask: dst.mask,
  };
}

function maskedHex(addr: Uint8Array, bits: number): string {
  let s = '';
  for (let i = 0; i < addr.length; i++) {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    s += ((addr[i]! & ((0xff00 >> keep) & 0xff)) + 0x100).toString(16).slice(1);
  }
  return s;
}

function better(a: LpmMeta, b: LpmMeta): boolean {
  return a.priority < b.priority || (a.priority === b.priority && a.ruleId < b.ruleId);
}

/** One trie's entries: each distinct prefix with the best rule covering it. */
function lpmEntries(rules: Rule[], pick: (r: Rule) => Cidr): LpmEntry[] {
  const byPrefix = new Map<string, { cidr: Cidr; best: LpmMeta }>();
  for (const r of rules) {
    const c = pick(r);
    const key = `${c.prefixLen}/${maskedHex(c.addr, c.prefixLen)}`;
    const meta: LpmMeta = { ruleId: r.id, priority: r.priority, action: RULE_ACTION_CODE[r.action] };
    const seen = byPrefix.get(key);
    if (!seen) byPrefix.set(key, { cidr: c, best: meta });
    else if (better(meta, seen.best)) seen.best = meta;
  }
  const lengths = [...new Set([...byPrefix.values()].map((v) => v.cidr.prefixLen))].sort((a, b) => a - b);
  const out: LpmEntry[] = [];
  for (const { cidr, best } of byPrefix.values()) {
    let winner = best;
    // Every shorter stored prefix that covers this one competes: a packet
    // landing here matches those rules too.
    for (const len of lengths) {
      if (len >= cidr.prefixLen) break;
      const cover = byPrefix.get(`${len}/${maskedHex(cidr.addr, len)}`);
      if (cover && better(cover.best, winner)) winner = cover.best;
    }
    const addr = new Uint8Array(cidr.addr.length);
    for (let i = 0; i < addr.length; i++) {
      const keep = Math.max(0, Math.min(8, cidr.prefixLen - i * 8));
      addr[i] = cidr.addr[i]! & ((0xff00 >> keep) & 0xff);
    }
    out.push({ addr, prefixLen: cidr.prefixLen, meta: winner });
  }
  return out;
}

function full(what: string, count: number): SecuxflowError {
  return new SecuxflowError('E_MAP_FULL', `${what}: ${count} entries, the kernel holds at most ${SF.MAX_RULES}`,
    'remove rules, or merge rules that differ only in addresses into CIDR-only rules (they do not count against the scanned array)');
}

export function compileRules(set: RuleSet, opts: CompileOptions = {}): KernelRuleImage {
  const sorted = [...set.rules].sort((a, b) => a.priority - b.priority || a.id - b.id);
  const v4: KernelRuleEntry[] = [];
  const v6: KernelRuleEntry[] = [];
  const cidrOnly: Rule[] = [];
  const portOnly: Rule[] = [];
  for (const r of sorted) {
    if (isCidrOnly(r)) {
      cidrOnly.push(r);
      continue;
    }
    if (opts.portIndex && isPortOnly(r)) {
      portOnly.push(r);
      continue;
    }
    const fam = r.src?.version ?? r.dst?.version ?? 0;
    // src and dst of different families can never match a packet.
    if (r.src && r.dst && r.src.version !== r.dst.version) continue;
    if (fam === 0 || fam === 4) v4.push(toEntry(r, 4));
    if (fam === 0 || fam === 6) v6.push(toEntry(r, 6));
  }
  const of = (dir: 'src' | 'dst', v: 4 | 6): Rule[] => cidrOnly.filter((r) => r[dir] !== null && r[dir]!.version === v);
  const all = {
    srcV4: lpmEntries(of('src', 4), (r) => r.src!),
    dstV4: lpmEntries(of('dst', 4), (r) => r.dst!),
    srcV6: lpmEntries(of('src', 6), (r) => r.src!),
    dstV6: lpmEntries(of('dst', 6), (r) => r.dst!),
  };
  if (v4.length > SF.MAX_RULES) throw full('IPv4 rules that need the scanned array', v4.length);
  if (v6.length > SF.MAX_RULES) throw full('IPv6 rules that need the scanned array', v6.length);
  for (const [name, entries] of Object.entries(all)) {
    if (entries.length > SF.MAX_RULES) throw full(`CIDR-only rules in the ${name} prefix index`, entries.length);
  }
  // A full-length entry's value already accounts for every shorter covering
  // prefix (lpmEntries), so moving it out of the trie changes no decision.
  const isFull = (e: LpmEntry): boolean => e.prefixLen === e.addr.length * 8;
  const part = (pick: (e: LpmEntry) => boolean): LpmTries => ({
    srcV4: all.srcV4.filter(pick), dstV4: all.dstV4.filter(pick), srcV6: all.srcV6.filter(pick), dstV6: all.dstV6.filter(pick),
  });
  const lpm = part((e) => !isFull(e));
  const exact = part(isFull);
  // An IPv4 direction that has prefixes keeps its /32 entries in the prefix
  // table too: a table lookup reads at most three cells whatever is there,
  // and the exact hash in front of it only added a miss to every other
  // packet. A direction of single addresses alone keeps the one hash lookup
  // (and no table block per address), as does a set the table cannot hold.
  const withFull = { srcV4: lpm.srcV4.length ? all.srcV4 : [], dstV4: lpm.dstV4.length ? all.dstV4 : [] };
  if (fitsPrefixTable(CIDR4_TABLE, [{ dir: SfPortDir.SRC, entries: withFull.srcV4 }, { dir: SfPortDir.DST, entries: withFull.dstV4 }])) {
    for (const d of ['srcV4', 'dstV4'] as const) {
      if (withFull[d].length === 0) continue;
      lpm[d] = withFull[d];
      exact[d] = [];
    }
  } else {
    checkPrefixTableCapacity(CIDR4_TABLE, [{ dir: SfPortDir.SRC, entries: lpm.srcV4 }, { dir: SfPortDir.DST, entries: lpm.dstV4 }]);
  }
  // IPv6 the same way, but a direction the table cannot hold (its pool is
  // shared, and an IPv6 prefix can need up to 14 blocks) keeps its trie.
  const table6: KernelRuleImage['table6'] = { srcV6: [], dstV6: [] };
  const placed: Array<{ dir: number; entries: LpmEntry[] }> = [];
  for (const [d, dir] of [['srcV6', SfPortDir.SRC], ['dstV6', SfPortDir.DST]] as const) {
    if (lpm[d].length === 0) continue;
    for (const entries of [all[d], lpm[d]]) {
      if (!fitsPrefixTable(CIDR6_TABLE, [...placed, { dir, entries }])) continue;
      placed.push({ dir, entries });
      table6[d] = entries;
      if (entries === all[d]) exact[d] = [];
      lpm[d] = [];
      break;
    }
  }
  const ports = portEntries(portOnly);
  if (ports.length > MAX_PORT_ENTRIES) throw full('port-only rule entries (a proto-any rule takes two)', ports.length);
  const slotIds = new Set<number>();
  for (const e of [...v4, ...v6]) slotIds.add(e.id);
  for (const list of Object.values(all)) for (const e of list) slotIds.add(e.meta.ruleId);
  for (const p of ports) slotIds.add(p.meta.ruleId);
  return {
    defaultAction: RULE_ACTION_CODE[set.defaultPolicy], v4, v6, lpm, exact, table6, ports,
    ruleIds: sorted.map((r) => r.id), slotIds: [...slotIds],
  };
}

// ---- counter slots ----
//
// Every rule that can decide owns one slot of sf_rule_counters (a per-CPU
// array the program indexes without hashing). A surviving rule keeps its
// slot across swaps, so its count is never moved; sf_rule_slots (slot -> id)
// is the allocation table, in the kernel so every process shares it. A slot
// is freed only when retiring, after packets have left the generation that
// still pointed at it.

export interface SlotMapFds {
  /** sf_rule_slots */
  slots: number;
  /** sf_rule_counters */
  counters: number;
  /** sf_rule_hits */
  hits: number;
}

function readSlotTable(fd: number): Uint32Array {
  const table = new Uint32Array(SF.MAX_RULE_SLOTS);
  const d = mapDump(fd);
  const kv = new DataView(d.keys.buffer, d.keys.byteOffset, d.keys.byteLength);
  const vv = new DataView(d.values.buffer, d.values.byteOffset, d.values.byteLength);
  for (let i = 0; i < d.count; i++) {
    const slot = kv.getUint32(i * 4, true);
    if (slot < table.length) table[slot] = vv.getUint32(i * 4, true);
  }
  return table;
}

/** Writes `id` into each slot and zeroes its per-CPU counters, in two batches. */
function setSlots(fds: SlotMapFds, slots: number[], ids: number[]): void {
  if (slots.length === 0) return;
  const keys = new Uint8Array(slots.length * 4);
  const vals = new Uint8Array(slots.length * 4);
  const kv = new DataView(keys.buffer);
  const vv = new DataView(vals.buffer);
  slots.forEach((s, i) => {
    kv.setUint32(i * 4, s, true);
    vv.setUint32(i * 4, ids[i]!, true);
  });
  mapUpdateBatch(fds.counters, keys, new Uint8Array(slots.length * perCpuValueBytes(LAYOUT.sf_counter.size)), slots.length);
  mapUpdateBatch(fds.slots, keys, vals, slots.length);
}

/**
 * id -> slot for every id: an id that has a slot keeps it, a new id gets a
 * free one with zeroed counters. `claimed` lists the new slots so a failed
 * stage can give them back. E_MAP_FULL when the slots run out.
 */
export function claimSlots(fds: SlotMapFds, ids: Iterable<number>): { slotOf: Map<number, number>; claimed: number[] } {
  const table = readSlotTable(fds.slots);
  const slotOf = new Map<number, number>();
  table.forEach((id, slot) => { if (id !== 0) slotOf.set(id, slot); });
  const claimed: number[] = [];
  const claimedIds: number[] = [];
  let next = 0;
  for (const id of ids) {
    if (slotOf.has(id)) continue;
    while (next < table.length && table[next] !== 0) next++;
    if (next >= table.length) {
      throw new SecuxflowError('E_MAP_FULL', `rule hit counters: the kernel holds ${SF.MAX_RULE_SLOTS} counter slots, shared by the old and the new rule set`,
        'remove rules; the kernel keeps the previous rule set');
    }
    table[next] = id;
    slotOf.set(id, next);
    claimed.push(next);
    claimedIds.push(id);
  }
  setSlots(fds, claimed, claimedIds);
  return { slotOf, claimed };
}

/** Gives slots back (a stage that failed). */
export function releaseSlots(fds: SlotMapFds, slots: number[]): void {
  setSlots(fds, slots, slots.map(() => 0));
}

/**
 * Once no packet can be on the previous generation: frees the slots of rules
 * that are gone (counters zeroed, so a reused slot or id starts from zero)
 * and forgets them in sf_rule_hits.
 */
export function retireSlots(fds: SlotMapFds, liveIds: ReadonlySet<number>): void {
  const hits = mapDump(fds.hits);
  for (let i = 0; i < hits.count; i++) {
    const key = hits.keys.subarray(i * 4, i * 4 + 4);
    if (!liveIds.has(decodeU32(key))) mapDelete(fds.hits, key);
  }
  const table = readSlotTable(fds.slots);
  const gone: number[] = [];
  table.forEach((id, slot) => { if (id !== 0 && !liveIds.has(id)) gone.push(slot); });
  releaseSlots(fds, gone);
}

/** Per-rule hits summed over CPUs, keyed by rule id: sf_rule_hits names the counted rules and their slots. */
export function readHitsBySlot(hitsFd: number, countersFd: number): Map<number, { packets: number; bytes: number }> {
  const out = new Map<number, { packets: number; bytes: number }>();
  const d = mapDump(hitsFd);
  const kv = new DataView(d.keys.buffer, d.keys.byteOffset, d.keys.byteLength);
  const vv = new DataView(d.values.buffer, d.values.byteOffset, d.values.byteLength);
  const bytes = perCpuValueBytes(LAYOUT.sf_counter.size);
  const cpus = bytes / LAYOUT.sf_counter.size;
  for (let i = 0; i < d.count; i++) {
    const v = mapLookup(countersFd, u32Key(vv.getUint32(i * 4, true)), bytes);
    out.set(kv.getUint32(i * 4, true), v ? sumCounters(v, cpus) : { packets: 0, bytes: 0 });
  }
  return out;
}

// ---- writing an image into the maps ----

/** Fds of the maps a rule swap touches (from openObject().maps or objGet of the pins). */
export type RuleMapFds = Record<
  typeof MapName.CONFIG | typeof MapName.RULES_V4 | typeof MapName.RULES_V6 |
  typeof MapName.CIDR4 | typeof MapName.CIDR4_META | typeof MapName.CIDR6 | typeof MapName.CIDR6_META |
  typeof MapName.LPM_SRC_V6 | typeof MapName.LPM_DST_V6 |
  typeof MapName.EXACT_V4 | typeof MapName.EXACT_V6 |
  typeof MapName.RULE_HITS | typeof MapName.RULE_SLOTS | typeof MapName.RULE_COUNTERS,
  number
> & Partial<Record<typeof MapName.PORTS | typeof MapName.DPORTS, number>>;

/** sf_rule_hits fd -> sf_rule_counters fd of the same object, so readRuleHitsFromMap can take the one fd it always took. */
const COUNTERS_OF = new Map<number, number>();

function slotFds(fds: RuleMapFds): SlotMapFds {
  return { slots: fds.sf_rule_slots, counters: fds.sf_rule_counters, hits: fds.sf_rule_hits };
}

export function readActiveGeneration(fds: Pick<RuleMapFds, 'sf_config'>): number {
  return readConfigValue(fds.sf_config, SfConfig.ACTIVE_GEN) & 1;
}

/** Where a trie or exact-match key keeps its generation byte (the v6 layouts put it where the v4 ones do). */
export const GEN_BYTE = { lpm: LAYOUT.sf_lpm_v6_key.fields.gen, exact: LAYOUT.sf_exact_v4_key.fields.gen } as const;

/** Deletes generation `gen`'s keys from a trie or exact-match map; `genAt` is one of GEN_BYTE. */
export function deleteGenerationKeys(fd: number, gen: number, genAt: number): void {
  const dump = mapDump(fd);
  if (dump.count === 0) return;
  const keySize = dump.keys.length / dump.count;
  for (let i = 0; i < dump.count; i++) {
    const key = dump.keys.subarray(i * keySize, (i + 1) * keySize);
    if (key[genAt] === gen) mapDelete(fd, key);
  }
}

function writeRules(fd: number, gen: number, entries: KernelRuleEntry[]): void {
  if (entries.length === 0) return;
  const size = LAYOUT.sf_rule.size;
  const keys = new Uint8Array(entries.length * 4);
  const values = new Uint8Array(entries.length * size);
  const kv = new DataView(keys.buffer);
  entries.forEach((e, i) => {
    kv.setUint32(i * 4, gen * SF.MAX_RULES + i, true);
    encodeRule(e, values, i * size);
  });
  mapUpdateBatch(fd, keys, values, entries.length);
}

/**
 * sf_ports lists every port-index entry, both directions; sf_dports mirrors
 * its destination entries as an array for the program's lookup. A listed
 * destination entry is written to sf_ports before sf_dports and cleared from
 * sf_dports before sf_ports, so every live array slot is listed and a
 * generation is cleared in O(its entries), never by walking the array.
 * Returns the listed keys of generation `gen` after zeroing their slots.
 */
export function clearPortIndexGeneration(portsFd: number, dportsFd: number | undefined, gen: number): Uint8Array[] {
  const dump = mapDump(portsFd);
  const size = LAYOUT.sf_port_key.size;
  const keys: Uint8Array[] = [];
  const slots: number[] = [];
  for (let i = 0; i < dump.count; i++) {
    const key = dump.keys.subarray(i * size, (i + 1) * size);
    if (key[0] !== gen) continue;
    keys.push(key);
    if (key[2] === SfPortDir.DST) slots.push(dportIndex(gen, key[1] as 6 | 17, new DataView(key.buffer, key.byteOffset + 4, 2).getUint16(0, true)));
  }
  if (dportsFd !== undefined) writeDports(dportsFd, slots.map((idx) => ({ idx, meta: null })));
  for (const key of keys) mapDelete(portsFd, key);
  return keys;
}

/** Writes sf_dports slots in one batch (null meta: an empty slot). */
export function writeDports(fd: number, entries: Array<{ idx: number; meta: LpmMeta | null; value?: Uint8Array }>): void {
  if (entries.length === 0) return;
  const vs = LAYOUT.sf_lpm_meta.size;
  const keys = new Uint8Array(entries.length * 4);
  const values = new Uint8Array(entries.length * vs);
  const kv = new DataView(keys.buffer);
  entries.forEach((e, i) => {
    kv.setUint32(i * 4, e.idx, true);
    if (e.value) values.set(e.value, i * vs);
    else if (e.meta) encodeLpmMeta(e.meta, values, i * vs);
  });
  const written = mapUpdateBatch(fd, keys, values, entries.length);
  if (written !== entries.length) throw new SecuxflowError('E_KERNEL', `only ${written} of ${entries.length} port entries reached the kernel`);
}

function writePorts(fd: number, gen: number, entries: PortEntry[]): void {
  if (entries.length === 0) return;
  const ks = LAYOUT.sf_port_key.size;
  const vs = LAYOUT.sf_lpm_meta.size;
  const keys = new Uint8Array(entries.length * ks);
  const values = new Uint8Array(entries.length * vs);
  entries.forEach((e, i) => {
    encodePortKey(gen, e.proto, e.dir, e.port, keys, i * ks);
    encodeLpmMeta(e.meta, values, i * vs);
  });
  mapUpdateBatch(fd, keys, values, entries.length);
}

/**
 * One batch of sf_exact_v4/v6 entries of one direction. `putValue` writes an
 * entry's sf_lpm_meta at `at`: this file encodes its LpmMeta there, the swap
 * in ruleswap.ts copies bytes it encoded before. Returns how many entries the
 * kernel took.
 */
export function writeExactBatch<E extends { addr: Uint8Array }>(
  fd: number, gen: number, dir: number, entries: readonly E[], putValue: (e: E, values: Uint8Array, at: number) => void,
): number {
  if (entries.length === 0) return 0;
  const ks = entries[0]!.addr.length === 4 ? LAYOUT.sf_exact_v4_key.size : LAYOUT.sf_exact_v6_key.size;
  const vs = LAYOUT.sf_lpm_meta.size;
  const keys = new Uint8Array(entries.length * ks);
  const values = new Uint8Array(entries.length * vs);
  entries.forEach((e, i) => {
    encodeExactKey(gen, dir, e.addr, keys, i * ks);
    putValue(e, values, i * vs);
  });
  return mapUpdateBatch(fd, keys, values, entries.length);
}

function writeExact(fd: number, gen: number, dir: number, entries: LpmEntry[]): void {
  writeExactBatch(fd, gen, dir, entries, (e, values, at) => encodeLpmMeta(e.meta, values, at));
}

/** One IPv6 trie's entries of generation `gen`. */
function writeLpm(fd: number, gen: number, entries: LpmEntry[]): void {
  if (entries.length === 0) return;
  const ks = LAYOUT.sf_lpm_v6_key.size;
  const vs = LAYOUT.sf_lpm_meta.size;
  const keys = new Uint8Array(entries.length * ks);
  const values = new Uint8Array(entries.length * vs);
  entries.forEach((e, i) => {
    encodeLpmKey(gen, e.addr, e.prefixLen, keys, i * ks);
    encodeLpmMeta(e.meta, values, i * vs);
  });
  mapUpdateBatch(fd, keys, values, entries.length);
}

/**
 * Writes the image into the inactive generation and then flips
 * SF_CFG_ACTIVE_GEN with one 4-byte store, so a packet sees either the old
 * or the new rule set, never a mix. On any failure before the flip the kernel
 * keeps the old set and the error propagates. Returns the new generation.
 *
 * The inactive generation's leftovers are cleared at the start of the next
 * swap, not right after the flip, so packets still running on the old
 * generation keep a complete rule set.
 */
export function installRuleImage(fds: RuleMapFds, image: KernelRuleImage): number {
  const next = readActiveGeneration(fds) ^ 1;
  if (image.ports.length && fds.sf_ports === undefined) {
    throw new SecuxflowError('E_INTERNAL', 'the image uses the port index but no sf_ports map was given');
  }
  if (fds.sf_ports !== undefined) clearPortIndexGeneration(fds.sf_ports, fds.sf_dports, next);
  for (const fd of [fds.sf_exact_v4, fds.sf_exact_v6]) deleteGenerationKeys(fd, next, GEN_BYTE.exact);
  for (const fd of [fds.sf_lpm_src_v6, fds.sf_lpm_dst_v6]) deleteGenerationKeys(fd, next, GEN_BYTE.lpm);
  // The image is this call's own: its entries take their slots in place.
  const { slotOf } = claimSlots(slotFds(fds), image.slotIds);
  const slot = (id: number): number => slotOf.get(id)!;
  for (const e of [...image.v4, ...image.v6]) e.slot = slot(e.id);
  for (const tries of [image.lpm, image.exact, image.table6]) for (const list of Object.values(tries) as LpmEntry[][]) for (const e of list) e.meta = { ...e.meta, slot: slot(e.meta.ruleId) };
  for (const p of image.ports) p.meta = { ...p.meta, slot: slot(p.meta.ruleId) };
  writeRules(fds.sf_rules_v4, next, image.v4);
  writeRules(fds.sf_rules_v6, next, image.v6);
  const encoded = (list: LpmEntry[]): PrefixEntry[] => list.map((e) => ({ addr: e.addr, prefixLen: e.prefixLen, value: encodeLpmMeta(e.meta) }));
  writePrefixTable(CIDR4_TABLE, { table: fds.sf_cidr4, meta: fds.sf_cidr4_meta }, next, [
    { dir: SfPortDir.SRC, entries: encoded(image.lpm.srcV4) },
    { dir: SfPortDir.DST, entries: encoded(image.lpm.dstV4) },
  ]);
  writePrefixTable(CIDR6_TABLE, { table: fds.sf_cidr6, meta: fds.sf_cidr6_meta }, next, [
    { dir: SfPortDir.SRC, entries: encoded(image.table6.srcV6) },
    { dir: SfPortDir.DST, entries: encoded(image.table6.dstV6) },
  ]);
  writeLpm(fds.sf_lpm_src_v6, next, image.lpm.srcV6);
  writeLpm(fds.sf_lpm_dst_v6, next, image.lpm.dstV6);
  // Listed first (sf_ports, both directions), then the destination array the program reads.
  if (fds.sf_ports !== undefined) writePorts(fds.sf_ports, next, image.ports);
  const dst = image.ports.filter((p) => p.dir === SfPortDir.DST);
  if (dst.length) {
    if (fds.sf_dports === undefined) throw new SecuxflowError('E_INTERNAL', 'the image uses the port index but no sf_dports map was given');
    writeDports(fds.sf_dports, dst.map((p) => ({ idx: dportIndex(next, p.proto, p.port), meta: p.meta })));
  }
  writeExact(fds.sf_exact_v4, next, SfPortDir.SRC, image.exact.srcV4);
  writeExact(fds.sf_exact_v4, next, SfPortDir.DST, image.exact.dstV4);
  writeExact(fds.sf_exact_v6, next, SfPortDir.SRC, image.exact.srcV6);
  writeExact(fds.sf_exact_v6, next, SfPortDir.DST, image.exact.dstV6);
  writeRulesetMeta(fds.sf_config, next, {
    v4Count: image.v4.length, v6Count: image.v6.length, defaultAction: image.defaultAction, lpmMask: indexMask(image),
  });
  writeConfig(fds.sf_config, SfConfig.ACTIVE_GEN, next);
  // This writer's callers (the test bench) run packets from the same thread,
  // so none is still on the old generation: retire at once.
  retireSlots(slotFds(fds), new Set(image.ruleIds));
  COUNTERS_OF.set(fds.sf_rule_hits, fds.sf_rule_counters);
  return next;
}

/**
 * Per-rule hits summed over CPUs, keyed by rule id, for the object whose
 * sf_rule_hits is `fd` (its rules installed through installRuleImage).
 */
export function readRuleHitsFromMap(fd: number): Map<number, { packets: number; bytes: number }> {
  const counters = COUNTERS_OF.get(fd);
  if (counters === undefined) throw new SecuxflowError('E_INTERNAL', 'rule hits are read through the object installRuleImage wrote');
  return readHitsBySlot(fd, counters);
}
