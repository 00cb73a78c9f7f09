// A flood of flows, each holding the most state dlp keeps for a flow: a
// direction whose bytes end inside a candidate (a private key block that has
// not ended), whose tail is kept so it can be judged once the direction is
// done. The engine keeps at most 65,536 flows; the module must not run out
// of memory (a trap there, and every later batch traps).
import { beforeAll, describe, expect, it } from 'vitest';
import { packet } from '../../host/wasm/helpers.js';
import { compiledModule, instance } from './support.js';
import { floodFlows } from '../dns_guard/support.js';

beforeAll(async () => { await compiledModule('dlp'); }, 180_000);

const MiB = 1024 * 1024;
const pkt = packet({ dstPort: 443, payload: 'x' });

describe('dlp under a flood of flows', () => {
  it('holds 65,536 flows each ending inside a JSON Web Token', async () => {
    const inst = await instance('dlp');
    const data = new TextEncoder().encode(`token=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.${'eyJzdWIiOiIx'.repeat(330)}`);
    floodFlows(inst, pkt, data, 65_536);
    // Measured: 22 MiB of the module's 64 (before, 3,584 flows filled 16 MiB
    // with 4 KB tails; with tails alone, ~47,000 flows of plain state).
    expect(inst.stats.traps).toBe(0);
    expect(inst.memoryBytes).toBeLessThanOrEqual(32 * MiB);
  }, 120_000);
});
