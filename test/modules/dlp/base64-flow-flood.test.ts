// A flood of SMTP flows each in the middle of a base64 attachment, its view
// holding a cut-off JSON Web Token that only decoding shows: base64 parts
// use the decoders' existing bounds (16,384 directions decoding at once, an
// 8 MiB budget for all kept tails), so the engine's 65,536 flows fit the
// module's memory, and decoding still works for a flow after the flood.
import { beforeAll, describe, expect, it } from 'vitest';
import { packet } from '../../host/wasm/helpers.js';
import { compiledModule, instance, run } from './support.js';
import { floodFlows } from '../dns_guard/support.js';
import { streamItems } from './codings-support.js';
import { attachment, base64Lines, smtpMail } from './base64-support.js';

beforeAll(async () => { await compiledModule('dlp'); }, 180_000);

const MiB = 1024 * 1024;
const HEAD = 'EHLO c\r\nDATA\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n';

describe('dlp under a flood of flows inside base64 attachments', () => {
  it('holds 65,536 flows each cut off inside a decoded JWT, then still decodes a later flow\'s attachment', async () => {
    const inst = await instance('dlp');
    const jwt = `eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.${'eyJzdWIiOiIx'.repeat(330)}`;
    const open = HEAD + base64Lines(`token=${jwt}`).slice(0, -8);
    floodFlows(inst, packet({ dstPort: 25, payload: 'x' }), new TextEncoder().encode(open), 65_536);
    console.log(`base64 flood, cut-off JWTs: memory ${(inst.memoryBytes / MiB).toFixed(1)} MiB`);
    expect(inst.stats.traps).toBe(0);
    // the same bound as the chunked flood: past the tail budget a direction gives up decoding
    expect(inst.memoryBytes).toBeLessThanOrEqual(48 * MiB);
    const { stream } = smtpMail([attachment('late.csv', 'ssn,219-09-9999\r\n')]);
    expect(run(inst, streamItems(stream, [], { flowId: 900_000 })).alerts.map((a) => a.sigId)).toEqual([1005002]);
  }, 120_000);

  it('holds 65,536 flows each between two lines of an attachment (at most 16,384 decode at once)', async () => {
    const inst = await instance('dlp');
    const open = HEAD + base64Lines('nothing to see here '.repeat(20));
    floodFlows(inst, packet({ dstPort: 25, payload: 'x' }), new TextEncoder().encode(open), 65_536);
    console.log(`base64 flood, live decoders: memory ${(inst.memoryBytes / MiB).toFixed(1)} MiB`);
    expect(inst.stats.traps).toBe(0);
    expect(inst.memoryBytes).toBeLessThanOrEqual(48 * MiB);
  }, 120_000);
});
