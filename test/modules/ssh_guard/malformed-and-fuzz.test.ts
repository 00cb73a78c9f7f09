import { beforeAll, describe, expect, it } from 'vitest';
import type { InspectItem } from '../../../host/wasm/types.js';
import { item, packet } from '../../host/wasm/helpers.js';
import { compiledModule, instance, run } from '../dns_guard/support.js';
import { fuzzBatches, mutate, Rng } from '../dns_guard/mutate.js';

beforeAll(async () => { await compiledModule('ssh_guard'); }, 180_000);

const enc = (s: string) => new TextEncoder().encode(s);
const toServer = (data: Uint8Array, flowId: number): InspectItem => ({ ...item(packet({ dstPort: 22, payload: 'x' }), { flowId }), stream: data, streamNew: data.length });
const toClient = (data: Uint8Array, flowId: number): InspectItem =>
  ({ ...item(packet({ src: '198.18.0.2', dst: '198.18.0.1', srcPort: 22, dstPort: 40000, payload: 'x' }), { flowId, direction: 1 }), stream: data, streamNew: data.length });

describe('ssh_guard on hostile input', () => {
  it('1 MB of garbage, a 1 MB "SSH-" line without an end, and 1 MB of server prelude: no trap, memory bounded', async () => {
    const inst = await instance('ssh_guard');
    const rng = new Rng(5);
    const garbage = new Uint8Array(1 << 20);
    for (let i = 0; i < garbage.length; i++) garbage[i] = rng.below(256);
    const endless = new Uint8Array(1 << 20).fill(0x41);
    endless.set(enc('SSH-2.0-'));
    const prelude = new Uint8Array(1 << 20).fill(0x0a);
    const warm = enc('SSH-2.0-x\r\n');
    run(inst, [toServer(warm, 100)]);
    const before = inst.memoryBytes;
    const out = run(inst, [toServer(garbage, 1), toServer(endless, 2), toClient(prelude, 3)]);
    expect(inst.stats.traps).toBe(0);
    expect(inst.stats.hostcallErrors).toBe(0);
    expect(out.alerts.map((a) => [a.index, a.sigId])).toEqual([[0, 1004005], [1, 1004002], [2, 1004005]]);
    expect(inst.memoryBytes - before).toBeLessThanOrEqual(1 << 16);
  });

  it('non-ASCII banner bytes are escaped in the alert, never passed through raw', async () => {
    const inst = await instance('ssh_guard');
    const b = Uint8Array.from([...enc('SSH-2.0-Open'), 0xff, 0xfe, 0x5c, ...enc('SSH\r\n')]);
    const out = run(inst, [toServer(b, 1)]);
    expect(out.alerts[0]!.metadata).toMatchObject({ banner: 'SSH-2.0-Open\\xff\\xfe\\x5cSSH', reason: 'byte 0xff at offset 12 is not printable ASCII' });
  });
});

describe('ssh_guard fuzz', () => {
  it('1,000,000 mutated banners from both sides: no trap, no hostcall error, bounded memory', async () => {
    // The window is counted on every flow start but set high, so one source never gets blocked and banners keep being read.
    const inst = await instance('ssh_guard', { software_blocklist: ['libssh'], max_connections: 1_000_000 });
    const seeds = [
      enc('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n'),
      enc('SSH-2.0-libssh_0.9.6\r\n'),
      enc('Hello\r\nSSH-1.99-Cisco-1.25\r\n'),
      enc('SSH-1.5-x\n'),
    ];
    const N = 1_000_000;
    const BATCH = 256;
    const rng = new Rng(99);
    const bufs = Array.from({ length: BATCH }, () => new Uint8Array(320));
    const to = packet({ dstPort: 22, payload: 'x' });
    const from = packet({ src: '198.18.0.2', dst: '198.18.0.1', srcPort: 22, dstPort: 40000, payload: 'x' });
    fuzzBatches(inst, N, BATCH, (items, b) => {
      for (let i = 0; i < BATCH; i++) {
        const n = mutate(rng, seeds[rng.below(seeds.length)]!, bufs[i]!);
        const server = rng.below(2) === 1;
        const flowId = 1 + rng.below(512);
        items[i] = { pkt: server ? from : to, flowId, direction: server ? 1 : 0, flags: rng.below(8) === 0 ? 0x02 : 0, stream: bufs[i]!.subarray(0, n), streamNew: 1 + rng.below(n) };
      }
    }, (b) => { if (b % 8 === 7) for (let f = 1; f <= 512; f++) inst.flowEnded(f); });
    expect(inst.stats.events).toBeGreaterThan(1000);
  }, 300_000);
});
