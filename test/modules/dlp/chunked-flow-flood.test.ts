// A flood of flows each in the middle of a chunked body, its view holding a
// cut-off JSON Web Token: decoder state is per direction and the kept tails
// share a budget (decoded-view.ts), so the engine's 65,536 flows fit the
// module's memory, and a flow past the budget is still scanned raw.
import { beforeAll, describe, expect, it } from 'vitest';
import { packet } from '../../host/wasm/helpers.js';
import { compiledModule, instance, run } from './support.js';
import { floodFlows } from '../dns_guard/support.js';
import { chunked, chunkedRequest, streamItems } from './codings-support.js';

beforeAll(async () => { await compiledModule('dlp'); }, 180_000);

const MiB = 1024 * 1024;

describe('dlp under a flood of flows inside chunked bodies', () => {
  it('holds 65,536 flows each cut off inside a JWT split by chunk boundaries, then still finds a value split the same way', async () => {
    const inst = await instance('dlp');
    const jwt = `eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.${'eyJzdWIiOiIx'.repeat(330)}`;
    const req = chunkedRequest(chunked(`token=${jwt}`, [20, 200, 2000]).replace(/\r\n0\r\n\r\n$/, ''));
    floodFlows(inst, packet({ dstPort: 80, payload: 'x' }), new TextEncoder().encode(req), 65_536);
    expect(inst.stats.traps).toBe(0);
    // Measured: 44 MiB (the allocator doubles the heap when it grows; the same flows' raw state
    // alone takes 22). Past the tail budget a direction gives up decoding, and its decoder is
    // reused rather than left as garbage: before that, garbage alone pushed it past 44.
    expect(inst.memoryBytes).toBeLessThanOrEqual(48 * MiB);
    // an SSN cut by a chunk boundary is still a whole one in the raw bytes after the flood: found either way
    const late = chunkedRequest(chunked('ssn=219-09-9999&x=1', [8]));
    expect(run(inst, streamItems(late, [], { flowId: 900_000 })).alerts.map((a) => a.sigId)).toEqual([1005002]);
  }, 120_000);

  it('holds 65,536 flows each between two chunks of a body (at most 16,384 decode at once, each keeping its overlap)', async () => {
    const inst = await instance('dlp');
    const req = chunkedRequest(chunked('note=nothing to see here&more=1', [12])).replace(/0\r\n\r\n$/, '');
    floodFlows(inst, packet({ dstPort: 80, payload: 'x' }), new TextEncoder().encode(req), 65_536);
    console.log(`chunked flood, live decoders: memory ${(inst.memoryBytes / MiB).toFixed(1)} MiB`);
    expect(inst.stats.traps).toBe(0);
    expect(inst.memoryBytes).toBeLessThanOrEqual(48 * MiB);
  }, 120_000);
});
