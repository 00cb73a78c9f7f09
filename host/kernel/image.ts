// One rule set in the byte form one kernel generation holds. Placement (LPM
// or scanned array) is compile.ts's decision; this only encodes its result
// so the swap in ruleswap.ts can stage several interfaces before flipping.
// Counter slots are per interface (its own sf_rule_slots), so every encoded
// value carries slot 0 here and stageGeneration writes the slot in.
import type { RuleSet } from '../rules/types.js';
import { encodeLpmMeta, encodeRule, encodeRulesetMeta, LAYOUT, type KernelRuleEntry } from './codec.js';
import { compileRules, indexMask, type LpmEntry as CompiledLpmEntry } from './compile.js';

export interface LpmEntry {
  /** Network-order address bytes (4 or 16), host bits zero. */
  addr: Uint8Array;
  /** CIDR prefix length (without the generation bits). */
  prefixLen: number;
  /** Encoded sf_lpm_meta. */
  value: Uint8Array;
}

export interface PortIndexEntry {
  proto: number;
  dir: number;
  port: number;
  /** Encoded sf_lpm_meta. */
  value: Uint8Array;
}

export interface GenerationImage {
  /** v4Count encoded sf_rule entries, in slot order. */
  v4Rules: Uint8Array;
  v4Count: number;
  v6Rules: Uint8Array;
  v6Count: number;
  /** Prefix index entries: IPv4 for the prefix table, IPv6 for the tries. */
  lpm: { srcV4: LpmEntry[]; dstV4: LpmEntry[]; srcV6: LpmEntry[]; dstV6: LpmEntry[] };
  /** /32 and /128 CIDR-only entries for sf_exact_v4/v6 (prefixLen is the full length). */
  exact: { srcV4: LpmEntry[]; dstV4: LpmEntry[]; srcV6: LpmEntry[]; dstV6: LpmEntry[] };
  /** IPv6 directions in the IPv6 prefix table (compile.ts's table6). */
  table6: { srcV6: LpmEntry[]; dstV6: LpmEntry[] };
  /** Rule ids that need a counter slot (every id some entry can report). */
  slotIds: number[];
  /** Port-index entries (sf_ports); empty unless compiled with the port index. */
  ports: PortIndexEntry[];
  /** Encoded sf_ruleset_meta for this generation. */
  meta: Uint8Array;
}

function encodeRules(entries: KernelRuleEntry[]): Uint8Array {
  const size = LAYOUT.sf_rule.size;
  const out = new Uint8Array(entries.length * size);
  entries.forEach((e, i) => encodeRule(e, out, i * size));
  return out;
}

function encodeLpm(entries: CompiledLpmEntry[]): LpmEntry[] {
  return entries.map((e) => ({ addr: e.addr, prefixLen: e.prefixLen, value: encodeLpmMeta(e.meta) }));
}

/**
 * Compiles the rule set (E_MAP_FULL when it cannot fit) and encodes it.
 * `portIndex` puts single-port rules into sf_ports; only pass it when the
 * target has that map (pins from an older object may not).
 */
export function toGenerationImage(set: RuleSet, opts: { portIndex?: boolean } = {}): GenerationImage {
  const image = compileRules(set, { portIndex: opts.portIndex === true });
  const lpmMask = indexMask(image);
  return {
    v4Rules: encodeRules(image.v4),
    v4Count: image.v4.length,
    v6Rules: encodeRules(image.v6),
    v6Count: image.v6.length,
    lpm: {
      srcV4: encodeLpm(image.lpm.srcV4),
      dstV4: encodeLpm(image.lpm.dstV4),
      srcV6: encodeLpm(image.lpm.srcV6),
      dstV6: encodeLpm(image.lpm.dstV6),
    },
    exact: {
      srcV4: encodeLpm(image.exact.srcV4),
      dstV4: encodeLpm(image.exact.dstV4),
      srcV6: encodeLpm(image.exact.srcV6),
      dstV6: encodeLpm(image.exact.dstV6),
    },
    table6: { srcV6: encodeLpm(image.table6.srcV6), dstV6: encodeLpm(image.table6.dstV6) },
    slotIds: image.slotIds,
    ports: image.ports.map((p) => ({ proto: p.proto, dir: p.dir, port: p.port, value: encodeLpmMeta(p.meta) })),
    meta: encodeRulesetMeta({ v4Count: image.v4.length, v6Count: image.v6.length, defaultAction: image.defaultAction, lpmMask }),
  };
}
