// An attacker inside an overlay network, seen from the underlay: the same
// HTTP attack inside VXLAN, Geneve, GRE, GRETAP and IP in IP is alerted by
// http_waf as it is bare, because the engine keys and reassembles the inner
// flow. Two tenants reusing inner addresses are two flows; the EVE records
// of an inner flow carry Suricata's tunnel object.
import { describe, expect, it } from 'vitest';
import { Engine } from '../../../host/engine/engine.js';
import type { FlowRecord, PacketDecision } from '../../../host/engine/types.js';
import type { RawFrame } from '../../../host/capture/types.js';
import { decodePacket } from '../../../host/packet/decode.js';
import { formatIp } from '../../../host/packet/addr.js';
import { buildPacket, fragmentIp } from '../../../host/packet/build.js';
import { LinkType } from '../../../host/packet/types.js';
import { alertRecord, flowRecord, flowRecordJson } from '../../../host/eve/format.js';
import { validateRuleSet } from '../../../host/rules/parse.js';
import { alertsOf, engineRun, frame, instance, tcpSession } from '../../modules/dlp/support.js';
import { wrapGeneve, wrapGreIp, wrapGretap, wrapIpip, wrapVxlan, type Outer, type Wrap } from '../packet/tunnel-frames.js';

const SQLI_SID = 1001001;
const ATTACK = "GET /products?id='%20OR%20'1'='1 HTTP/1.1\r\nHost: intranet.example\r\nUser-Agent: curl/8\r\nAccept: */*\r\n\r\n";
const CLIENT = '10.0.0.1', SERVER = '10.0.0.2';
const VTEP_A = '192.0.2.1', VTEP_B = '192.0.2.2';

/** The frames wrapped in a tunnel between the two endpoints, each direction from its own side. */
function tunnelled(frames: RawFrame[], wrap: Wrap, outer: Outer = { src: VTEP_A, dst: VTEP_B }): RawFrame[] {
  return frames.map((f) => {
    const toServer = formatIp(decodePacket(f.data, LinkType.ETHERNET).src) === CLIENT;
    const data = wrap(toServer ? outer : { ...outer, src: outer.dst, dst: outer.src }, f.data);
    return { ...f, data, wireLen: data.length };
  });
}

const attackSession = (): RawFrame[] => tcpSession({ client: CLIENT, server: SERVER, toServer: [ATTACK] });

describe('an HTTP attack inside a tunnel', () => {
  const cases: [string, Wrap][] = [
    ['VXLAN', wrapVxlan(4242)],
    ['Geneve', wrapGeneve(4242)],
    ['GRE carrying IP', wrapGreIp({ key: 7 })],
    ['GRETAP', wrapGretap()],
    ['IP in IP', wrapIpip],
  ];
  it.each(cases)('%s: http_waf alerts on the inner request, on the inner flow', async (_name, wrap) => {
    const { decisions } = await engineRun(tunnelled(attackSession(), wrap), [{ name: 'http_waf' }]);
    const alerts = alertsOf(decisions, 'http_waf');
    expect(alerts.map((a) => a.sigId)).toContain(SQLI_SID);
    const alerted = decisions[alerts[0]!.frame]!;
    expect(formatIp(alerted.flow!.clientAddr)).toBe(CLIENT);
    expect(alerted.flow!.serverPort).toBe(80);
    expect(alerted.pkt.tunnels).toHaveLength(1);
    // Both directions are one flow: the outer endpoints are keyed unordered.
    expect(new Set(decisions.map((d) => d.flow?.id))).toEqual(new Set([alerted.flow!.id]));
  });

  it('6in4 and 4in6 as well', async () => {
    const v6 = tcpSession({ client: 'fd00::1', server: 'fd00::2', toServer: [ATTACK] });
    const wrapped = v6.map((f) => {
      const toServer = formatIp(decodePacket(f.data, LinkType.ETHERNET).src) === 'fd00::1';
      const data = wrapIpip(toServer ? { src: VTEP_A, dst: VTEP_B } : { src: VTEP_B, dst: VTEP_A }, f.data);
      return { ...f, data, wireLen: data.length };
    });
    expect(alertsOf((await engineRun(wrapped, [{ name: 'http_waf' }])).decisions, 'http_waf').map((a) => a.sigId)).toContain(SQLI_SID);
    const v4in6 = tunnelled(attackSession(), wrapIpip, { src: '2001:db8::a', dst: '2001:db8::b' });
    expect(alertsOf((await engineRun(v4in6, [{ name: 'http_waf' }])).decisions, 'http_waf').map((a) => a.sigId)).toContain(SQLI_SID);
  });

  it('an attack split across inner IP fragments inside VXLAN is reassembled and alerted', async () => {
    // A TCP session whose request segment is fragmented at the inner IP layer.
    const session = attackSession();
    const reqIndex = session.findIndex((f) => decodePacket(f.data, LinkType.ETHERNET).payloadLength > 0);
    const req = session[reqIndex]!;
    const frags = fragmentIp(req.data, 48, 99).map((data, i) => ({ ...req, data, wireLen: data.length, tsNsec: req.tsNsec + i }));
    expect(frags.length).toBeGreaterThan(2);
    const frames = [...session.slice(0, reqIndex), ...frags, ...session.slice(reqIndex + 1)];
    const { decisions } = await engineRun(tunnelled(frames, wrapVxlan(9)), [{ name: 'http_waf' }]);
    expect(alertsOf(decisions, 'http_waf').map((a) => a.sigId)).toContain(SQLI_SID);
    const rebuilt = decisions.find((d) => d.sources.length > 1)!;
    expect(rebuilt.sources).toHaveLength(frags.length);
    expect(rebuilt.pkt.tunnels.map((t) => t.id)).toEqual([9]);
    expect(rebuilt.pkt.malformed).toBeNull();
  });

  it('fragments of the same inner datagram id in two VNIs are not mixed: neither datagram completes from the other\'s pieces', async () => {
    const req = buildPacket({ src: CLIENT, dst: SERVER, proto: 'udp', srcPort: 40000, dstPort: 53, payload: 'y'.repeat(120) });
    const [first, second, third] = fragmentIp(req, 48, 5);
    const at = (data: Uint8Array, i: number): RawFrame => ({ data, linkType: LinkType.ETHERNET, wireLen: data.length, tsSec: 1_700_000_000, tsNsec: i, iface: 0 });
    const o = { src: VTEP_A, dst: VTEP_B };
    const frames = [at(wrapVxlan(1)(o, first!), 0), at(wrapVxlan(2)(o, second!), 1), at(wrapVxlan(1)(o, third!), 2)];
    const { decisions } = await engineRun(frames, []);
    expect(decisions.every((d) => d.sources.length === 1 && d.stage === 'fragment')).toBe(true);
  });
});

describe('user-space rules', () => {
  it('apply to the innermost packet: a drop rule on inner TCP port 80 drops it inside VXLAN; the carrier\'s UDP 4789 matches no such rule', async () => {
    const decisions: PacketDecision[] = [];
    const engine = new Engine({
      rules: validateRuleSet({ default_policy: 'pass', rules: [{ action: 'drop', proto: 'tcp', dst_port: 80 }, { action: 'drop', proto: 'udp', dst_port: 4789 }] }, 'test'),
      modules: [], onDecision: (d) => decisions.push(d),
    });
    for (const f of tunnelled(attackSession(), wrapVxlan(1))) engine.push(f);
    engine.finish();
    const toServer = decisions.filter((d) => d.direction === 0);
    expect(toServer.length).toBeGreaterThan(0);
    expect(toServer.every((d) => d.stage === 'rule' && d.dropped && d.rule?.proto === 'tcp' && d.rule.dstPort?.lo === 80)).toBe(true);
  });
});

describe('inner flows of two overlays', () => {
  it('the same inner 5-tuple in two VNIs, or between two other endpoints, is three flows, even with their packets interleaved', async () => {
    const session = attackSession();
    const overlays = [
      tunnelled(session, wrapVxlan(100)),
      tunnelled(session, wrapVxlan(200)),
      tunnelled(session, wrapVxlan(100), { src: '192.0.2.7', dst: VTEP_B }),
    ];
    const frames = session.flatMap((_f, i) => overlays.map((o) => o[i]!));
    const { decisions } = await engineRun(frames, [{ name: 'http_waf' }]);
    const ids = [0, 1, 2].map((k) => new Set(decisions.filter((_d, i) => i % 3 === k).map((d) => d.flow!.id)));
    for (const s of ids) expect(s.size).toBe(1);
    expect(new Set(ids.map((s) => [...s][0])).size).toBe(3);
    expect(alertsOf(decisions, 'http_waf').filter((a) => a.sigId === SQLI_SID)).toHaveLength(3);
  });
});

describe('EVE records of an inner flow', () => {
  it('alert and flow records carry the outermost tunnel: endpoints, carrier protocol, depth and VNI', async () => {
    const records: FlowRecord[] = [];
    const decisions: PacketDecision[] = [];
    const waf = await instance('http_waf');
    const engine = new Engine({
      rules: { defaultPolicy: 'inspect', rules: [] }, modules: [{ name: 'http_waf', instance: waf }],
      onDecision: (d) => decisions.push(d), onFlowEnd: (r) => records.push(r),
    });
    for (const f of tunnelled(attackSession(), wrapVxlan(4242))) engine.push(f);
    engine.push(frame({ src: CLIENT, dst: SERVER, proto: 'udp', srcPort: 1, dstPort: 2 }, 1));
    engine.finish();
    const tunnel = { src_ip: VTEP_A, dest_ip: VTEP_B, proto: 'UDP', depth: 1, type: 'vxlan', vni: 4242 };
    const d = decisions.find((x) => x.modules.some((m) => m.alerts.length > 0))!;
    const run = d.modules.find((m) => m.alerts.length > 0)!;
    expect(alertRecord(d, run.module, run.alerts[0]!, 'http').tunnel).toEqual(tunnel);
    const inner = records.find((r) => r.flow.proto === 6)!;
    expect(flowRecord(inner, 'http').tunnel).toEqual(tunnel);
    expect(JSON.parse(flowRecordJson(inner, 'http'))).toEqual(flowRecord(inner, 'http'));
    const bare = records.find((r) => r.flow.proto === 17)!;
    expect(flowRecord(bare, undefined)).not.toHaveProperty('tunnel');
    expect(JSON.parse(flowRecordJson(bare, undefined))).not.toHaveProperty('tunnel');
  });

  it('a GRE key is reported as key; IP in IP has neither', async () => {
    const records: FlowRecord[] = [];
    for (const [wrap, extra] of [[wrapGreIp({ key: 77 }), { proto: 'GRE', type: 'gre', key: 77 }], [wrapIpip, { proto: 'IPIP', type: 'ipip' }]] as const) {
      records.length = 0;
      const engine = new Engine({ rules: { defaultPolicy: 'pass', rules: [] }, modules: [], onFlowEnd: (r) => records.push(r) });
      for (const f of tunnelled(attackSession(), wrap)) engine.push(f);
      engine.finish();
      expect(records).toHaveLength(1);
      expect(flowRecord(records[0]!, undefined).tunnel).toEqual({ src_ip: VTEP_A, dest_ip: VTEP_B, depth: 1, ...extra });
    }
  });
});
