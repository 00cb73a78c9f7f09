// The flows the kernel decides on its own (sf_flows) on every attached
// interface, read and deleted through the pins: what `secuxflow flow list`
// shows and `flow delete`/`clear` remove. An entry is one direction; the
// daemon and rule changes write both, so the two are one flow, named in the
// direction that carried more, with the packets and bytes XDP counted in
// each, and deleted together.
import { dumpAttachedMaps } from './attached-dumps.js';
import { LAYOUT, MapName, SfFlowOrigin, SfFlowVerdict, decodeFlowKey, decodeFlowMetaPerCpu, encodeFlowKey, flowKeyId, perCpuStride, reverseFlowKey, type FlowKey } from './codec.js';
import { mapDelete, mapDump, possibleCpus, type MapDump } from './native.js';
import { changeEverywhere, type AttachedChange } from './attached-change.js';
import { refreshActiveSwitches } from './verdictmaps.js';
import { isSelective, selectsFlow, type FlowSelector, type SelectableFlow } from '../flow/selector.js';

export interface KernelFlow {
  iface: string;
  key: FlowKey;
  verdict: 'allow' | 'block';
  /** Who wrote it: the daemon (a module's verdict or the inspection cap) or a rule change that drops an allowed flow. */
  origin: 'daemon' | 'rule-change';
  /** Packets and bytes XDP handled in the key's direction and in the reverse one (0 when that entry is absent). */
  forward: { packets: number; bytes: number };
  reverse: { packets: number; bytes: number } | null;
}

export interface KernelFlowList {
  ifaces: string[];
  flows: KernelFlow[];
  unreadable: { iface: string; error: string }[];
}

function verdictName(v: number): KernelFlow['verdict'] | null {
  return v === SfFlowVerdict.ALLOW ? 'allow' : v === SfFlowVerdict.BLOCK ? 'block' : null;
}

/** A flow as the kernel holds it, with its entries' indexes in the dump (one, or both directions'). */
interface PairedFlow {
  flow: KernelFlow;
  entries: number[];
}

/** One interface's dump of sf_flows, the two directions of each flow paired. */
function pairFlows(iface: string, dump: MapDump, cpus: number): PairedFlow[] {
  const kSize = LAYOUT.sf_flow_key.size;
  const vSize = perCpuStride(LAYOUT.sf_flow_meta.size) * cpus;
  const out: PairedFlow[] = [];
  // Each entry by its encoded key, so the reverse direction is one lookup away.
  const byId = new Map<string, number>();
  for (let i = 0; i < dump.count; i++) byId.set(flowKeyId(dump.keys, i * kSize), i);
  const shown = new Set<number>();
  for (let i = 0; i < dump.count; i++) {
    if (shown.has(i)) continue;
    const key = decodeFlowKey(dump.keys, i * kSize);
    const meta = decodeFlowMetaPerCpu(dump.values, cpus, i * vSize);
    const verdict = verdictName(meta.verdict);
    if (verdict === null) continue;
    const r = byId.get(flowKeyId(encodeFlowKey(reverseFlowKey(key))));
    let reverse: KernelFlow['reverse'] = null;
    const entries = [i];
    if (r !== undefined && r !== i) {
      shown.add(r);
      entries.push(r);
      const rm = decodeFlowMetaPerCpu(dump.values, cpus, r * vSize);
      reverse = { packets: rm.packets, bytes: rm.bytes };
    }
    const forward = { packets: meta.packets, bytes: meta.bytes };
    const origin = meta.origin === SfFlowOrigin.RULE_CHANGE ? 'rule-change' : 'daemon';
    // Named in the direction that carried more, which on a host's own
    // interface is the one that arrives (XDP sees ingress only).
    const flow: KernelFlow = reverse !== null && reverse.packets > forward.packets
      ? { iface, key: reverseFlowKey(key), verdict, origin, forward: reverse, reverse: forward }
      : { iface, key, verdict, origin, forward, reverse };
    out.push({ flow, entries });
  }
  return out;
}

/** Every flow entry of every attached interface, the two directions of a flow paired. */
export function listKernelFlows(stateDir: string): KernelFlowList {
  const out: KernelFlowList = { ifaces: [], flows: [], unreadable: [] };
  const cpus = possibleCpus();
  const { dumps, unreadable } = dumpAttachedMaps(stateDir, MapName.FLOWS);
  out.unreadable = unreadable;
  for (const { iface, dump } of dumps) {
    out.ifaces.push(iface);
    for (const p of pairFlows(iface, dump, cpus)) out.flows.push(p.flow);
  }
  // The busiest first: what the fast path saves.
  const total = (f: KernelFlow): number => f.forward.packets + (f.reverse?.packets ?? 0);
  out.flows.sort((a, b) => total(b) - total(a));
  return out;
}

export function selectableFlow(f: KernelFlow): SelectableFlow {
  return { proto: f.key.proto, addrA: f.key.src, addrB: f.key.dst, portA: f.key.sport, portB: f.key.dport, verdict: f.verdict };
}

export interface KernelFlowDeletion extends AttachedChange {
  /** The flows deleted, each interface's own (a bridged flow is on both sides). */
  deleted: KernelFlow[];
}

/**
 * Deletes both directions' entries of the flows `sel` picks, on every
 * attached interface or none; their next packets meet the rules again. The
 * flows' lookup switch is lowered when a map is left empty.
 */
export function deleteKernelFlows(stateDir: string, sel: FlowSelector): KernelFlowDeletion {
  const cpus = possibleCpus();
  const kSize = LAYOUT.sf_flow_key.size;
  const vSize = perCpuStride(LAYOUT.sf_flow_meta.size) * cpus;
  const deleted: KernelFlow[] = [];
  const change = changeEverywhere(stateDir, 'the flow verdict map', isSelective(sel) ? 'deleting flows' : 'clearing the flows', (fds, undo, iface) => {
    const dump = mapDump(fds.sf_flows);
    for (const { flow, entries } of pairFlows(iface, dump, cpus)) {
      if (!selectsFlow(sel, selectableFlow(flow))) continue;
      for (const i of entries) {
        const key = dump.keys.slice(i * kSize, (i + 1) * kSize);
        undo.push({ fds, map: fds.sf_flows, key, before: dump.values.slice(i * vSize, (i + 1) * vSize) });
        mapDelete(fds.sf_flows, key);
      }
      deleted.push(flow);
    }
    refreshActiveSwitches(fds);
  });
  return { ...change, deleted };
}
