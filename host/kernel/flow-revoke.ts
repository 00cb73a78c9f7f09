// Flow verdicts come before rules in the kernel (docs/kernel-maps.md): a flow
// the fast path allowed would go on flowing past a rule added later to drop
// it, for as long as it stays busy. So once a changed rule set is in place,
// every allowed flow whose packets the new rules drop (in either direction)
// becomes a blocked flow, marked as blocked by a rule change. A drop rule
// then ends the flows already running as it stops new ones.
//
// The mark makes the change undoable: a flow blocked that way that a later
// rule set no longer drops (the rule was deleted, or a pass rule now comes
// first) is allowed again, as it was. Without that, deleting a mistaken
// rule would leave its connections blocked for as long as their clients
// kept retrying, since a blocked flow's packets keep its entry from going
// idle. Flows a module blocked, and flows the rules still let through,
// keep their verdicts.
import type { RuleMatcher } from '../rules/match.js';
import {
  LAYOUT, MapName, SfFlowOrigin, SfFlowVerdict, decodeFlowKey, decodeFlowMetaPerCpu, encodeFlowKey, flowKeyId, perCpuStride, reverseFlowKey,
  type FlowKey,
} from './codec.js';
import { mapDump, possibleCpus } from './native.js';
import { openPinnedVerdictMaps, writeFlowVerdicts, type VerdictMapFds } from './verdictmaps.js';

export interface FlowReconcileResult {
  /** Allowed flows the rules now drop, blocked both ways. */
  blocked: number;
  /** Flows an earlier rule change blocked that the rules no longer drop, allowed again. */
  restored: number;
}

/** Whether the rules drop this direction's packets. An outer VLAN id 0 may also mean untagged: either reading counts. */
function rulesDrop(matcher: RuleMatcher, k: FlowKey): boolean {
  const drops = (vlan: number | null): boolean => matcher.matchTuple(k.src, k.dst, k.proto, k.sport, k.dport, vlan).action === 'drop';
  return drops(k.vlanOuter) || (k.vlanOuter === 0 && drops(null));
}

/** Brings one interface's sf_flows in line with the rules `matcher` holds (see the top of this file). */
export function reconcileFlowsWithRules(fds: VerdictMapFds, matcher: RuleMatcher): FlowReconcileResult {
  const cpus = possibleCpus();
  const keySize = LAYOUT.sf_flow_key.size;
  const valueSize = perCpuStride(LAYOUT.sf_flow_meta.size) * cpus;
  const dump = mapDump(fds[MapName.FLOWS]);
  const doomed: FlowKey[] = [];
  const restored: FlowKey[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < dump.count; i++) {
    const meta = decodeFlowMetaPerCpu(dump.values, cpus, i * valueSize);
    const allowed = meta.verdict === SfFlowVerdict.ALLOW;
    const blockedByRules = meta.verdict === SfFlowVerdict.BLOCK && meta.origin === SfFlowOrigin.RULE_CHANGE;
    if (!allowed && !blockedByRules) continue;
    const id = flowKeyId(dump.keys, i * keySize);
    if (seen.has(id)) continue; // the other direction of a flow already taken
    const key = decodeFlowKey(dump.keys, i * keySize);
    const rev = reverseFlowKey(key);
    const dropped = rulesDrop(matcher, key) || rulesDrop(matcher, rev);
    if (dropped !== allowed) continue;
    seen.add(flowKeyId(encodeFlowKey(rev)));
    (allowed ? doomed : restored).push(key);
  }
  for (const key of doomed) writeFlowVerdicts(fds, key, 'block', SfFlowOrigin.RULE_CHANGE);
  for (const key of restored) writeFlowVerdicts(fds, key, 'allow');
  return { blocked: doomed.length, restored: restored.length };
}

/** The same on the maps pinned in pinDir. */
export function reconcilePinnedFlows(pinDir: string, matcher: RuleMatcher): FlowReconcileResult {
  const fds = openPinnedVerdictMaps(pinDir);
  try {
    return reconcileFlowsWithRules(fds, matcher);
  } finally {
    fds.close();
  }
}
