// What a module emits from on_flow_end belongs to the flow: an HTTP request
// that never got a response (all of them, for a server in host mode) is
// reported when its flow ends. Those alerts and events reach the engine's
// counters and, through onFlowOutput, the EVE output with the flow's
// endpoints; they used to be dropped for want of a packet.
import { describe, expect, it } from 'vitest';
import { Engine, type EngineModule } from '../../../host/engine/engine.js';
import type { FlowOutput, FlowRecord } from '../../../host/engine/types.js';
import { FlowEveRecords } from '../../../host/eve/flow-events.js';
import type { EveRecord } from '../../../host/eve/format.js';
import { InThreadInspector } from '../../../host/sandbox/in-thread.js';
import { moduleWith, packet } from './support.js';

const JSON_EVENT = '{"url":"/lonely","http_method":"GET"}';

/** CONTINUE on every packet; on_flow_end emits alert 4400 and an http event, both with pkt_index -1. */
async function reportsAtFlowEnd(): Promise<EngineModule> {
  const instance = await moduleWith('at_end', '', '',
    `(drop (call $emit_alert (i32.const -1) (i32.const 4400) (i32.const 2) (i32.const 64) (i32.const 8) (i32.const 0) (i32.const 0)))
     (drop (call $emit_event (i32.const -1) (i32.const 3) (i32.const 128) (i32.const ${JSON_EVENT.length})))`,
    `(data (i32.const 64) "flow end") (data (i32.const 128) ${JSON.stringify(JSON_EVENT)})`);
  return { name: 'at_end', instance };
}

function runEngine(mod: EngineModule) {
  const outputs: FlowOutput[] = [];
  const ended: FlowRecord[] = [];
  const order: string[] = [];
  const engine = new Engine({
    rules: { defaultPolicy: 'inspect', rules: [] },
    modules: [mod],
    onFlowOutput: (o) => { outputs.push(o); order.push('output'); },
    onFlowEnd: (r) => { ended.push(r); order.push('flow'); },
  });
  engine.pushDecoded(packet({ dstPort: 80, srcPort: 40001 }, 0));
  engine.pushDecoded(packet({ dstPort: 80, srcPort: 40002 }, 1));
  const counters = engine.finish();
  return { outputs, ended, order, counters };
}

describe('alerts and events from on_flow_end', () => {
  it('reach onFlowOutput with the flow\'s record, before that record, and count as alerts and events, not drops', async () => {
    const { outputs, ended, order, counters } = runEngine(await reportsAtFlowEnd());
    expect(outputs).toHaveLength(2);
    expect(order).toEqual(['output', 'flow', 'output', 'flow']);
    expect(outputs.map((o) => o.record)).toEqual(ended);
    expect(outputs[0]).toMatchObject({ module: 'at_end', late: false, alerts: [{ sigId: 4400, message: 'flow end', index: -1 }], events: [{ kind: 'http', data: { url: '/lonely' } }] });
    expect(ended.every((r) => r.alerted)).toBe(true);
    expect([counters.alerts, counters.events, counters.alertsDropped, counters.eventsDropped]).toEqual([2, 2, 0, 0]);
    expect(counters.alertsBySignature.get('at_end:4400')?.count).toBe(2);
  });

  it('come through the in-thread runner too, counted in its own alerts and events', async () => {
    const runner = await InThreadInspector.create('at_end', async () => (await reportsAtFlowEnd()).instance as never);
    const { outputs, counters } = runEngine({ name: 'at_end', instance: runner });
    expect(outputs.flatMap((o) => o.alerts.map((a) => a.sigId))).toEqual([4400, 4400]);
    expect(counters.eventsDropped).toBe(0);
    expect(runner.stats()).toMatchObject({ alerts: 2, events: 2 });
  });

  it('become EVE records about the flow, client to server, at its last packet, with the flow\'s action', async () => {
    const { outputs } = runEngine(await reportsAtFlowEnd());
    const records = new FlowEveRecords();
    const out: EveRecord[] = [];
    records.flowOutput(outputs[0]!, (r) => out.push(r));
    out.push(records.flowEnded(outputs[0]!.record));
    expect(out.map((r) => r.event_type)).toEqual(['http', 'alert', 'flow']);
    const [http, alert, flow] = out as [EveRecord, EveRecord, EveRecord];
    for (const r of out) {
      expect(r).toMatchObject({ flow_id: outputs[0]!.record.flow.id, src_ip: '198.18.0.1', dest_ip: '198.18.1.1', src_port: 40001, dest_port: 80, proto: 'TCP' });
    }
    expect(http.http).toEqual({ url: '/lonely', http_method: 'GET' });
    expect(alert).toMatchObject({ app_proto: 'http', alert: { action: 'allowed', signature_id: 4400, signature: 'flow end', metadata: { module: ['at_end'] } } });
    expect(alert.timestamp).toBe(flow.timestamp);
    expect(flow.app_proto).toBe('http');
  });

  it('many flows ending at once (the end of a capture) get a budget per 256 flow ends, as packets do per 256', async () => {
    const outputs: FlowOutput[] = [];
    const engine = new Engine({ rules: { defaultPolicy: 'inspect', rules: [] }, modules: [await reportsAtFlowEnd()], onFlowOutput: (o) => { outputs.push(o); } });
    for (let i = 0; i < 600; i++) engine.pushDecoded(packet({ dstPort: 80, srcPort: 20000 + i }, 0));
    const counters = engine.finish();
    // One gap between batches, 600 flow ends: once one budget of 256 alerts and 256 events for all of them.
    expect(outputs).toHaveLength(600);
    expect([counters.alerts, counters.events, counters.alertsDropped, counters.eventsDropped]).toEqual([600, 600, 0, 0]);
  });

  it('a late output (after the flow\'s record) leaves no app_proto entry behind', async () => {
    const { outputs } = runEngine(await reportsAtFlowEnd());
    const records = new FlowEveRecords();
    records.flowEnded(outputs[0]!.record);
    records.flowOutput({ ...outputs[0]!, late: true }, () => {});
    expect((records as unknown as { appProto: Map<number, string> }).appProto.size).toBe(0);
  });
});
