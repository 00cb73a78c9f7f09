import { beforeAll, describe, expect, it } from 'vitest';
import { Verdict } from '../../../host/verdict.js';
import type { InspectItem } from '../../../host/wasm/types.js';
import { TcpFlag } from '../../../host/packet/types.js';
import { item, packet } from '../../host/wasm/helpers.js';
import { compiledModule, instance, run, streamItems } from '../dns_guard/support.js';

beforeAll(async () => { await compiledModule('ssh_guard'); }, 180_000);

const FLOW_START = 0x02;
const enc = (s: string) => new TextEncoder().encode(s);
const client = (p: Uint8Array, flowId = 1): InspectItem => item(packet({ dstPort: 22, payload: p }), { flowId });
const server = (p: Uint8Array, flowId = 1): InspectItem =>
  item(packet({ src: '198.18.0.2', dst: '198.18.0.1', srcPort: 22, dstPort: 40000, payload: p }), { flowId, direction: 1 });
const whole = (it: InspectItem, data: Uint8Array): InspectItem => ({ ...it, stream: data, streamNew: data.length });
const syn = (src: string, flowId: number, t: number): InspectItem =>
  item(packet({ src, dstPort: 22, tcpFlags: TcpFlag.SYN }, [1_700_000_000 + Math.floor(t), Math.round((t % 1) * 1e9)]), { flowId, flags: FLOW_START });

describe('ssh_guard banners', () => {
  it('both banners become one ssh event in Suricata\'s shape; the flow is then allowed', async () => {
    const inst = await instance('ssh_guard');
    const c = enc('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n');
    const s = enc('SSH-2.0-OpenSSH_8.9\r\n');
    const out = run(inst, [whole(client(c), c), whole(server(s), s)]);
    expect(out.alerts).toEqual([]);
    expect(out.verdicts).toEqual([Verdict.CONTINUE, Verdict.ALLOW_FLOW]);
    expect(out.events.map((e) => [e.index, e.kind])).toEqual([[1, 'ssh']]);
    expect(out.events[0]!.data).toEqual({
      client: { proto_version: '2.0', software_version: 'OpenSSH_9.2p1', comments: 'Debian-2+deb12u3' },
      server: { proto_version: '2.0', software_version: 'OpenSSH_8.9' },
    });
  });

  it('one direction only (host mode): client data after its banner ends the inspection with the client side reported', async () => {
    const inst = await instance('ssh_guard');
    const c = enc('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n');
    // SSH binary packet: length, padding length, SSH_MSG_KEXINIT (20), ...
    const kexinit = Uint8Array.from([0, 0, 0, 12, 4, 20, 1, 2, 3, 4, 5, 6, 7, 0, 0, 0]);
    const both = new Uint8Array(c.length + kexinit.length);
    both.set(c, 0);
    both.set(kexinit, c.length);
    const out = run(inst, [whole(client(c, 3), c), { ...client(kexinit, 3), stream: both, streamNew: kexinit.length }]);
    expect(out.alerts).toEqual([]);
    expect(out.verdicts).toEqual([Verdict.CONTINUE, Verdict.ALLOW_FLOW]);
    expect(out.events.map((e) => [e.index, e.kind])).toEqual([[1, 'ssh']]);
    expect(out.events[0]!.data).toEqual({
      client: { proto_version: '2.0', software_version: 'OpenSSH_9.2p1', comments: 'Debian-2+deb12u3' },
      server: {},
    });
  });

  it('a banner split across segments, LF-only line ends, and server pre-banner lines', async () => {
    const inst = await instance('ssh_guard');
    const c = enc('SSH-2.0-PuTTY_Release_0.78\n');
    const s = enc('Welcome to the lab\r\nauthorised use only\r\nSSH-1.99-Cisco-1.25\r\n');
    const items = [...streamItems((p) => client(p, 2), c, [3, 10]), ...streamItems((p) => server(p, 2), s, [25, 50])];
    const out = run(inst, items);
    expect(out.events).toHaveLength(1);
    expect(out.events[0]!.data).toEqual({ client: { proto_version: '2.0', software_version: 'PuTTY_Release_0.78' }, server: { proto_version: '1.99', software_version: 'Cisco-1.25' } });
    expect(out.alerts).toEqual([]);
  });

  it('odd banners: too long, control bytes, empty fields, protocol 1, non-SSH data, each with its sid', async () => {
    const inst = await instance('ssh_guard');
    const cases: [string, number, RegExp | string][] = [
      ['SSH-2.0-' + 'A'.repeat(300) + '\r\n', 1004002, 'no line end within 255 bytes'],
      ['SSH-2.0-Open\u0001SSH\r\n', 1004002, /byte 0x01 at offset 12/],
      ['SSH-2.0-\r\n', 1004002, 'empty software version'],
      ['SSH--x\r\n', 1004002, 'empty protocol version'],
      ['SSH-1.5-OldClient\r\n', 1004004, ''],
      ['GET / HTTP/1.1\r\n\r\n', 1004005, ''],
    ];
    const items = cases.map(([text], i) => { const d = enc(text); return whole(client(d, 10 + i), d); });
    const out = run(inst, items);
    expect(out.alerts.map((a) => [a.index, a.sigId])).toEqual(cases.map(([, sid], i) => [i, sid]));
    for (const [i, [, , reason]] of cases.entries()) {
      if (reason !== '') expect(String(out.alerts[i]!.metadata?.reason)).toMatch(reason);
    }
  });

  it('software_blocklist matches client software case-insensitively and applies software_action', async () => {
    const inst = await instance('ssh_guard', { software_blocklist: ['libssh_0.6', 'Go'], software_action: 'block_flow' });
    const a = enc('SSH-2.0-libssh_0.6.3\r\n');
    const b = enc('SSH-2.0-OpenSSH_9.6\r\n');
    const out = run(inst, [whole(client(a, 1), a), whole(client(b, 2), b)]);
    expect(out.verdicts).toEqual([Verdict.BLOCK_FLOW, Verdict.CONTINUE]);
    expect(out.alerts.map((x) => [x.index, x.sigId])).toEqual([[0, 1004006]]);
  });
});

describe('ssh_guard brute force', () => {
  it('new connections per source above max_connections in window_s give BLOCK_SRC with block_ttl', async () => {
    const inst = await instance('ssh_guard', { max_connections: 5, window_s: 30, block_ttl: 3600 });
    const items: InspectItem[] = [];
    for (let i = 0; i < 7; i++) items.push(syn('198.18.5.5', 100 + i, i));
    for (let i = 0; i < 5; i++) items.push(syn('198.18.5.6', 200 + i, i));
    const out = run(inst, items);
    expect(out.verdicts).toEqual([0, 0, 0, 0, 0, Verdict.BLOCK_SRC, Verdict.BLOCK_SRC, 0, 0, 0, 0, 0]);
    // the 7th comes a second later, from a source the module already blocked: the ttl left, no new alert
    expect(out.args).toEqual([0, 0, 0, 0, 0, 3600, 3599, 0, 0, 0, 0, 0]);
    expect(out.alerts.map((a) => [a.index, a.sigId, a.severity])).toEqual([[5, 1004001, 1]]);
    expect(out.alerts[0]!.metadata).toEqual({ connections: 6, window_s: 30, action: 'block_src', block_ttl: 3600 });
  });

  it('a blocked source stays blocked by the module for block_ttl, also for packets of flows it opened earlier', async () => {
    const inst = await instance('ssh_guard', { max_connections: 2, window_s: 10, block_ttl: 30 });
    const data = (flowId: number, t: number) => item(packet({ src: '198.18.5.9', dstPort: 22, payload: 'x' }, [1_700_000_000 + t, 0]), { flowId });
    const out = run(inst, [syn('198.18.5.9', 1, 0), syn('198.18.5.9', 2, 1), syn('198.18.5.9', 3, 2), data(1, 3), data(2, 31), data(2, 33)]);
    expect(out.verdicts).toEqual([0, 0, Verdict.BLOCK_SRC, Verdict.BLOCK_SRC, Verdict.BLOCK_SRC, Verdict.CONTINUE]);
    expect(out.args.slice(2, 5)).toEqual([30, 29, 1]);
  });

  it('connections spread wider than the window never trip it; only the SSH port counts', async () => {
    const inst = await instance('ssh_guard', { max_connections: 3, window_s: 10 });
    const spread = Array.from({ length: 10 }, (_, i) => syn('198.18.5.7', 300 + i, i * 4));
    const other = Array.from({ length: 10 }, (_, i) => item(packet({ src: '198.18.5.8', dstPort: 2222, tcpFlags: TcpFlag.SYN }), { flowId: 400 + i, flags: FLOW_START }));
    const out = run(inst, [...spread, ...other]);
    expect(out.alerts).toEqual([]);
    expect(out.verdicts.slice(10)).toEqual(Array(10).fill(Verdict.ALLOW_FLOW));
  });

  it('refuses bad config naming the field', async () => {
    await expect(instance('ssh_guard', { max_connections: -1 })).rejects.toThrow(/max_connections must be an integer 0..1000000/);
    await expect(instance('ssh_guard', { brute_force_action: 'ban' })).rejects.toThrow(/brute_force_action must be one of/);
    await expect(instance('ssh_guard', { software_blocklist: [''] })).rejects.toThrow(/software_blocklist\[0\] must not be empty/);
  });
});
