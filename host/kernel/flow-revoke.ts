// Flow verdicts come before rules in the kernel (docs/kernel-maps.md): a flow
// the fast path allowed would go on flowing past a rule added later to drop
// it, for as long as it stays busy. So once a changed rule set is in place,
// every allowed flow whose packets the new rules drop (in either direction)
// becomes a blocked flow. A drop rule then ends the flows already running as
// it stops new ones. Flows a module blocked, and flows the rules still let
// through, keep their verdicts.
import type { RuleMatcher } from '../rules/match.js';
import { LAYOUT, MapName, SfFlowVerdict, decodeFlowKey, decodeFlowMetaPerCpu, encodeFlowKey, flowKeyId, perCpuStride, reverseFlowKey, type FlowKey } from './codec.js';
import { mapDump, possibleCpus } from './native.js';
import { openPinnedVerdictMaps, writeFlowVerdicts, type VerdictMapFds } from './verdictmaps.js';

/** Whether the rules drop this direction's packets. An outer VLAN id 0 may also mean untagged: either reading counts. */
function rulesDrop(matcher: RuleMatcher, k: FlowKey): boolean {
  const drops = (vlan: number | null): boolean => matcher.matchTuple(k.src, k.dst, k.proto, k.sport, k.dport, vlan).action === 'drop';
  return drops(k.vlanOuter) || (k.vlanOuter === 0 && drops(null));
}

/** Turns the allowed flows of one interface's sf_flows that `matcher` drops into blocked flows; returns how many flows. */
export function blockAllowedFlowsTheRulesDrop(fds: VerdictMapFds, matcher: RuleMatcher): number {
  const cpus = possibleCpus();
  const keySize = LAYOUT.sf_flow_key.size;
  const valueSize = perCpuStride(LAYOUT.sf_flow_meta.size) * cpus;
  const dump = mapDump(fds[MapName.FLOWS]);
  const doomed: FlowKey[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < dump.count; i++) {
    if (decodeFlowMetaPerCpu(dump.values, cpus, i * valueSize).verdict !== SfFlowVerdict.ALLOW) continue;
    const id = flowKeyId(dump.keys, i * keySize);
    if (seen.has(id)) continue; // the other direction of a flow already taken
    const key = decodeFlowKey(dump.keys, i * keySize);
    const rev = reverseFlowKey(key);
    if (!rulesDrop(matcher, key) && !rulesDrop(matcher, rev)) continue;
    seen.add(flowKeyId(encodeFlowKey(rev)));
    doomed.push(key);
  }
  for (const key of doomed) writeFlowVerdicts(fds, key, 'block');
  return doomed.length;
}

/** The same on the maps pinned in pinDir. */
export function blockPinnedAllowedFlows(pinDir: string, matcher: RuleMatcher): number {
  const fds = openPinnedVerdictMaps(pinDir);
  try {
    return blockAllowedFlowsTheRulesDrop(fds, matcher);
  } finally {
    fds.close();
  }
}
