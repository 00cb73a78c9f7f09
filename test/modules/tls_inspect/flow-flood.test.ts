// A flood of TLS flows, each holding the most state tls_inspect keeps for a
// flow: a ClientHello whose ServerHello never comes (host mode sees ingress
// only), so the flow's state waits until the flow ends. The engine keeps at
// most 65,536 flows; the module must hold them all without running out of
// memory (a trap there, and every later batch traps: the module is off).
import { beforeAll, describe, expect, it } from 'vitest';
import { item, packet } from '../../host/wasm/helpers.js';
import { compiledModule, floodFlows, instance, run } from '../dns_guard/support.js';
import { FOXIO_EXAMPLE, clientHello, records, serverHello } from './tls-wire.js';

beforeAll(async () => { await compiledModule('tls_inspect'); }, 180_000);

const MiB = 1024 * 1024;
const FLOWS = 65_536;
const pkt = packet({ dstPort: 443, payload: 'x' });

describe('tls_inspect under a flood of flows', () => {
  it('holds 65,536 flows whose ClientHellos carry the longest SNI a name can have', async () => {
    const inst = await instance('tls_inspect');
    const sni = Array.from({ length: 4 }, () => 'a'.repeat(62)).join('.') + '.x';
    const hello = records(clientHello({ ...FOXIO_EXAMPLE, sni }));
    floodFlows(inst, pkt, hello, FLOWS);
    // Measured: 44.6 MiB of the module's 64 (at 16 MiB it trapped after about
    // 22,000 flows, at 32 MiB after 44,800).
    expect(inst.stats.traps).toBe(0);
    expect(inst.memoryBytes).toBeLessThanOrEqual(56 * MiB);
  }, 120_000);

  // Each such SNI was kept as 4,000 characters of escaped text, 8 KB a flow
  // (a 16 KB SNI: 128 KB a flow, full after about a hundred flows).
  it('holds 4,096 flows whose SNIs are 1,000 unprintable bytes, and the server_hello event still names the SNI', async () => {
    const inst = await instance('tls_inspect');
    const hello = records(clientHello({ ...FOXIO_EXAMPLE, sni: '\x01'.repeat(1000) }));
    floodFlows(inst, pkt, hello, 4096);
    expect(inst.stats.traps).toBe(0);
    expect(inst.memoryBytes).toBeLessThanOrEqual(8 * MiB);
    const server = records(serverHello({ cipher: 0x1301 }));
    const r = run(inst, [{ ...item(packet({ src: '198.18.0.2', dst: '198.18.0.1', srcPort: 443, dstPort: 40000, payload: 'x' }), { flowId: 7, direction: 1 }), stream: server, streamNew: server.length }]);
    expect(r.events.map((e) => e.data.sni)).toEqual(['\\x01'.repeat(255)]);
  }, 120_000);
});
