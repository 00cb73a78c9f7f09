// The upgrade path: a daemon stops (detach, maps kept), secuxflow is
// upgraded, and the next start attaches over the kept pins. When a kept map
// no longer fits this build (here sf_stats as an older build sized it, 720
// bytes a CPU where this one has more stages), libbpf refused the whole load
// and the start failed. Now that map alone is made anew, attach says so, and
// the maps that fit (the flow verdicts) are still reused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { requireKernel } from './support/kernel.js';
import { labSkipReason } from './lab/gate.js';
import { cliIn } from './lab/cli-lab.js';
import { NetLab } from './lab/netns.js';
import { setUpVethCliLab, type VethCliLab, withPinned } from './support/veth-labs.js';
import { runOk } from './lab/run.js';
import { parseIp } from '../../host/packet/addr.js';
import { LAYOUT, MapName, PROG_NAME, SfFlowVerdict, type FlowKey } from '../../host/kernel/codec.js';
import { mapInfo } from '../../host/kernel/native.js';
import { openPinnedVerdictMaps, readFlowVerdict, writeFlowVerdicts } from '../../host/kernel/verdictmaps.js';

const kernel = requireKernel();
const labReason = kernel.skip ? null : labSkipReason();
const OLD_STATS_VALUE = 720;
const OBSOLETE = 'sf_lpm_src_v4';

describe.skipIf(kernel.skip || labReason !== null).sequential('attach over maps kept by an older version', () => {
  const lab = new NetLab('aop');
  let c: VethCliLab;
  const { ok } = cliIn(lab, () => ({ ...c, ns: c.end.ns }));
  const flow: FlowKey = { src: parseIp('198.18.90.1'), dst: parseIp('198.18.90.2'), sport: 40_000, dport: 443, vlanOuter: 0, vlanInner: 0, proto: 6 };
  const pins = (): string => join(c.bpffs.root, c.end.ifname);
  const statsValueSize = (): number => withPinned(join(pins(), MapName.STATS), (fd) => mapInfo(fd).valueSize);

  beforeAll(async () => {
    c = await setUpVethCliLab(lab, 88);
  });

  afterAll(async () => {
    await lab.cleanup();
  });

  it('a stop keeps the maps, one of which an older build shaped differently', async () => {
    await ok('attach', '--iface', c.end.ifname, '--mode', 'skb');
    const maps = openPinnedVerdictMaps(pins());
    try {
      writeFlowVerdicts(maps, flow, 'block');
    } finally {
      maps.close();
    }
    await ok('detach', '--iface', c.end.ifname, '--keep-maps');
    // What the older build left: its sf_stats, of the older size.
    await runOk(['rm', join(pins(), MapName.STATS)]);
    await runOk(['bpftool', 'map', 'create', join(pins(), MapName.STATS), 'type', 'percpu_array', 'key', '4', 'value', String(OLD_STATS_VALUE), 'entries', '1', 'name', MapName.STATS]);
    expect(statsValueSize()).toBe(OLD_STATS_VALUE);
    // And a map under a name this build no longer has (an older build's IPv4 trie).
    await runOk(['bpftool', 'map', 'create', join(pins(), OBSOLETE), 'type', 'hash', 'key', '8', 'value', '8', 'entries', '16', 'name', 'sf_lpm_old']);
    expect(readdirSync(pins())).toContain(OBSOLETE);
  });

  it('attach makes that map anew, says so, and reuses the rest: the kept flow verdict still applies', async () => {
    const r = await ok('attach', '--iface', c.end.ifname, '--mode', 'skb');
    expect(r.stdout).toContain('warning: maps pinned by another version of secuxflow did not fit this one and were made anew: sf_stats (counters start from zero)');
    expect(statsValueSize()).toBe(LAYOUT.sf_stats_record.size);
    // Nothing reads the obsolete map: it is unpinned, and this build's own pins all stay.
    expect(r.stdout).toContain(`unpinned maps an older version left and this one does not use: ${OBSOLETE}`);
    const left = readdirSync(pins());
    expect(left).not.toContain(OBSOLETE);
    for (const m of Object.values(MapName)) expect(left).toContain(m);
    expect(left).toContain(PROG_NAME);
    const json = JSON.parse((await ok('attach', '--iface', c.end.ifname, '--mode', 'skb', '--json')).stdout) as { reusedMaps: string[]; replacedPins: string[]; obsoletePinsRemoved: string[] };
    expect(json.replacedPins).toEqual([]);
    expect(json.obsoletePinsRemoved).toEqual([]);
    expect(json.reusedMaps).toContain(MapName.FLOWS);
    const maps = openPinnedVerdictMaps(pins());
    try {
      expect(readFlowVerdict(maps, flow)?.verdict).toBe(SfFlowVerdict.BLOCK);
    } finally {
      maps.close();
    }
  });

  it('detach leaves nothing pinned', async () => {
    await ok('detach', '--iface', c.end.ifname);
    expect(c.bpffs.leftovers()).toEqual([]);
  });
});
