// RuleSet -> the kernel's map contents (compileRules, pure), and the atomic
// swap that writes them into a loaded or pinned program's maps
// (installRuleImage). The placement is docs/kernel-maps.md:
//  - a CIDR-only rule (exactly one of src/dst, proto any, no ports, no vlan)
//    goes into an LPM trie of its family and direction; each trie entry holds
//    the best (priority, id) of every CIDR-only rule of that trie covering the
//    entry's prefix, so the longest match already yields the best of them;
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
  encodeLpmKey, encodeLpmMeta, encodePortKey, encodeRule, encodeRulesetMeta, u32Key, encodeU32, decodeU32, decodeLpmKey,
  lpmKeySize, type KernelRuleEntry, type LpmMeta,
} from './codec.js';
import { mapDelete, mapDump, mapLookup, mapUpdate, mapUpdateBatch, possibleCpus } from './native.js';

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
  lpm: { srcV4: LpmEntry[]; dstV4: LpmEntry[]; srcV6: LpmEntry[]; dstV6: LpmEntry[] };
  /** Port index entries; empty unless compiled with portIndex. */
  ports: PortEntry[];
  /** Every rule id the image can report as matched (for hit-counter housekeeping). */
  ruleIds: number[];
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
  const lpm = {
    srcV4: lpmEntries(of('src', 4), (r) => r.src!),
    dstV4: lpmEntries(of('dst', 4), (r) => r.dst!),
    srcV6: lpmEntries(of('src', 6), (r) => r.src!),
    dstV6: lpmEntries(of('dst', 6), (r) => r.dst!),
  };
  if (v4.length > SF.MAX_RULES) throw full('IPv4 rules that need the scanned array', v4.length);
  if (v6.length > SF.MAX_RULES) throw full('IPv6 rules that need the scanned array', v6.length);
  for (const [name, entries] of Object.entries(lpm)) {
    if (entries.length > SF.MAX_RULES) throw full(`CIDR-only rules in trie ${name}`, entries.length);
  }
  const ports = portEntries(portOnly);
  if (ports.length > MAX_PORT_ENTRIES) throw full('port-only rule entries (a proto-any rule takes two)', ports.length);
  return { defaultAction: RULE_ACTION_CODE[set.defaultPolicy], v4, v6, lpm, ports, ruleIds: sorted.map((r) => r.id) };
}

// ---- writing an image into the maps ----

/** Fds of the maps a rule swap touches (from openObject().maps or objGet of the pins). */
export type RuleMapFds = Record<
  typeof MapName.CONFIG | typeof MapName.RULESET | typeof MapName.RULES_V4 | typeof MapName.RULES_V6 |
  typeof MapName.LPM_SRC_V4 | typeof MapName.LPM_DST_V4 | typeof MapName.LPM_SRC_V6 | typeof MapName.LPM_DST_V6 |
  typeof MapName.RULE_HITS,
  number
> & Partial<Record<typeof MapName.PORTS, number>>;

export function readActiveGeneration(fds: Pick<RuleMapFds, 'sf_config'>): number {
  const v = mapLookup(fds.sf_config, u32Key(SfConfig.ACTIVE_GEN), 4);
  return v ? decodeU32(v) & 1 : 0;
}

function clearGeneration(fd: number, gen: number): void {
  const dump = mapDump(fd);
  if (dump.count === 0) return;
  const keySize = dump.keys.length / dump.count;
  for (let i = 0; i < dump.count; i++) {
    const key = dump.keys.subarray(i * keySize, (i + 1) * keySize);
    if (decodeLpmKey(key).gen === gen) mapDelete(fd, key);
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

function clearPortGeneration(fd: number, gen: number): void {
  const dump = mapDump(fd);
  const size = LAYOUT.sf_port_key.size;
  for (let i = 0; i < dump.count; i++) {
    const key = dump.keys.subarray(i * size, (i + 1) * size);
    if (key[0] === gen) mapDelete(fd, key);
  }
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

function writeLpm(fd: number, gen: number, version: 4 | 6, entries: LpmEntry[]): void {
  if (entries.length === 0) return;
  const ks = lpmKeySize(version);
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
 * SF_CFG_ACTIVE_GEN with one 4-byte update, so a packet sees either the old
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
  if (fds.sf_ports !== undefined) clearPortGeneration(fds.sf_ports, next);
  clearGeneration(fds.sf_lpm_src_v4, next);
  clearGeneration(fds.sf_lpm_dst_v4, next);
  clearGeneration(fds.sf_lpm_src_v6, next);
  clearGeneration(fds.sf_lpm_dst_v6, next);
  writeRules(fds.sf_rules_v4, next, image.v4);
  writeRules(fds.sf_rules_v6, next, image.v6);
  writeLpm(fds.sf_lpm_src_v4, next, 4, image.lpm.srcV4);
  writeLpm(fds.sf_lpm_dst_v4, next, 4, image.lpm.dstV4);
  writeLpm(fds.sf_lpm_src_v6, next, 6, image.lpm.srcV6);
  writeLpm(fds.sf_lpm_dst_v6, next, 6, image.lpm.dstV6);
  if (fds.sf_ports !== undefined) writePorts(fds.sf_ports, next, image.ports);
  let lpmMask = 0;
  if (image.ports.some((p) => p.dir === SfPortDir.DST)) lpmMask |= SfLpmHas.PORTS_DST;
  if (image.ports.some((p) => p.dir === SfPortDir.SRC)) lpmMask |= SfLpmHas.PORTS_SRC;
  if (image.lpm.srcV4.length) lpmMask |= SfLpmHas.SRC_V4;
  if (image.lpm.dstV4.length) lpmMask |= SfLpmHas.DST_V4;
  if (image.lpm.srcV6.length) lpmMask |= SfLpmHas.SRC_V6;
  if (image.lpm.dstV6.length) lpmMask |= SfLpmHas.DST_V6;
  mapUpdate(fds.sf_ruleset, u32Key(next), encodeRulesetMeta({
    v4Count: image.v4.length, v6Count: image.v6.length, defaultAction: image.defaultAction, lpmMask,
  }));
  mapUpdate(fds.sf_config, u32Key(SfConfig.ACTIVE_GEN), encodeU32(next));
  dropStaleCounters(fds.sf_rule_hits, image.ruleIds);
  return next;
}

/** Removes hit counters of rules no longer in the set, so a reused id starts from zero. */
function dropStaleCounters(fd: number, liveIds: number[]): void {
  const live = new Set(liveIds);
  const dump = mapDump(fd);
  for (let i = 0; i < dump.count; i++) {
    const key = dump.keys.subarray(i * 4, i * 4 + 4);
    if (!live.has(decodeU32(key))) mapDelete(fd, key);
  }
}

/** Per-rule hits summed over CPUs, keyed by rule id. */
export function readRuleHitsFromMap(fd: number): Map<number, { packets: number; bytes: number }> {
  const out = new Map<number, { packets: number; bytes: number }>();
  const dump = mapDump(fd);
  if (dump.count === 0) return out;
  const cpus = possibleCpus();
  const stride = dump.values.length / dump.count;
  const dv = new DataView(dump.values.buffer, dump.values.byteOffset, dump.values.byteLength);
  for (let i = 0; i < dump.count; i++) {
    let packets = 0n;
    let bytes = 0n;
    for (let c = 0; c < cpus; c++) {
      packets += dv.getBigUint64(i * stride + c * 16, true);
      bytes += dv.getBigUint64(i * stride + c * 16 + 8, true);
    }
    out.set(decodeU32(dump.keys.subarray(i * 4, i * 4 + 4)), { packets: Number(packets), bytes: Number(bytes) });
  }
  return out;
}
