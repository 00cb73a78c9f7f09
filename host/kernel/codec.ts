// Byte codecs for every struct of xdp/secuxflow.h. LAYOUT below is the single
// TypeScript statement of the header's sizes and offsets;
// test/kernel/codec-layout.test.ts compiles the header and compares.
// Numbers are little-endian (host order on the machines we support);
// addresses are network-order bytes, IPv4 v4-mapped where a struct holds both.
import { isV4Mapped } from '../packet/addr.js';

export const SF = {
  MAX_RULES: 4096,
  GENERATIONS: 2,
  MAX_FLOWS: 65536,
  MAX_PENALTY: 65536,
  MAX_QUEUES: 64,
  /** Rule counter slots (sf_rule_counters), shared by both generations. */
  MAX_RULE_SLOTS: 32768,
  /** sf_exact_v4 / sf_exact_v6 entries (both generations and directions). */
  MAX_EXACT: 16384,
  /** sf_dports entries: generations x (tcp, udp) x 65536 ports. */
  DPORT_ENTRIES: 2 * 2 * 65536,
  /** The prefix tables (sf_cidr4, sf_cidr6): roots per (generation, direction), then each generation's pool of blocks. */
  CIDR_ROOT_CELLS: 2 * 2 * 65536,
  CIDR_BLOCK_CELLS: 256,
  /** A cell pointing to the block below it. */
  CIDR_CHILD: 0x80000000,
  /** Blocks of 256 cells in one generation's pool. */
  CIDR4_BLOCKS: 4096,
  CIDR4_CELLS: 2 * 2 * 65536 + 2 * 4096 * 256,
  /** sf_cidr4_meta entries per generation. */
  CIDR4_METAS: 2 * 4096,
  CIDR6_BLOCKS: 4096,
  CIDR6_CELLS: 2 * 2 * 65536 + 2 * 4096 * 256,
  CIDR6_METAS: 2 * 4096,
  /** The daemon's AF_XDP UMEM frame size. */
  XSK_FRAME_SIZE: 2048,
  /** The longest frame the program punts; longer ones get the punt fallback. */
  PUNT_MAX_FRAME: 2048 - 256,
} as const;

/** Map names, exactly the SF_MAP_* strings. */
export const MapName = {
  CONFIG: 'sf_config',
  RULES_V4: 'sf_rules_v4',
  RULES_V6: 'sf_rules_v6',
  CIDR4: 'sf_cidr4',
  CIDR4_META: 'sf_cidr4_meta',
  CIDR6: 'sf_cidr6',
  CIDR6_META: 'sf_cidr6_meta',
  LPM_SRC_V6: 'sf_lpm_src_v6',
  LPM_DST_V6: 'sf_lpm_dst_v6',
  PORTS: 'sf_ports',
  DPORTS: 'sf_dports',
  EXACT_V4: 'sf_exact_v4',
  EXACT_V6: 'sf_exact_v6',
  RULE_HITS: 'sf_rule_hits',
  RULE_SLOTS: 'sf_rule_slots',
  RULE_COUNTERS: 'sf_rule_counters',
  FLOWS: 'sf_flows',
  PENALTY: 'sf_penalty',
  STATS: 'sf_stats',
  XSKS: 'sf_xsks',
  LAST: 'sf_last',
} as const;
export type MapName = (typeof MapName)[keyof typeof MapName];
export const PROG_NAME = 'sf_xdp';

export const SfAction = { PASS: 1, DROP: 2, INSPECT: 3 } as const;
export const SfFlowVerdict = { ALLOW: 1, BLOCK: 2 } as const;
/** sf_flow_meta.origin: who set the verdict (SF_ORIGIN_* in the header). */
export const SfFlowOrigin = { DAEMON: 0, RULE_CHANGE: 1 } as const;

export const SfStage = { NONE: 0, NON_IP: 1, PASS_ALL: 2, PENALTY: 3, FLOW: 4, LPM: 5, SCAN: 6, DEFAULT: 7, PORT: 8, INVALID: 9 } as const;
export type SfStageName = 'none' | 'non-ip' | 'pass-all' | 'penalty' | 'flow' | 'lpm' | 'scan' | 'default' | 'port' | 'invalid';
export const STAGE_NAMES: readonly SfStageName[] = ['none', 'non-ip', 'pass-all', 'penalty', 'flow', 'lpm', 'scan', 'default', 'port', 'invalid'];

/** Word indices of sf_config (struct sf_config.word[SF_CFG_*]). */
export const SfConfig = {
  ACTIVE_GEN: 0, PASS_ALL: 1, PUNT_FALLBACK: 2, RECORD_LAST: 3, FLOWS_ACTIVE: 4, PENALTY_ACTIVE: 5, VERDICTS_ACTIVE: 6, RULES_STAMP: 7, MAX: 8,
} as const;
/** Bits of SF_CFG_VERDICTS_ACTIVE, the union of the two switches the program reads. */
export const SfActive = { FLOWS: 0x1, PENALTY: 0x2 } as const;

/** Indices of the derived counters sumStatsRecord returns (SF_STAT_* in the header). */
export const SfStat = { RX: 0, PASS: 1, DROP: 2, PUNT: 3, PUNT_FALLBACK: 4, STAGE_BASE: 8, MAX: 24 } as const;
/** What the kernel counts: one cell per (stage, outcome), SF_OUT_* and SF_STAT_CELL. */
export const SfOutcome = { PASS: 0, DROP: 1, PUNT: 2, FALLBACK_PASS: 3, FALLBACK_DROP: 4, COUNT: 5 } as const;
export const SF_STAGES = STAGE_NAMES.length;
export const SF_STAT_CELLS = SF_STAGES * SfOutcome.COUNT;
export const statCell = (stage: number, outcome: number): number => stage * SfOutcome.COUNT + outcome;

export const SfLpmHas = {
  SRC_V4: 0x1, DST_V4: 0x2, SRC_V6: 0x4, DST_V6: 0x8, PORTS_DST: 0x10, PORTS_SRC: 0x20,
  EXACT_SRC_V4: 0x40, EXACT_DST_V4: 0x80, EXACT_SRC_V6: 0x100, EXACT_DST_V6: 0x200,
  TABLE_SRC_V6: 0x400, TABLE_DST_V6: 0x800,
} as const;
export const SfPortDir = { DST: 0, SRC: 1 } as const;

export const SfRuleFlag = { SRC: 0x01, DST: 0x02, SPORT: 0x04, DPORT: 0x08, VLAN: 0x10, PROTO: 0x20 } as const;

/** struct name -> size and field offsets, as in xdp/secuxflow.h. */
export const LAYOUT = {
  sf_ruleset_meta: { size: 16, fields: { v4_count: 0, v6_count: 4, default_action: 8, lpm_mask: 12 } },
  sf_config: { size: 64, fields: { word: 0, ruleset: 32 } },
  sf_rule: {
    size: 88,
    fields: {
      id: 0, priority: 4, action: 6, proto: 7, sport_lo: 8, sport_hi: 10, dport_lo: 12, dport_hi: 14,
      vlan: 16, flags: 18, slot: 20, src_net: 24, src_mask: 40, dst_net: 56, dst_mask: 72,
    },
  },
  sf_lpm_v6_key: { size: 24, fields: { prefixlen: 0, gen: 4, addr: 8 } },
  sf_lpm_meta: { size: 12, fields: { rule_id: 0, priority: 4, action: 6, slot: 8 } },
  sf_exact_v4_key: { size: 8, fields: { gen: 0, dir: 1, addr: 4 } },
  sf_exact_v6_key: { size: 20, fields: { gen: 0, dir: 1, addr: 4 } },
  sf_counter: { size: 16, fields: { packets: 0, bytes: 8 } },
  sf_stats_record: { size: 800, fields: { c: 0 } },
  sf_port_key: { size: 8, fields: { gen: 0, proto: 1, dir: 2, port: 4 } },
  sf_flow_key: { size: 44, fields: { src: 0, dst: 16, sport: 32, dport: 34, vlan_outer: 36, vlan_inner: 38, proto: 40, version: 41 } },
  sf_flow_meta: { size: 24, fields: { verdict: 0, origin: 4, packets: 8, bytes: 16 } },
  sf_penalty_key: { size: 16, fields: { addr: 0 } },
  sf_penalty_meta: { size: 16, fields: { expires_ns: 0, hits: 8 } },
  sf_decision: { size: 16, fields: { rule_id: 0, stage: 4, action: 5, xdp_action: 6, seq: 8 } },
} as const;

const R = LAYOUT.sf_rule.fields;

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** 4-byte IPv4 becomes ::ffff:a.b.c.d; 16 bytes are copied. */
export function toV6Mapped(addr: Uint8Array, out: Uint8Array, at = 0): void {
  if (addr.length === 4) {
    out.fill(0, at, at + 10);
    out[at + 10] = 0xff;
    out[at + 11] = 0xff;
    out.set(addr, at + 12);
  } else {
    out.set(addr.subarray(0, 16), at);
  }
}

// ---- config and rule-set header ----

export function u32Key(index: number): Uint8Array {
  const k = new Uint8Array(4);
  view(k).setUint32(0, index, true);
  return k;
}

export function encodeU32(value: number): Uint8Array {
  return u32Key(value);
}

export function decodeU32(b: Uint8Array): number {
  return view(b).getUint32(0, true);
}

export interface RulesetMeta {
  v4Count: number;
  v6Count: number;
  defaultAction: number;
  lpmMask: number;
}

export function encodeRulesetMeta(m: RulesetMeta): Uint8Array {
  const b = new Uint8Array(LAYOUT.sf_ruleset_meta.size);
  const v = view(b);
  v.setUint32(0, m.v4Count, true);
  v.setUint32(4, m.v6Count, true);
  v.setUint32(8, m.defaultAction, true);
  v.setUint32(12, m.lpmMask, true);
  return b;
}

export function decodeRulesetMeta(b: Uint8Array): RulesetMeta {
  const v = view(b);
  return { v4Count: v.getUint32(0, true), v6Count: v.getUint32(4, true), defaultAction: v.getUint32(8, true), lpmMask: v.getUint32(12, true) };
}

// ---- rule array entries ----

export interface KernelRuleEntry {
  id: number;
  priority: number;
  action: number;
  /** IP protocol number; meaningful when flags has PROTO. */
  proto: number;
  sportLo: number;
  sportHi: number;
  dportLo: number;
  dportHi: number;
  vlan: number;
  flags: number;
  /** Counter slot (sf_rule_counters); assigned when the rule set is staged, 0 until then. */
  slot?: number;
  /** Four big-endian words each (IPv4 rules use word 0), already masked. */
  srcNet: readonly number[];
  srcMask: readonly number[];
  dstNet: readonly number[];
  dstMask: readonly number[];
}

function putWordsBE(b: Uint8Array, at: number, words: readonly number[]): void {
  for (let i = 0; i < 4; i++) {
    const w = (words[i] ?? 0) >>> 0;
    b[at + i * 4] = w >>> 24;
    b[at + i * 4 + 1] = (w >>> 16) & 0xff;
    b[at + i * 4 + 2] = (w >>> 8) & 0xff;
    b[at + i * 4 + 3] = w & 0xff;
  }
}

function getWordsBE(b: Uint8Array, at: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < 4; i++) {
    out.push(((b[at + i * 4]! << 24) | (b[at + i * 4 + 1]! << 16) | (b[at + i * 4 + 2]! << 8) | b[at + i * 4 + 3]!) >>> 0);
  }
  return out;
}

/** Writes one sf_rule at `at` in `out` (out may hold a batch). */
export function encodeRule(e: KernelRuleEntry, out: Uint8Array = new Uint8Array(LAYOUT.sf_rule.size), at = 0): Uint8Array {
  const v = view(out);
  out.fill(0, at, at + LAYOUT.sf_rule.size);
  v.setUint32(at + R.id, e.id, true);
  v.setUint16(at + R.priority, e.priority, true);
  out[at + R.action] = e.action;
  out[at + R.proto] = e.proto;
  v.setUint16(at + R.sport_lo, e.sportLo, true);
  v.setUint16(at + R.sport_hi, e.sportHi, true);
  v.setUint16(at + R.dport_lo, e.dportLo, true);
  v.setUint16(at + R.dport_hi, e.dportHi, true);
  v.setUint16(at + R.vlan, e.vlan, true);
  out[at + R.flags] = e.flags;
  v.setUint32(at + R.slot, e.slot ?? 0, true);
  putWordsBE(out, at + R.src_net, e.srcNet);
  putWordsBE(out, at + R.src_mask, e.srcMask);
  putWordsBE(out, at + R.dst_net, e.dstNet);
  putWordsBE(out, at + R.dst_mask, e.dstMask);
  return out;
}

export function decodeRule(b: Uint8Array, at = 0): KernelRuleEntry {
  const v = view(b);
  return {
    id: v.getUint32(at + R.id, true),
    priority: v.getUint16(at + R.priority, true),
    action: b[at + R.action]!,
    proto: b[at + R.proto]!,
    sportLo: v.getUint16(at + R.sport_lo, true),
    sportHi: v.getUint16(at + R.sport_hi, true),
    dportLo: v.getUint16(at + R.dport_lo, true),
    dportHi: v.getUint16(at + R.dport_hi, true),
    vlan: v.getUint16(at + R.vlan, true),
    flags: b[at + R.flags]!,
    slot: v.getUint32(at + R.slot, true),
    srcNet: getWordsBE(b, at + R.src_net),
    srcMask: getWordsBE(b, at + R.src_mask),
    dstNet: getWordsBE(b, at + R.dst_net),
    dstMask: getWordsBE(b, at + R.dst_mask),
  };
}

// ---- LPM tries ----

/** Bits of the key data before the address: the generation byte and 3 zero bytes. */
export const LPM_GEN_BITS = 32;

/** Key of an IPv6 CIDR in generation `gen`; a lookup key is the full-length prefix of an address. */
export function encodeLpmKey(gen: number, addr: Uint8Array, prefixLen: number, out?: Uint8Array, at = 0): Uint8Array {
  if (addr.length !== 16) throw new RangeError(`an LPM trie key holds an IPv6 address, got ${addr.length} bytes`);
  const size = LAYOUT.sf_lpm_v6_key.size;
  const b = out ?? new Uint8Array(size);
  b.fill(0, at, at + size);
  view(b).setUint32(at, LPM_GEN_BITS + prefixLen, true);
  b[at + 4] = gen;
  b.set(addr, at + 8);
  return b;
}

/** sf_cidr4 or sf_cidr6 index of the root cell for an address's first 16 bits (SF_CIDR_ROOT_INDEX). */
export function cidrRootIndex(gen: number, dir: number, top16: number): number {
  return (((gen * 2 + dir) << 16) | top16) >>> 0;
}

/** sf_cidr4 index of generation `gen`'s first pool cell (SF_CIDR4_POOL_START). */
export function cidr4PoolStart(gen: number): number {
  return SF.CIDR_ROOT_CELLS + gen * SF.CIDR4_BLOCKS * SF.CIDR_BLOCK_CELLS;
}

/** sf_cidr6 index of generation `gen`'s first pool cell (SF_CIDR6_POOL_START). */
export function cidr6PoolStart(gen: number): number {
  return SF.CIDR_ROOT_CELLS + gen * SF.CIDR6_BLOCKS * SF.CIDR_BLOCK_CELLS;
}

export function decodeLpmKey(b: Uint8Array, at = 0): { gen: number; prefixLen: number; addr: Uint8Array } {
  return { gen: b[at + 4]!, prefixLen: view(b).getUint32(at, true) - LPM_GEN_BITS, addr: b.slice(at + 8, at + 24) };
}

export interface LpmMeta {
  ruleId: number;
  priority: number;
  action: number;
  /** Counter slot; assigned when the rule set is staged, 0 until then. */
  slot?: number;
}

export function encodeLpmMeta(m: LpmMeta, out: Uint8Array = new Uint8Array(LAYOUT.sf_lpm_meta.size), at = 0): Uint8Array {
  const v = view(out);
  out.fill(0, at, at + LAYOUT.sf_lpm_meta.size);
  v.setUint32(at, m.ruleId, true);
  v.setUint16(at + 4, m.priority, true);
  out[at + 6] = m.action;
  v.setUint32(at + 8, m.slot ?? 0, true);
  return out;
}

export function decodeLpmMeta(b: Uint8Array, at = 0): LpmMeta {
  const v = view(b);
  return { ruleId: v.getUint32(at, true), priority: v.getUint16(at + 4, true), action: b[at + 6]!, slot: v.getUint32(at + 8, true) };
}

/** Offset of the slot inside an encoded sf_lpm_meta and sf_rule, for staging. */
export const SLOT_OFFSET = { sf_lpm_meta: LAYOUT.sf_lpm_meta.fields.slot, sf_rule: LAYOUT.sf_rule.fields.slot } as const;

// ---- exact addresses (CIDR-only /32 and /128) ----

/** Key of one full-length address in sf_exact_v4 (4 bytes) or sf_exact_v6 (16 bytes); dir is SfPortDir. */
export function encodeExactKey(gen: number, dir: number, addr: Uint8Array, out?: Uint8Array, at = 0): Uint8Array {
  const size = addr.length === 4 ? LAYOUT.sf_exact_v4_key.size : LAYOUT.sf_exact_v6_key.size;
  const b = out ?? new Uint8Array(size);
  b.fill(0, at, at + size);
  b[at] = gen;
  b[at + 1] = dir;
  b.set(addr, at + 4);
  return b;
}

// ---- port index ----

/** sf_dports index of a destination port (SF_DPORT_INDEX). */
export function dportIndex(gen: number, proto: 6 | 17, port: number): number {
  return (((gen * 2 + (proto === 17 ? 1 : 0)) << 16) | port) >>> 0;
}

export function encodePortKey(gen: number, proto: number, dir: number, port: number, out: Uint8Array = new Uint8Array(LAYOUT.sf_port_key.size), at = 0): Uint8Array {
  out.fill(0, at, at + LAYOUT.sf_port_key.size);
  out[at] = gen;
  out[at + 1] = proto;
  out[at + 2] = dir;
  view(out).setUint16(at + 4, port, true);
  return out;
}

// ---- counters (per-CPU: one 8-byte-aligned stride per possible CPU) ----

export interface Counter {
  packets: number;
  bytes: number;
}

export function perCpuStride(valueSize: number): number {
  return Math.ceil(valueSize / 8) * 8;
}

/** Sums a per-CPU sf_counter value over `cpus` strides. */
export function sumCounters(b: Uint8Array, cpus: number, at = 0): Counter {
  const v = view(b);
  let packets = 0n;
  let bytes = 0n;
  for (let c = 0; c < cpus; c++) {
    const o = at + c * LAYOUT.sf_counter.size;
    packets += v.getBigUint64(o, true);
    bytes += v.getBigUint64(o + 8, true);
  }
  return { packets: Number(packets), bytes: Number(bytes) };
}

/**
 * Sums per-CPU sf_stats_record values into the SF_STAT_* counters: counter i
 * of the result is SF_STAT_i. The kernel counts each packet once, in its
 * (stage, outcome) cell; rx, each outcome and each stage are sums of cells.
 */
export function sumStatsRecord(b: Uint8Array, cpus: number): Counter[] {
  const out: Counter[] = Array.from({ length: SfStat.MAX }, () => ({ packets: 0, bytes: 0 }));
  const stride = perCpuStride(LAYOUT.sf_stats_record.size);
  const add = (i: number, c: Counter): void => {
    out[i]!.packets += c.packets;
    out[i]!.bytes += c.bytes;
  };
  const byOutcome: Record<number, number[]> = {
    [SfOutcome.PASS]: [SfStat.PASS],
    [SfOutcome.DROP]: [SfStat.DROP],
    [SfOutcome.PUNT]: [SfStat.PUNT],
    [SfOutcome.FALLBACK_PASS]: [SfStat.PASS, SfStat.PUNT_FALLBACK],
    [SfOutcome.FALLBACK_DROP]: [SfStat.DROP, SfStat.PUNT_FALLBACK],
  };
  for (let stage = 0; stage < SF_STAGES; stage++) {
    for (let o = 0; o < SfOutcome.COUNT; o++) {
      const cell = { packets: 0, bytes: 0 };
      for (let c = 0; c < cpus; c++) {
        const one = sumCounters(b, 1, c * stride + statCell(stage, o) * LAYOUT.sf_counter.size);
        cell.packets += one.packets;
        cell.bytes += one.bytes;
      }
      add(SfStat.RX, cell);
      add(SfStat.STAGE_BASE + stage, cell);
      for (const i of byOutcome[o]!) add(i, cell);
    }
  }
  return out;
}

// ---- flow verdicts ----

export interface FlowKey {
  /** 4 or 16 bytes, wire order of this direction; the length gives the IP version. */
  src: Uint8Array;
  dst: Uint8Array;
  sport: number;
  dport: number;
  vlanOuter: number;
  vlanInner: number;
  proto: number;
}

export function encodeFlowKey(k: FlowKey, out: Uint8Array = new Uint8Array(LAYOUT.sf_flow_key.size), at = 0): Uint8Array {
  const F = LAYOUT.sf_flow_key.fields;
  const v = view(out);
  out.fill(0, at, at + LAYOUT.sf_flow_key.size);
  toV6Mapped(k.src, out, at + F.src);
  toV6Mapped(k.dst, out, at + F.dst);
  v.setUint16(at + F.sport, k.sport, true);
  v.setUint16(at + F.dport, k.dport, true);
  v.setUint16(at + F.vlan_outer, k.vlanOuter, true);
  v.setUint16(at + F.vlan_inner, k.vlanInner, true);
  out[at + F.proto] = k.proto;
  out[at + F.version] = k.src.length === 4 ? 4 : 6;
  return out;
}

/** A flow key's bytes at `at` as text: a Map key for the entries of one sf_flows dump. */
export function flowKeyId(b: Uint8Array, at = 0): string {
  return Buffer.from(b.buffer, b.byteOffset + at, LAYOUT.sf_flow_key.size).toString('hex');
}

/** The other direction's key of the same flow. */
export function reverseFlowKey(k: FlowKey): FlowKey {
  return { ...k, src: k.dst, dst: k.src, sport: k.dport, dport: k.sport };
}

export function decodeFlowKey(b: Uint8Array, at = 0): FlowKey {
  const F = LAYOUT.sf_flow_key.fields;
  const v = view(b);
  // IPv4 keys come back as 4-byte addresses, so decode and encode round-trip.
  const skip = b[at + F.version] === 4 ? 12 : 0;
  return {
    src: b.slice(at + F.src + skip, at + F.src + 16),
    dst: b.slice(at + F.dst + skip, at + F.dst + 16),
    sport: v.getUint16(at + F.sport, true),
    dport: v.getUint16(at + F.dport, true),
    vlanOuter: v.getUint16(at + F.vlan_outer, true),
    vlanInner: v.getUint16(at + F.vlan_inner, true),
    proto: b[at + F.proto]!,
  };
}

/** IP version stored in an encoded flow key. */
export function flowKeyVersion(b: Uint8Array, at = 0): 4 | 6 {
  return b[at + LAYOUT.sf_flow_key.fields.version] === 4 ? 4 : 6;
}

/** A per-CPU sf_flow_meta with `verdict` and `origin` on every CPU and zero counters. */
export function encodeFlowMetaPerCpu(verdict: number, cpus: number, origin: number = SfFlowOrigin.DAEMON): Uint8Array {
  const stride = perCpuStride(LAYOUT.sf_flow_meta.size);
  const F = LAYOUT.sf_flow_meta.fields;
  const b = new Uint8Array(stride * cpus);
  const v = view(b);
  for (let c = 0; c < cpus; c++) {
    v.setUint32(c * stride + F.verdict, verdict, true);
    v.setUint32(c * stride + F.origin, origin, true);
  }
  return b;
}

export interface FlowMetaSum {
  verdict: number;
  origin: number;
  packets: number;
  bytes: number;
}

/** Verdict and origin as CPU 0 holds them (every write sets all CPUs alike), counters summed. */
export function decodeFlowMetaPerCpu(b: Uint8Array, cpus: number, at = 0): FlowMetaSum {
  const stride = perCpuStride(LAYOUT.sf_flow_meta.size);
  const v = view(b);
  let packets = 0n;
  let bytes = 0n;
  for (let c = 0; c < cpus; c++) {
    packets += v.getBigUint64(at + c * stride + LAYOUT.sf_flow_meta.fields.packets, true);
    bytes += v.getBigUint64(at + c * stride + LAYOUT.sf_flow_meta.fields.bytes, true);
  }
  const F = LAYOUT.sf_flow_meta.fields;
  return { verdict: v.getUint32(at + F.verdict, true), origin: v.getUint32(at + F.origin, true), packets: Number(packets), bytes: Number(bytes) };
}

// ---- penalty box ----

export function encodePenaltyKey(addr: Uint8Array): Uint8Array {
  const b = new Uint8Array(LAYOUT.sf_penalty_key.size);
  toV6Mapped(addr, b, 0);
  return b;
}

/** The source a key names: 4 bytes for a v4-mapped key (how IPv4 is stored), else 16. */
export function decodePenaltyKey(b: Uint8Array): Uint8Array {
  return b.slice(isV4Mapped(b) ? 12 : 0, 16);
}

/** A source as the penalty box holds it: ::ffff:a.b.c.d is the IPv4 source a.b.c.d (4 bytes). */
export function penaltySource(addr: Uint8Array): Uint8Array {
  return decodePenaltyKey(encodePenaltyKey(addr));
}

/** expiresNs: CLOCK_MONOTONIC nanoseconds (process.hrtime.bigint() is that clock on Linux). */
export function encodePenaltyMeta(expiresNs: bigint): Uint8Array {
  const b = new Uint8Array(LAYOUT.sf_penalty_meta.size);
  view(b).setBigUint64(0, expiresNs, true);
  return b;
}

export function decodePenaltyMeta(b: Uint8Array): { expiresNs: bigint; hits: number } {
  const v = view(b);
  return { expiresNs: v.getBigUint64(0, true), hits: Number(v.getBigUint64(8, true)) };
}

// ---- last decision ----

export interface Decision {
  ruleId: number;
  stage: number;
  action: number;
  xdpAction: number;
  seq: bigint;
}

export function decodeDecision(b: Uint8Array): Decision {
  const v = view(b);
  return { ruleId: v.getUint32(0, true), stage: b[4]!, action: b[5]!, xdpAction: b[6]!, seq: v.getBigUint64(8, true) };
}
