// The EVE records a decision and a flow's end produce, shared by the offline
// run and the daemon's queues. A flow's app_proto is what its modules'
// protocol events said last; it labels the flow's later alerts and its flow
// record, as Suricata's app_proto does.
import type { FlowRecord, PacketDecision } from '../engine/types.js';
import { alertRecord, dropRecord, flowRecord, protocolRecord, type EveRecord } from './format.js';

export class FlowEveRecords {
  private readonly appProto = new Map<number, string>();

  /** Emits a decision's protocol, alert and drop records, in that order per module run. */
  decision(d: PacketDecision, emit: (rec: EveRecord) => void): void {
    const flowId = d.flow?.id;
    // Runs once per packet: index loops, as for-of left iterators behind (heap profile).
    const runs = d.modules;
    for (let i = 0; i < runs.length; i++) {
      const run = runs[i]!;
      for (let j = 0; j < run.events.length; j++) {
        const ev = run.events[j]!;
        if (flowId !== undefined && ev.kind !== 'other') this.appProto.set(flowId, ev.kind);
        emit(protocolRecord(d, ev));
      }
      for (let j = 0; j < run.alerts.length; j++) {
        emit(alertRecord(d, run.module, run.alerts[j]!, flowId !== undefined ? this.appProto.get(flowId) : undefined));
      }
    }
    if (d.dropped && d.modules.length === 0 && d.stage !== 'flow') emit(dropRecord(d));
  }

  /** The flow's closing record; its app_proto is forgotten. */
  flowEnded(r: FlowRecord): EveRecord {
    const rec = flowRecord(r, this.appProto.get(r.flow.id));
    this.appProto.delete(r.flow.id);
    return rec;
  }

  /** Flow ids restart with a new engine. */
  clear(): void {
    this.appProto.clear();
  }
}
