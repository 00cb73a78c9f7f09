// docs/modules.md section 6, "Programmatic use", run as written (with the
// source checkout's paths): a module loaded, run on one batch in the
// sandbox with the documented options, its counters read.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadModuleFile } from '../../../host/modules/load.js';
import { createModuleRunner } from '../../../host/sandbox/runner.js';
import { buildPacket } from '../../../host/packet/build.js';
import { decodePacket } from '../../../host/packet/decode.js';
import { LinkType } from '../../../host/packet/types.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');

describe('docs/modules.md programmatic use', () => {
  it('loads, runs with policy, limits and config, and reports stats', async () => {
    const mod = await loadModuleFile(join(ROOT, 'build', 'modules', 'basic_inspect.wasm'), { name: 'my_guard' });
    const runner = await createModuleRunner(mod, { policy: 'fail-open', limits: { cpuBudgetMs: 20 }, config: '{"deny_ports":[23]}' });
    try {
      expect(runner.name).toBe('my_guard');
      expect(runner.policy).toBe('fail-open');
      const pkt = decodePacket(buildPacket({ src: '10.0.0.1', dst: '10.0.0.2', proto: 'tcp', srcPort: 40000, dstPort: 23, tcpFlags: 2 }), LinkType.ETHERNET, 1, 0);
      const out = { verdicts: new Uint8Array(1), verdictArgs: new Uint16Array(1), alerts: [], events: [] };
      runner.inspect([{ pkt, flowId: 1, direction: 0, flags: 2, stream: null, streamNew: 0 }], 1, out);
      expect(out.verdicts[0]).toBeGreaterThanOrEqual(3);
      const s = runner.stats();
      expect(s).toMatchObject({ packets: 1, batches: 1, traps: 0, cpuKills: 0, status: 'ok', quarantineReason: null });
      expect(typeof s.meanBatchUs).toBe('number');
      expect(typeof s.p99BatchUs).toBe('number');
    } finally {
      runner.close();
    }
  });
});
