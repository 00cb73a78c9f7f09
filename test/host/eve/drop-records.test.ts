// EVE `drop` records: a packet a rule (or the penalty box) dropped before any
// module saw it. Their verdict is named as the `flow` record and the `stats`
// event name verdicts ("drop"), not by the ABI's number (3), which no EVE reader knows.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PcapWriter } from '../../../host/capture/writer.js';
import { runCapture } from '../../../host/engine/capture-run.js';
import { buildPacket } from '../../../host/packet/build.js';
import { validateRuleSet } from '../../../host/rules/parse.js';
import { tempDir } from '../../support/temp-dir.js';

describe('EVE drop records', () => {
  it('name the verdict and the rule that dropped the packet', async () => {
    const dir = tempDir('eve-drop');
    const pcap = join(dir, 'one.pcap');
    const w = new PcapWriter({ path: pcap });
    w.write({ data: buildPacket({ src: '198.18.0.1', dst: '198.18.0.2', proto: 'tcp', srcPort: 40000, dstPort: 23 }), tsSec: 1_767_225_600, tsNsec: 0 });
    w.close();
    const rules = validateRuleSet({ rules: [{ id: 7, action: 'drop', proto: 'tcp', dst_port: 23 }] }, 'test');
    const eve = join(dir, 'eve.json');
    await runCapture({ pcap, rules, modules: [], eve });
    const records = readFileSync(eve, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const drop = records.find((r) => r.event_type === 'drop');
    expect(drop?.drop).toEqual({ reason: 'rule', rule_id: 7, verdict: 'drop' });
    // The same word the stats event uses for it.
    const stats = records.find((r) => r.event_type === 'stats') as { stats: { verdicts: Record<string, number> } } | undefined;
    expect(stats?.stats.verdicts.drop).toBe(1);
  });
});
