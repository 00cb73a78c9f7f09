// A flow record's verdict says what became of the flow. For a flow that rules
// decided (no module ran), it is the rule's: a flow a drop rule dropped used to
// be reported as "pass", since only module verdicts were kept for the record.
import { describe, expect, it } from 'vitest';
import { Engine } from '../../../host/engine/engine.js';
import type { FlowRecord } from '../../../host/engine/types.js';
import { validateRuleSet } from '../../../host/rules/parse.js';
import { packet } from './support.js';

function flowRecords(rules: unknown): FlowRecord[] {
  const flows: FlowRecord[] = [];
  const engine = new Engine({ rules: validateRuleSet(rules, 'test'), modules: [], onFlowEnd: (r) => flows.push(r) });
  engine.pushDecoded(packet({ dstPort: 23 }, 0));
  engine.pushDecoded(packet({ dstPort: 23 }, 0.1));
  engine.pushDecoded(packet({ dstPort: 80 }, 0.2));
  engine.finish();
  return flows;
}

describe('flow verdicts of flows that rules decided', () => {
  it('a flow a drop rule dropped is reported as dropped, one it passed as passed', () => {
    const flows = flowRecords({ rules: [{ action: 'drop', proto: 'tcp', dst_port: 23 }] });
    expect(flows.map((f) => [f.flow.serverPort, f.verdict]).sort()).toEqual([[23, 'drop'], [80, 'pass']]);
  });

  it('so is one the default policy dropped', () => {
    const flows = flowRecords({ default_policy: 'drop', rules: [{ action: 'pass', proto: 'tcp', dst_port: 80 }] });
    expect(flows.map((f) => [f.flow.serverPort, f.verdict]).sort()).toEqual([[23, 'drop'], [80, 'pass']]);
  });
});
