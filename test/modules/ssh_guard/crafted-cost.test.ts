// CPU a crafted server prelude can cost a packet. A server may send up to
// 8 KB of lines before its banner, and a peer chooses how to segment them: a
// byte a segment, each segment walking every line so far again, made each
// one-byte packet cost as much as the whole prelude.
import { beforeAll, describe, expect, it } from 'vitest';
import type { InspectItem } from '../../../host/wasm/types.js';
import { item, packet } from '../../host/wasm/helpers.js';
import { compareCost } from '../cost.js';
import { compiledModule, instance, run } from '../dns_guard/support.js';

beforeAll(async () => { await compiledModule('ssh_guard'); }, 180_000);

const enc = (s: string) => new TextEncoder().encode(s);
const server = packet({ src: '198.18.0.2', dst: '198.18.0.1', srcPort: 22, dstPort: 40000, payload: 'x' });
const toClient = (flowId: number, stream: Uint8Array): InspectItem => ({ ...item(server, { flowId, direction: 1 }), stream, streamNew: 1 });

/** One packet a byte for `data`'s bytes from..to, on a fresh flow each round. */
function trickle(data: Uint8Array, from: number, to: number) {
  return (round: number) => Array.from({ length: to - from }, (_, i) => toClient(round + 1, data.subarray(0, from + i + 1)));
}

describe('ssh_guard cost of a crafted server prelude', () => {
  // Measured before the fix: ~285 us a packet, 34x the same stream in long
  // lines; after: about the same as long lines.
  it('8,000 empty prelude lines sent a byte a packet cost no more than 10x as many bytes in 100-byte lines', async () => {
    const inst = await instance('ssh_guard');
    const empty = new Uint8Array(8100).fill(0x0a);
    const long = enc(('x'.repeat(99) + '\n').repeat(81));
    const c = compareCost(inst, trickle(long, 7900, 8000), trickle(empty, 7900, 8000), 5);
    expect(c.ratio, JSON.stringify(c)).toBeLessThan(10);
  }, 120_000);

  it('a banner after a prelude sent a byte a packet is still found, and one with no banner by 8 KB is still not SSH', async () => {
    const inst = await instance('ssh_guard');
    const data = enc('hello\r\n\n' + 'x'.repeat(300) + '\nSSH-2.0-OpenSSH_9.6\r\n');
    const items = Array.from({ length: data.length }, (_, i) => toClient(1, data.subarray(0, i + 1)));
    const client = enc('SSH-2.0-OpenSSH_9.6\r\n');
    items.unshift({ ...item(packet({ dstPort: 22, payload: 'x' }), { flowId: 1 }), stream: client, streamNew: client.length });
    const out = run(inst, items);
    expect(out.alerts).toEqual([]);
    expect(out.events.map((e) => e.data.server)).toEqual([{ proto_version: '2.0', software_version: 'OpenSSH_9.6' }]);
    const endless = new Uint8Array(8300).fill(0x0a);
    const out2 = run(inst, Array.from({ length: 400 }, (_, i) => toClient(2, endless.subarray(0, 7900 + i + 1))));
    expect(out2.alerts.map((a) => a.sigId)).toEqual([1004005]);
  }, 120_000);
});
