import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Engine } from '../../../host/engine/engine.js';
import { makeDemoCapture } from '../../../host/capture/samples.js';
import { LinkType, type LinkType as LinkTypeT } from '../../../host/packet/types.js';
import { toLinkType } from '../../../host/packet/build.js';
import { loadInspectorFile } from '../../../host/wasm/loader.js';
import { InspectorInstance } from '../../../host/wasm/instance.js';
import { shippedModulesDir } from '../../../host/paths.js';
import { xorshift32 as rng } from '../../support/random.js';


const PACKETS = 1_000_000;

describe('fuzz: 1,000,000 random and mutated packets through decoder, flow table, reassembly, rules and basic_inspect', () => {
  it('no exception escapes, every packet gets a decision, module memory stays bounded', async () => {
    const seed = Number(process.env.SECUXFLOW_FUZZ_SEED ?? Date.now() % 2 ** 31);
    const next = rng(seed);
    const seeds: { data: Uint8Array; linkType: LinkTypeT }[] = [];
    for (const f of makeDemoCapture()) {
      seeds.push({ data: f.data, linkType: f.linkType });
      for (const lt of [LinkType.RAW, LinkType.LINUX_SLL, LinkType.LINUX_SLL2, LinkType.NULL, LinkType.LOOP]) {
        try {
          seeds.push({ data: toLinkType(f.data, lt), linkType: lt });
        } catch {
          // frames without an IP layer have no raw-IP form
        }
      }
    }
    const compiled = await loadInspectorFile(join(shippedModulesDir(), 'basic_inspect.wasm'), 'basic_inspect');
    const instance = await InspectorInstance.create(compiled, { clock: 'packet', logger: () => {} });
    let decided = 0;
    const engine = new Engine({
      rules: { defaultPolicy: 'inspect', rules: [] },
      modules: [{ name: 'basic_inspect', instance, policy: 'fail-open' }],
      flowTable: { maxFlows: 4096 },
      onDecision: (d) => { decided += d.sources.length; },
    });
    const buf = new Uint8Array(2048);
    const links = [LinkType.ETHERNET, LinkType.RAW, LinkType.LINUX_SLL, LinkType.LINUX_SLL2, LinkType.IPV4, LinkType.IPV6, LinkType.NULL, LinkType.LOOP] as LinkTypeT[];
    let t = 1_767_225_600;
    try {
      for (let i = 0; i < PACKETS; i++) {
        const r = next();
        let data: Uint8Array;
        let linkType: LinkTypeT;
        if ((r & 7) === 0) {
          // pure noise of a random length and link type
          const len = next() % 1600;
          for (let k = 0; k < len; k += 4) {
            const w = next();
            buf[k] = w; buf[k + 1] = w >>> 8; buf[k + 2] = w >>> 16; buf[k + 3] = w >>> 24;
          }
          data = buf.slice(0, len);
          linkType = links[next() % links.length]!;
        } else {
          const s = seeds[next() % seeds.length]!;
          data = s.data.slice(0, (r & 0x30) === 0 ? next() % (s.data.length + 1) : s.data.length);
          const flips = 1 + (next() % 6);
          for (let k = 0; k < flips && data.length > 0; k++) data[next() % data.length] = next();
          linkType = s.linkType;
        }
        if ((i & 255) === 0) t += 1;
        engine.push({ data, linkType, wireLen: data.length, tsSec: t, tsNsec: (r >>> 8) % 1e9, iface: 0 });
      }
      const c = engine.finish();
      expect(c.packetsRead).toBe(PACKETS);
      expect(decided).toBe(PACKETS);
      expect(c.pass + c.drop).toBe(PACKETS);
      expect(c.moduleFailures).toBe(0);
      expect(instance.memoryBytes).toBeLessThan(64 * 1024 * 1024);
    } catch (e) {
      throw new Error(`fuzz failed with seed ${seed} (rerun with SECUXFLOW_FUZZ_SEED=${seed}): ${(e as Error).stack}`);
    }
  }, 300_000);
});
