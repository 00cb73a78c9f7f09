// The EVE records a decision and a flow's end produce, shared by the offline
// run and the daemon's queues. A flow's app_proto is what its modules'
// protocol events said last; it labels the flow's later alerts and its flow
// record, as Suricata's app_proto does.
import type { FlowOutput, FlowRecord, PacketDecision } from '../engine/types.js';
import { alertRecord, anomalyRecord, dropRecord, flowAlertRecord, flowProtocolRecord, flowRecord, flowRecordJson, protocolRecord, type EveRecord } from './format.js';

export class FlowEveRecords {
  private readonly appProto = new Map<number, string>();

  /** Emits a decision's anomaly record (a malformed packet), then its protocol, alert and drop records, in that order per module run. */
  decision(d: PacketDecision, emit: (rec: EveRecord) => void): void {
    if (d.pkt.malformed !== null) emit(anomalyRecord(d));
    // Runs once per packet: index loops, as for-of left iterators behind (heap
    // profile). The flow is read only for a run with output: by now it may be
    // out of the cache, and most packets have none.
    const runs = d.modules;
    for (let i = 0; i < runs.length; i++) {
      const run = runs[i]!;
      if (run.events.length === 0 && run.alerts.length === 0) continue;
      const flowId = d.flow?.id;
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

  /**
   * A module's records from the flow's end, protocol events first. A flow's
   * record may already be written (a sandboxed module answers flow ends
   * later), so its app_proto comes from the flow's earlier events or these.
   */
  flowOutput(o: FlowOutput, emit: (rec: EveRecord) => void): void {
    let appProto = this.appProto.get(o.record.flow.id);
    for (const ev of o.events) {
      if (ev.kind !== 'other') appProto = ev.kind;
      emit(flowProtocolRecord(o.record, ev));
    }
    for (const a of o.alerts) emit(flowAlertRecord(o.record, o.module, a, appProto));
    // Only the flow's own record, still to come, reads it; a late output must not leave an entry behind.
    if (appProto !== undefined && !o.late) this.appProto.set(o.record.flow.id, appProto);
  }

  /** flowEnded()'s record as its JSON line, written out directly (the daemon's queues). */
  flowEndedJson(r: FlowRecord): string {
    const line = flowRecordJson(r, this.appProto.get(r.flow.id));
    this.appProto.delete(r.flow.id);
    return line;
  }

  /** The flow ended and no record of it is written: its app_proto is forgotten. */
  forget(r: FlowRecord): void {
    this.appProto.delete(r.flow.id);
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
