// One rule set in the byte form one kernel generation holds. Placement (LPM
// or scanned array) is compile.ts's decision; this only encodes its result
// so the swap in ruleswap.ts can stage several interfaces before flipping.
import type { RuleSet } from '../rules/types.js';
import { encodeLpmMeta, encodeRule, encodeRulesetMeta, LAYOUT, SfLpmHas, SfPortDir, type KernelRuleEntry } from './codec.js';
import { compileRules, type LpmEntry as CompiledLpmEntry } from './compile.js';

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
  lpm: { srcV4: LpmEntry[]; dstV4: LpmEntry[]; srcV6: LpmEntry[]; dstV6: LpmEntry[] };
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
  let lpmMask = 0;
  if (image.ports.some((p) => p.dir === SfPortDir.DST)) lpmMask |= SfLpmHas.PORTS_DST;
  if (image.ports.some((p) => p.dir === SfPortDir.SRC)) lpmMask |= SfLpmHas.PORTS_SRC;
  if (image.lpm.srcV4.length) lpmMask |= SfLpmHas.SRC_V4;
  if (image.lpm.dstV4.length) lpmMask |= SfLpmHas.DST_V4;
  if (image.lpm.srcV6.length) lpmMask |= SfLpmHas.SRC_V6;
  if (image.lpm.dstV6.length) lpmMask |= SfLpmHas.DST_V6;
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
    ports: image.ports.map((p) => ({ proto: p.proto, dir: p.dir, port: p.port, value: encodeLpmMeta(p.meta) })),
    meta: encodeRulesetMeta({ v4Count: image.v4.length, v6Count: image.v6.length, defaultAction: image.defaultAction, lpmMask }),
  };
}
