// What a module controls in an EVE line (alert message and metadata, event
// data) must stay inside the fields it owns.
import { describe, expect, it } from 'vitest';
import { alertRecord, protocolRecord } from '../../../host/eve/format.js';
import type { PacketDecision } from '../../../host/engine/types.js';
import { packet } from '../engine/support.js';

function decision(): PacketDecision {
  const pkt = packet({ dstPort: 80 });
  return { index: 0, pkt, sources: [pkt], flow: null, direction: 0, stage: 'module', rule: null, ruleAction: null, modules: [], verdict: 0, dropped: false, inspected: 1 };
}

describe('EVE fields a module fills', () => {
  it('alert metadata naming another module, or carrying "__proto__" and top-level EVE keys, stays in alert.metadata and cannot change who raised the alert', () => {
    // As the hostcall gives it: parsed from the module's JSON text, so "__proto__" is an own key.
    const metadata = JSON.parse('{"module":"trusted_module","__proto__":"kept","event_type":"flow","src_ip":"10.0.0.1","n":[1,{"a":"\\"}"}]}') as Record<string, unknown>;
    const message = 'sig "quoted" \\ back\nslash\u2028\u0000\u001b[2J';
    const line = JSON.stringify(alertRecord(decision(), 'hostile', { index: 0, sigId: 2 ** 31 - 1, severity: 255, message, metadata }, undefined));
    expect(line).not.toContain('\n');
    const rec = JSON.parse(line) as Record<string, any>;
    expect(rec.event_type).toBe('alert');
    expect(rec.src_ip).toBe('198.18.0.1');
    expect(rec.alert.signature).toBe(message);
    expect(rec.alert.metadata.module).toEqual(['hostile']);
    expect(Object.keys(rec.alert.metadata)).toEqual(['module', '__proto__', 'event_type', 'src_ip', 'n']);
    expect(rec.alert.metadata.__proto__).toEqual(['kept']);
    expect(rec.alert.metadata.n).toEqual(['1', '{"a":"\\"}"}']);
  });

  it('event data with "__proto__" and EVE keys stays under the event\'s own key', () => {
    const data = JSON.parse('{"__proto__":{"x":1},"event_type":"alert","rrname":"a\\nb"}') as Record<string, unknown>;
    const rec = JSON.parse(JSON.stringify(protocolRecord(decision(), { index: 0, kind: 'dns', data }))) as Record<string, any>;
    expect(rec.event_type).toBe('dns');
    expect(Object.keys(rec.dns)).toEqual(['__proto__', 'event_type', 'rrname']);
    expect(rec.dns.rrname).toBe('a\nb');
  });
});
