// The daemon writes flow records with flowRecordJson, which spells the JSON
// out instead of building the object: it must write exactly what
// JSON.stringify(flowRecord()) writes, for every shape of flow.
import { describe, expect, it } from 'vitest';
import { flowRecord, flowRecordJson } from '../../../host/eve/format.js';
import { FlowEveRecords } from '../../../host/eve/flow-events.js';
import type { FlowRecord } from '../../../host/engine/types.js';
import { FlowTable } from '../../../host/flow/table.js';
import type { FlowEndReason } from '../../../host/flow/types.js';
import { buildPacket, type PacketSpec } from '../../../host/packet/build.js';
import { decodePacket } from '../../../host/packet/decode.js';
import { LinkType } from '../../../host/packet/types.js';
import { mulberry32 } from '../../support/random.js';

const REASONS: FlowEndReason[] = ['timeout', 'closed', 'evicted', 'shutdown', 'released'];
const VERDICTS = ['pass', 'continue', 'drop', 'allow_flow', 'block_flow', 'block_src'];
const APP_PROTOS = [undefined, '', 'http', 'dns', 'tls', 'ssh', 'say "hi"\\ \u0001 é 😀', '\ud800'];

function randomSpec(r: () => number): PacketSpec {
  const v6 = r() < 0.4;
  const host = (): string => (v6 ? `2001:db8::${Math.floor(r() * 0xffff).toString(16)}` : `198.18.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}`);
  const pick = r();
  const proto: PacketSpec['proto'] = pick < 0.4 ? 'tcp' : pick < 0.7 ? 'udp' : pick < 0.85 ? 'icmp' : pick < 0.93 ? 47 : 132;
  const vlans = r() < 0.7 ? [] : r() < 0.5 ? [Math.floor(r() * 4096)] : [Math.floor(r() * 4096), Math.floor(r() * 4096)];
  return {
    src: host(), dst: host(), proto, vlans,
    srcPort: Math.floor(r() * 65536), dstPort: Math.floor(r() * 65536),
    tcpFlags: r() < 0.5 ? 0x02 : 0x18, icmpType: Math.floor(r() * 256),
    payload: new Uint8Array(Math.floor(r() * 40)),
  };
}

describe('flowRecordJson', () => {
  it('writes what JSON.stringify(flowRecord()) writes, for random flows, reasons, verdicts and app_protos', () => {
    const r = mulberry32(20261124);
    const table = new FlowTable();
    for (let i = 0; i < 3000; i++) {
      const t = 1_767_225_600 + r() * 1e6;
      const pkt = decodePacket(buildPacket(randomSpec(r)), LinkType.ETHERNET, Math.floor(t), Math.floor((t % 1) * 1e9));
      const flow = table.track(pkt)?.flow;
      if (!flow) continue;
      if (r() < 0.3) flow.last += r() * 100;
      if (r() < 0.05) flow.id = 2 ** 40 + i;
      const rec: FlowRecord = {
        flow, reason: REASONS[i % REASONS.length]!, verdict: VERDICTS[i % VERDICTS.length]!, alerted: r() < 0.5,
      };
      const appProto = APP_PROTOS[i % APP_PROTOS.length];
      expect(flowRecordJson(rec, appProto)).toBe(JSON.stringify(flowRecord(rec, appProto)));
    }
  });

  it('is what the daemon writes: flowEndedJson gives the same line and forgets the app_proto as flowEnded does', () => {
    const table = new FlowTable();
    const pkt = decodePacket(buildPacket({ src: '198.18.0.1', dst: '198.18.0.2', proto: 'tcp', srcPort: 40000, dstPort: 80, tcpFlags: 0x02 }), LinkType.ETHERNET, 1_767_225_600, 0);
    const flow = table.track(pkt)!.flow;
    const rec: FlowRecord = { flow, reason: 'evicted', verdict: 'allow_flow', alerted: false };
    const records = new FlowEveRecords();
    const output = { record: rec, module: 'm', alerts: [], events: [{ index: 0, kind: 'http' as const, data: {} }], late: false };
    records.flowOutput(output, () => {});
    const line = records.flowEndedJson(rec);
    expect(JSON.parse(line).app_proto).toBe('http');
    expect(line).toBe(JSON.stringify(flowRecord(rec, 'http')));
    expect(JSON.parse(records.flowEndedJson(rec)).app_proto).toBeUndefined();
  });
});
