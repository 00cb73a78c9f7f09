// Expiry of kernel verdict state, done the way Suricata expires bypassed
// flows: the kernel keeps no timestamps, only per-CPU packet counters on each
// flow entry. A periodic walk remembers each entry's packet sum; an entry
// whose sum, and its reverse direction's, has not moved for the idle timeout
// is deleted with its reverse. Penalty entries carry a monotonic deadline and
// go once it is past.
import { LAYOUT, MapName, decodeFlowKey, decodeFlowMetaPerCpu, decodePenaltyMeta, encodeFlowKey, flowKeyId, perCpuStride, reverseFlowKey } from '../kernel/codec.js';
import { mapDeleteBatch, mapDump, possibleCpus } from '../kernel/native.js';
import { refreshActiveSwitches, type VerdictMapFds } from '../kernel/verdictmaps.js';

export interface ExpiryResult {
  flowEntries: number;
  penaltyEntries: number;
  flowsExpired: number;
  penaltyExpired: number;
}

interface Seen {
  packets: number;
  /** Last time (ms) the counter moved, or the entry was first seen. */
  movedAt: number;
}

export class VerdictExpiry {
  private seen = new Map<string, Seen>();
  totalFlowsExpired = 0;
  totalPenaltyExpired = 0;

  constructor(
    private readonly fds: VerdictMapFds,
    private idleMs: number,
    private readonly nowMs: () => number = () => Date.now(),
    private readonly monotonicNs: () => bigint = () => process.hrtime.bigint(),
  ) {}

  setIdleTimeout(ms: number): void {
    this.idleMs = ms;
  }

  /** One walk over both maps. */
  sweep(): ExpiryResult {
    const now = this.nowMs();
    const cpus = possibleCpus();
    const keySize = LAYOUT.sf_flow_key.size;
    const valueSize = perCpuStride(LAYOUT.sf_flow_meta.size) * cpus;
    const dump = mapDump(this.fds[MapName.FLOWS]);
    const next = new Map<string, Seen>();
    for (let i = 0; i < dump.count; i++) {
      const k = flowKeyId(dump.keys, i * keySize);
      const { packets } = decodeFlowMetaPerCpu(dump.values, cpus, i * valueSize);
      const prev = this.seen.get(k);
      next.set(k, prev && prev.packets === packets ? prev : { packets, movedAt: now });
    }
    // Idle entries and their reverses, deleted together at the end in batches.
    const doomed = new Uint8Array(2 * dump.count * keySize);
    let nDoomed = 0;
    for (let i = 0; i < dump.count; i++) {
      const k = flowKeyId(dump.keys, i * keySize);
      const s = next.get(k);
      if (!s || now - s.movedAt < this.idleMs) continue;
      const key = decodeFlowKey(dump.keys, i * keySize);
      const rev = encodeFlowKey(reverseFlowKey(key));
      const rk = flowKeyId(rev);
      const r = next.get(rk);
      if (r && now - r.movedAt < this.idleMs) continue;
      doomed.set(dump.keys.subarray(i * keySize, (i + 1) * keySize), nDoomed++ * keySize);
      next.delete(k);
      if (r) {
        doomed.set(rev, nDoomed++ * keySize);
        next.delete(rk);
      }
    }
    const flowsExpired = nDoomed > 0 ? mapDeleteBatch(this.fds[MapName.FLOWS], doomed, nDoomed) : 0;
    this.seen = next;

    const nowNs = this.monotonicNs();
    const pen = mapDump(this.fds[MapName.PENALTY]);
    const pKey = LAYOUT.sf_penalty_key.size;
    const pVal = LAYOUT.sf_penalty_meta.size;
    const past = new Uint8Array(pen.count * pKey);
    let nPast = 0;
    for (let i = 0; i < pen.count; i++) {
      const meta = decodePenaltyMeta(pen.values.subarray(i * pVal, (i + 1) * pVal));
      if (meta.expiresNs <= nowNs) past.set(pen.keys.subarray(i * pKey, (i + 1) * pKey), nPast++ * pKey);
    }
    const penaltyExpired = nPast > 0 ? mapDeleteBatch(this.fds[MapName.PENALTY], past, nPast) : 0;
    if (flowsExpired > 0 || penaltyExpired > 0 || dump.count === 0 || pen.count === 0) {
      // Lower the lookup switches of maps now empty; a worker that writes
      // meanwhile raises its switch again after writing, and a decided flow
      // that gets punted again is re-written by the worker (writeback.ts).
      refreshActiveSwitches(this.fds);
    }
    this.totalFlowsExpired += flowsExpired;
    this.totalPenaltyExpired += penaltyExpired;
    return {
      flowEntries: dump.count - flowsExpired,
      penaltyEntries: pen.count - penaltyExpired,
      flowsExpired,
      penaltyExpired,
    };
  }
}
