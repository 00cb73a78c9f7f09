// A pcap record with a timestamp fraction of a second or more no longer ends
// the run: every packet is inspected, and the EVE stats record counts them.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCapture } from '../../../host/engine/capture-run.js';
import { tempDir } from '../../support/temp-dir.js';
import { rawPcap } from '../capture/raw-pcap.js';

const T0 = 1_767_225_600;

describe('runCapture on records with a timestamp fraction of a second or more', () => {
  it('processes every packet and reports the count in the result and in EVE stats.capture', async () => {
    const dir = tempDir('odd-ts');
    const pcap = join(dir, 'odd.pcap');
    writeFileSync(pcap, rawPcap([{ sec: T0, frac: 1 }, { sec: T0, frac: 2_500_000 }, { sec: T0 + 1, frac: 3 }, { sec: T0 + 1, frac: 1_000_000 }]));
    const eve = join(dir, 'eve.json');
    const r = await runCapture({ pcap, rules: { defaultPolicy: 'pass', rules: [] }, modules: [], eve });
    expect(r.error).toBeNull();
    expect(r.counters.packetsRead).toBe(4);
    expect(r.timestampsOutOfRange).toBe(2);
    const lines = readFileSync(eve, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { event_type: string; timestamp: string; stats?: { capture: Record<string, number> } });
    const stats = lines.at(-1)!;
    expect(stats.event_type).toBe('stats');
    expect(stats.stats!.capture).toEqual({ packets_read: 4, timestamps_out_of_range: 2 });
    // The latest instant is the carried one: T0 + 2.5 s.
    expect(stats.timestamp).toMatch(/^2026-01-01T00:00:02\.500000/);
  });
});
