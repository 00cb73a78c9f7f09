import { beforeAll, describe, expect, it } from 'vitest';
import { Verdict } from '../../../host/verdict.js';
import { item, packet } from '../../host/wasm/helpers.js';
import { compiledModule, instance, run, streamItems } from './support.js';
import { dnsMessage, ipv4, nameRdata, tcpFramed, txtRdata } from './dns-wire.js';

beforeAll(async () => { await compiledModule('dns_guard'); }, 180_000);

const udp = (msg: Uint8Array, over: { flowId?: number; direction?: 0 | 1; src?: string } = {}) => {
  const toClient = over.direction === 1;
  return item(packet({ proto: 'udp', src: over.src ?? (toClient ? '198.18.0.53' : '198.18.0.1'), dst: toClient ? '198.18.0.1' : '198.18.0.53',
    srcPort: toClient ? 53 : 40000, dstPort: toClient ? 40000 : 53, payload: msg }), { flowId: over.flowId ?? 1, direction: over.direction ?? 0 });
};

describe('dns_guard events', () => {
  it('a query and its answer become Suricata-shaped dns events', async () => {
    const inst = await instance('dns_guard');
    const q = dnsMessage({ id: 0xbeef, questions: [{ name: 'www.Example.com', type: 'A' }] });
    const r = dnsMessage({
      id: 0xbeef, response: true, questions: [{ name: 'www.example.com', type: 'A' }],
      answers: [
        { name: 12, type: 'CNAME', ttl: 60, rdata: nameRdata('web.example.com') },
        { name: 'web.example.com', type: 'A', ttl: 300, rdata: ipv4('198.18.7.7') },
        { name: 12, type: 'AAAA', ttl: 30, rdata: Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]) },
        { name: 12, type: 'TXT', ttl: 5, rdata: txtRdata('v=spf1 -all') },
      ],
    });
    const out = run(inst, [udp(q), udp(r, { direction: 1 })]);
    expect(out.verdicts).toEqual([Verdict.CONTINUE, Verdict.CONTINUE]);
    expect(out.alerts).toEqual([]);
    expect(out.events.map((e) => e.kind)).toEqual(['dns', 'dns']);
    expect(out.events[0]!.data).toEqual({ type: 'query', id: 0xbeef, rd: true, opcode: 0, rrname: 'www.Example.com', rrtype: 'A' });
    expect(out.events[1]!.data).toEqual({
      type: 'answer', id: 0xbeef, flags: '8180', qr: true, rd: true, ra: true, opcode: 0, rrname: 'www.example.com', rrtype: 'A', rcode: 'NOERROR',
      answers: [
        { rrname: 'www.example.com', rrtype: 'CNAME', ttl: 60, rdata: 'web.example.com' },
        { rrname: 'web.example.com', rrtype: 'A', ttl: 300, rdata: '198.18.7.7' },
        { rrname: 'www.example.com', rrtype: 'AAAA', ttl: 30, rdata: '2001:db8::1' },
        { rrname: 'www.example.com', rrtype: 'TXT', ttl: 5, rdata: 'v=spf1 -all' },
      ],
    });
  });

  it('rcode and unusual types come out as text; unprintable label bytes are escaped', async () => {
    const inst = await instance('dns_guard');
    const r = dnsMessage({ response: true, rcode: 3, questions: [{ name: 'nope.example', type: 'TXT' }] });
    const weird = Uint8Array.from([...dnsMessage({ questions: [] }).subarray(0, 4), 0, 1, 0, 0, 0, 0, 0, 0, 3, 0x61, 0x2e, 0x01, 0, 0x10, 0x92, 0, 1]);
    const out = run(inst, [udp(r, { direction: 1 }), udp(weird)]);
    expect(out.events[0]!.data).toMatchObject({ type: 'answer', rcode: 'NXDOMAIN', rrtype: 'TXT', rrname: 'nope.example' });
    expect(out.events[1]!.data).toMatchObject({ rrname: 'a\\046\\001', rrtype: '4242' });
  });

  it('DNS over TCP: messages split across segments and two in one segment', async () => {
    const inst = await instance('dns_guard', { blocklist: ['bad.example'] });
    const a = dnsMessage({ id: 1, questions: [{ name: 'one.example' }] });
    const b = dnsMessage({ id: 2, questions: [{ name: 'x.bad.example' }] });
    const c = dnsMessage({ id: 3, questions: [{ name: 'three.example' }] });
    const data = tcpFramed(a, b, c);
    const make = (payload: Uint8Array) => item(packet({ proto: 'tcp', dstPort: 53, payload }), { flowId: 7 });
    // cut inside a's length prefix, inside b, and so that b's end and c arrive together
    const items = streamItems(make, data, [1, a.length + 2 + 5]);
    const out = run(inst, items);
    expect(out.events.map((e) => e.data.id)).toEqual([1, 2, 3]);
    expect(out.verdicts).toEqual([Verdict.CONTINUE, Verdict.CONTINUE, Verdict.DROP]);
    expect(out.alerts.map((x) => [x.index, x.sigId])).toEqual([[2, 1002001]]);
  });
});
