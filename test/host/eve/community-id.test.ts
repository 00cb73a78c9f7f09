// The Community ID v1 flow hash (https://github.com/corelight/community-id-spec)
// that our EVE records carry as `community_id`, as Suricata and Zeek write it,
// so a SOC can join our records to theirs. Byte-exact or useless: the vectors
// below are the spec's own baseline (baseline/baseline_deflt.json, made by its
// reference implementation) and values tshark 4.0's communityid dissector
// printed for frames built to match (`tshark --enable-protocol communityid`).
import { describe, expect, it } from 'vitest';
import { FlowEveRecords } from '../../../host/eve/flow-events.js';
import { communityId, flowCommunityId, icmpCounterpart, packetCommunityId } from '../../../host/eve/community-id.js';
import type { EveRecord } from '../../../host/eve/format.js';
import { dropRecord } from '../../../host/eve/format.js';
import type { PacketDecision } from '../../../host/engine/types.js';
import { FlowTable } from '../../../host/flow/table.js';
import { parseIp } from '../../../host/packet/addr.js';
import { buildPacket, fragmentIp, type PacketSpec } from '../../../host/packet/build.js';
import { decodePacket } from '../../../host/packet/decode.js';
import { LinkType, type DecodedPacket } from '../../../host/packet/types.js';
import { Verdict } from '../../../host/verdict.js';

function id(src: string, dst: string, proto: number, sport?: number, dport?: number): string | undefined {
  return communityId(parseIp(src), parseIp(dst), proto, sport ?? -1, dport ?? -1);
}

function decode(spec: PacketSpec, t = 0): DecodedPacket {
  return decodePacket(buildPacket(spec), LinkType.ETHERNET, 1_767_225_600 + t, 0);
}

// The spec's baseline, seed 0: [proto, saddr, daddr, sport, dport, community id].
const SPEC_BASELINE: [number, string, string, number | null, number | null, string][] = [
  [58, 'fe80::200:86ff:fe05:80da', 'fe80::260:97ff:fe07:69ea', 135, 136, '1:dGHyGvjMfljg6Bppwm3bg0LO8TY='],
  [58, 'fe80::260:97ff:fe07:69ea', 'fe80::200:86ff:fe05:80da', 136, 135, '1:dGHyGvjMfljg6Bppwm3bg0LO8TY='],
  [58, 'fe80::260:97ff:fe07:69ea', 'fe80::200:86ff:fe05:80da', 135, 136, '1:zavyT/cezQr1fmImYCwYnMXbgck='],
  [58, 'fe80::200:86ff:fe05:80da', 'fe80::260:97ff:fe07:69ea', 136, 135, '1:zavyT/cezQr1fmImYCwYnMXbgck='],
  [58, '3ffe:501:1800:2345::2', '3ffe:507:0:1:200:86ff:fe05:80da', 3, 0, '1:2ObVBgIn28oZvibYZhZMBgh7WdQ='],
  [58, '3ffe:501:410:0:2c0:dfff:fe47:33e', '3ffe:507:0:1:200:86ff:fe05:80da', 1, 4, '1:hLZd0XGWojozrvxqE0dWB1iM6R0='],
  [58, '3ffe:507:0:1:200:86ff:fe05:80da', '3ffe:501:0:1001::2', 128, 129, '1:+TW+HtLHvV1xnGhV1lv7XoJrqQg='],
  [58, '3ffe:501:0:1001::2', '3ffe:507:0:1:200:86ff:fe05:80da', 129, 128, '1:+TW+HtLHvV1xnGhV1lv7XoJrqQg='],
  [58, 'fe80::200:86ff:fe05:80da', 'ff02::2', 133, 134, '1:hO+sN4H+MG5MY/8hIrXPqc4ZQz0='],
  [58, 'fe80::260:97ff:fe07:69ea', 'ff02::1', 134, 133, '1:pkvHqCL88/tg1k4cPigmZXUtL00='],
  [1, '192.168.0.89', '192.168.0.1', 8, 0, '1:X0snYXpgwiv9TZtqg64sgzUn6Dk='],
  [1, '192.168.0.1', '192.168.0.89', 0, 8, '1:X0snYXpgwiv9TZtqg64sgzUn6Dk='],
  [1, '10.0.0.1', '10.0.0.2', 11, 0, '1:YHxtAirCG//0OzkcVAukqKQN9xM='],
  [6, '2001:470:e5bf:dead:4957:2174:e82c:4887', '2607:f8b0:400c:c03::1a', 63943, 25, '1:/qFaeAR+gFe1KYjMzVDsMv+wgU4='],
  [6, '2607:f8b0:400c:c03::1a', '2001:470:e5bf:dead:4957:2174:e82c:4887', 25, 63943, '1:/qFaeAR+gFe1KYjMzVDsMv+wgU4='],
  [132, '192.168.170.8', '192.168.170.56', 7, 7, '1:MP2EtRCAUIZvTw6MxJHLV7N7JDs='],
  [132, '192.168.170.56', '192.168.170.8', 7, 7, '1:MP2EtRCAUIZvTw6MxJHLV7N7JDs='],
  [6, '128.232.110.120', '66.35.250.204', 34855, 80, '1:LQU9qZlK+B5F3KDmev6m5PMibrg='],
  [6, '66.35.250.204', '128.232.110.120', 80, 34855, '1:LQU9qZlK+B5F3KDmev6m5PMibrg='],
  [17, '192.168.1.52', '8.8.8.8', 54585, 53, '1:d/FP5EW3wiY1vCndhwleRRKHowQ='],
  [17, '8.8.8.8', '192.168.1.52', 53, 54585, '1:d/FP5EW3wiY1vCndhwleRRKHowQ='],
  [46, '10.1.12.1', '10.1.12.2', null, null, '1:KHlLkgoJW7ifUTyTSgyVfkFHzKw='],
  [46, '10.1.12.2', '10.1.12.1', null, null, '1:KHlLkgoJW7ifUTyTSgyVfkFHzKw='],
];

// What tshark 4.0 printed for frames sent from the first address to the second (ICMP: type, code).
const TSHARK: [number, string, string, number | null, number | null, string][] = [
  [6, '10.0.0.2', '10.0.0.1', 80, 1234, '1:LzRJKgjvUJlC/VQLtISlfACcEzA='],
  [17, '10.0.0.5', '10.0.0.5', 53, 1000, '1:zcM2viOU4//6BYov5q770WNQbhU='],
  [17, '10.0.0.5', '10.0.0.5', 1000, 53, '1:zcM2viOU4//6BYov5q770WNQbhU='],
  [47, '192.0.2.9', '192.0.2.1', null, null, '1:/oouKp97QRvLxcVwftXSvISHXiI='],
  [89, '192.0.2.9', '192.0.2.1', null, null, '1:R65AkOvzSjNFJ/MiWWG//mCiosc='],
  [1, '10.0.0.2', '10.0.0.1', 8, 0, '1:E5tNYkCqpM09ZPfoLcq+JJj0QuQ='],
  [1, '10.0.0.2', '10.0.0.1', 0, 0, '1:YcMyyWJfhc95EW1GfXt6jlZ3DiQ='],
  [1, '10.0.0.2', '10.0.0.1', 3, 3, '1:LhjXG72oBqb/FpYqPl9LboG4/B4='],
  [1, '10.0.0.2', '10.0.0.1', 9, 0, '1:qhJTvE/Qez7ZPSOGlcKJAzRpSO0='],
  [1, '10.0.0.2', '10.0.0.1', 11, 0, '1:c5iqfdGYsNWhMJVcYXWPNWbpnKs='],
  [1, '10.0.0.2', '10.0.0.1', 13, 0, '1:th9CqcxflNss8X17pecPidKDzKw='],
  [1, '10.0.0.2', '10.0.0.1', 17, 0, '1:l/VKACLiArrnbEnOQacsEqDOAlg='],
  [58, '2001:db8::2', '2001:db8::1', 1, 3, '1:R/7STGRD8sPBsWVFLpjOBGt08QE='],
  [58, '2001:db8::2', '2001:db8::1', 128, 0, '1:YDcnf7YthUKAbDNo6Cs3rX4jq4w='],
  [58, '2001:db8::2', '2001:db8::1', 129, 0, '1:u2vMS3HiWth2lIMKHB1fjELshpQ='],
  [58, '2001:db8::2', '2001:db8::1', 130, 0, '1:xps6Lwc0qSxO2d8X+k4jnhqfpP0='],
  [58, '2001:db8::2', '2001:db8::1', 135, 0, '1:piFQJmm/6+NlvVh+iLYDZMGiCm8='],
  [58, '2001:db8::2', '2001:db8::1', 136, 0, '1:R9HBIi387RnKhKUU53rFlnl803U='],
  [58, '2001:db8::2', '2001:db8::1', 139, 0, '1:EyvsTyxh629HwHG1XyqvKuccnPM='],
  [58, '2001:db8::2', '2001:db8::1', 144, 0, '1:tpS7VP1V1DNOq0L6LOxDDupNGcA='],
  // Mobile prefix solicitation/advertisement (146/147) have no counterpart in the spec: one-way.
  [58, '2001:db8::2', '2001:db8::1', 146, 0, '1:Rs8ROr3Nt+mTBxpvWaFbiLyjEEI='],
  [58, '2001:db8::2', '2001:db8::1', 147, 3, '1:M6+ukho2DRzdrk7wY3qmijERbPg='],
];

describe('Community ID v1', () => {
  it.each(SPEC_BASELINE)('the spec baseline: proto %i %s -> %s', (proto, s, d, sp, dp, want) => {
    expect(id(s, d, proto, sp ?? undefined, dp ?? undefined)).toBe(want);
  });

  it.each(TSHARK)('what tshark prints: proto %i %s -> %s (%s, %s)', (proto, s, d, sp, dp, want) => {
    expect(id(s, d, proto, sp ?? undefined, dp ?? undefined)).toBe(want);
  });

  it('TCP and UDP give one id both ways, IPv4 and IPv6', () => {
    for (const [proto, a, b] of [[6, '198.18.0.1', '198.18.0.10'], [17, '198.18.0.1', '198.18.0.10'], [6, '2001:db8::1', '2001:db8::10'], [17, 'fe80::1', '2001:db8::1']] as const) {
      const there = id(a, b, proto, 41000, 80);
      expect(there).toMatch(/^1:[A-Za-z0-9+/]{27}=$/);
      expect(id(b, a, proto, 80, 41000)).toBe(there);
      // another port, another flow
      expect(id(a, b, proto, 41001, 80)).not.toBe(there);
    }
    // Equal addresses: the ports order the endpoints.
    expect(id('10.0.0.5', '10.0.0.5', 6, 80, 1234)).toBe(id('10.0.0.5', '10.0.0.5', 6, 1234, 80));
  });

  it('an ICMP echo request and its reply share an id, ICMPv6 alike', () => {
    expect(id('10.0.0.1', '10.0.0.2', 1, 0, 0)).toBe('1:E5tNYkCqpM09ZPfoLcq+JJj0QuQ=');
    expect(id('2001:db8::1', '2001:db8::2', 58, 129, 0)).toBe('1:YDcnf7YthUKAbDNo6Cs3rX4jq4w=');
    // timestamp, information, router solicitation/advertisement, address mask; MLD, ND, node information, home agent
    for (const [proto, q, r] of [[1, 13, 14], [1, 15, 16], [1, 10, 9], [1, 17, 18], [58, 130, 131], [58, 133, 134], [58, 135, 136], [58, 139, 140], [58, 144, 145]] as const) {
      const [a, b] = proto === 1 ? ['10.0.0.9', '10.0.0.1'] : ['2001:db8::9', '2001:db8::1'];
      expect(id(a, b, proto, q, 0), `${proto}/${q}`).toBe(id(b, a, proto, r, 0));
      // The code plays no part in a two-way type.
      expect(id(a, b, proto, q, 5)).toBe(id(a, b, proto, q, 0));
    }
    expect(icmpCounterpart(1, 8)).toBe(0);
    expect(icmpCounterpart(58, 146)).toBe(-1);
    expect(icmpCounterpart(1, 128)).toBe(-1); // the ICMPv6 table is not the ICMP one
  });

  it('a one-way ICMP type is hashed as sent (type, code), never reordered', () => {
    // Destination unreachable from the bigger address: reordering would hash 10.0.0.1 first.
    const there = id('10.0.0.2', '10.0.0.1', 1, 3, 3);
    expect(there).toBe('1:LhjXG72oBqb/FpYqPl9LboG4/B4=');
    expect(id('10.0.0.1', '10.0.0.2', 1, 3, 3)).not.toBe(there);
    expect(id('10.0.0.2', '10.0.0.1', 1, 3, 1)).not.toBe(there); // the code counts
    expect(id('2001:db8::2', '2001:db8::1', 58, 1, 3)).toBe('1:R/7STGRD8sPBsWVFLpjOBGt08QE=');
  });

  it('a protocol without ports hashes the addresses, protocol and pad byte, either way round', () => {
    expect(id('192.0.2.1', '192.0.2.9', 47)).toBe('1:/oouKp97QRvLxcVwftXSvISHXiI=');
    expect(id('10.1.12.1', '10.1.12.2', 46)).toBe(id('10.1.12.2', '10.1.12.1', 46));
    expect(id('2001:db8::9', '2001:db8::1', 47)).toBe(id('2001:db8::1', '2001:db8::9', 47));
    // ports given for a portless protocol are not hashed
    expect(id('192.0.2.1', '192.0.2.9', 47, 5, 6)).toBe('1:/oouKp97QRvLxcVwftXSvISHXiI=');
  });

  it('a protocol with ports given none, or mixed address families, has no id', () => {
    expect(id('10.0.0.1', '10.0.0.2', 6)).toBeUndefined();
    expect(id('10.0.0.1', '10.0.0.2', 1)).toBeUndefined();
    expect(communityId(parseIp('10.0.0.1'), parseIp('2001:db8::1'), 17, 1, 2)).toBeUndefined();
  });
});

describe('Community ID of packets and flows', () => {
  it('a packet\'s is that of its tuple, read from the frame', () => {
    expect(packetCommunityId(decode({ src: '10.0.0.2', dst: '10.0.0.1', proto: 'tcp', srcPort: 80, dstPort: 1234 }))).toBe('1:LzRJKgjvUJlC/VQLtISlfACcEzA=');
    expect(packetCommunityId(decode({ src: '10.0.0.1', dst: '10.0.0.2', proto: 'icmp', icmpType: 0 }))).toBe('1:E5tNYkCqpM09ZPfoLcq+JJj0QuQ=');
    expect(packetCommunityId(decode({ src: '10.0.0.2', dst: '10.0.0.1', proto: 'icmp', icmpType: 3, icmpCode: 3 }))).toBe('1:LhjXG72oBqb/FpYqPl9LboG4/B4=');
    expect(packetCommunityId(decode({ src: '2001:db8::2', dst: '2001:db8::1', proto: 'icmp', icmpType: 128 }))).toBe('1:YDcnf7YthUKAbDNo6Cs3rX4jq4w=');
    expect(packetCommunityId(decode({ src: '192.0.2.9', dst: '192.0.2.1', proto: 47, payload: 'gre' }))).toBe('1:/oouKp97QRvLxcVwftXSvISHXiI=');
    expect(packetCommunityId(decode({ src: '2607:f8b0:400c:c03::1a', dst: '2001:470:e5bf:dead:4957:2174:e82c:4887', proto: 'tcp', srcPort: 25, dstPort: 63943, vlans: [7] })))
      .toBe('1:/qFaeAR+gFe1KYjMzVDsMv+wgU4='); // VLAN tags are not hashed
  });

  it('a packet whose tuple cannot be read has none: a cut TCP header, a non-first fragment, no IP layer', () => {
    const whole = buildPacket({ src: '198.18.0.13', dst: '198.18.0.10', proto: 'tcp', srcPort: 41010, dstPort: 80, payload: 'x' });
    expect(packetCommunityId(decodePacket(whole.slice(0, 14 + 20 + 6), LinkType.ETHERNET))).toBeUndefined();
    const frags = fragmentIp(buildPacket({ src: '198.18.0.11', dst: '198.18.0.12', proto: 'udp', srcPort: 5000, dstPort: 5001, payload: 'F'.repeat(2400) }), 1000);
    expect(packetCommunityId(decodePacket(frags[0]!, LinkType.ETHERNET))).toBe(id('198.18.0.11', '198.18.0.12', 17, 5000, 5001));
    expect(packetCommunityId(decodePacket(frags[1]!, LinkType.ETHERNET))).toBeUndefined();
    const arp = new Uint8Array(60);
    arp[12] = 0x08; arp[13] = 0x06;
    expect(packetCommunityId(decodePacket(arp, LinkType.ETHERNET))).toBeUndefined();
  });

  it('a TCP flow\'s id is its packets\', computed once', () => {
    const table = new FlowTable();
    const syn = decode({ src: '198.18.0.1', dst: '198.18.0.10', proto: 'tcp', srcPort: 41000, dstPort: 80, tcpFlags: 0x02 });
    const flow = table.track(syn)!.flow;
    const reply = decode({ src: '198.18.0.10', dst: '198.18.0.1', proto: 'tcp', srcPort: 80, dstPort: 41000, tcpFlags: 0x12 });
    expect(table.track(reply)!.flow).toBe(flow);
    const want = id('198.18.0.1', '198.18.0.10', 6, 41000, 80);
    // once: the flow's addresses are read for the first call only
    let reads = 0;
    const watched = new Proxy(flow, { get: (t, k) => { if (k === 'clientAddr') reads++; return Reflect.get(t, k); } });
    expect(flowCommunityId(watched)).toBe(want);
    expect(flowCommunityId(watched)).toBe(want);
    expect(flowCommunityId(flow)).toBe(want);
    expect(reads).toBe(1);
    expect(packetCommunityId(reply)).toBe(want);
  });

  it('an ICMP flow (every message between two hosts) takes its first message\'s id', () => {
    const table = new FlowTable();
    const req = decode({ src: '198.18.0.1', dst: '198.18.0.10', proto: 'icmp', icmpType: 8 });
    const flow = table.track(req)!.flow;
    // A later message of another type, the other way, does not change it.
    const unreachable = decode({ src: '198.18.0.10', dst: '198.18.0.1', proto: 'icmp', icmpType: 3, icmpCode: 1 }, 1);
    expect(table.track(unreachable)!.flow).toBe(flow);
    expect(flowCommunityId(flow)).toBe(packetCommunityId(req));
    expect(packetCommunityId(unreachable)).not.toBe(packetCommunityId(req));
  });

  it('a TCP flow keyed without ports (its headers could not be read) has none', () => {
    const table = new FlowTable();
    const cut = buildPacket({ src: '198.18.0.13', dst: '198.18.0.10', proto: 'tcp', srcPort: 41010, dstPort: 80, payload: 'x' }).slice(0, 14 + 20 + 6);
    const flow = table.track(decodePacket(cut, LinkType.ETHERNET))!.flow;
    expect(flowCommunityId(flow)).toBeUndefined();
  });

  it('EVE records carry it: packet records from the packet or its flow, flow records from the flow', () => {
    const table = new FlowTable();
    const records = new FlowEveRecords();
    const out: EveRecord[] = [];
    const decide = (pkt: DecodedPacket): PacketDecision => {
      const flow = table.trackFlow(pkt);
      const d: PacketDecision = { index: 0, pkt, sources: [pkt], flow, direction: table.lastDirection, stage: 'rule', rule: null, ruleAction: null,
        modules: [], verdict: Verdict.DROP, dropped: true, inspected: 0 };
      records.decision(d, (r) => out.push(r));
      return d;
    };
    decide(decode({ src: '198.18.0.10', dst: '198.18.0.1', proto: 'icmp', icmpType: 0 }));
    decide(decode({ src: '198.18.0.1', dst: '198.18.0.10', proto: 'icmp', icmpType: 8 }));
    decide(decode({ src: '2001:db8::1', dst: '2001:db8::2', proto: 'udp', srcPort: 5353, dstPort: 53 }));
    const echo = id('198.18.0.1', '198.18.0.10', 1, 8, 0);
    expect(out.map((r) => [r.event_type, r.community_id])).toEqual([['drop', echo], ['drop', echo], ['drop', id('2001:db8::2', '2001:db8::1', 17, 53, 5353)]]);
    const flows = table.endAll().map((e) => records.flowEnded({ flow: e.flow, reason: 'shutdown', verdict: 'drop', alerted: false }));
    expect(flows.map((r) => r.community_id).sort()).toEqual([echo, id('2001:db8::1', '2001:db8::2', 17, 5353, 53)].sort());
    // Its place: after the endpoints, as Suricata writes it.
    const keys = Object.keys(flows[0]!);
    expect(keys.indexOf('community_id')).toBeGreaterThan(keys.indexOf('proto'));
    // A packet without a flow (a fragment held until it was given up) hashes itself.
    const frag = decodePacket(fragmentIp(buildPacket({ src: '198.18.0.11', dst: '198.18.0.12', proto: 'udp', srcPort: 5000, dstPort: 5001, payload: 'F'.repeat(2400) }), 1000)[0]!, LinkType.ETHERNET);
    const alone = dropRecord({ index: 0, pkt: frag, sources: [frag], flow: null, direction: 0, stage: 'fragment', rule: null, ruleAction: null, modules: [], verdict: Verdict.DROP, dropped: true, inspected: 0 });
    expect(alone.community_id).toBe(id('198.18.0.11', '198.18.0.12', 17, 5000, 5001));
  });

  it('alerts and protocol events carry it, from a packet and from a flow\'s end, the same for the whole flow', () => {
    const table = new FlowTable();
    const records = new FlowEveRecords();
    const out: EveRecord[] = [];
    const alert = { index: 0, sigId: 9, severity: 2, message: 'x', metadata: null };
    const event = { index: 0, kind: 'http' as const, data: { url: '/' } };
    for (const pkt of [decode({ src: '2001:db8::10', dst: '2001:db8::1', proto: 'tcp', srcPort: 80, dstPort: 41000, tcpFlags: 0x02 }),
      decode({ src: '2001:db8::1', dst: '2001:db8::10', proto: 'tcp', srcPort: 41000, dstPort: 80, payload: 'GET / HTTP/1.1\r\n\r\n' })]) {
      const flow = table.trackFlow(pkt);
      records.decision({ index: 0, pkt, sources: [pkt], flow, direction: table.lastDirection, stage: 'module', rule: null, ruleAction: null,
        modules: [{ module: 'm', verdict: Verdict.PASS, ttl: 0, alerts: [alert], events: [event], failure: null }], verdict: Verdict.PASS, dropped: false, inspected: 1 }, (r) => out.push(r));
    }
    const [ended] = table.endAll();
    const record = { flow: ended!.flow, reason: 'shutdown' as const, verdict: 'pass', alerted: true };
    records.flowOutput({ record, module: 'm', alerts: [alert], events: [event], late: false }, (r) => out.push(r));
    out.push(records.flowEnded(record));
    expect(out.map((r) => r.event_type)).toEqual(['http', 'alert', 'http', 'alert', 'http', 'alert', 'flow']);
    expect(new Set(out.map((r) => r.community_id))).toEqual(new Set([id('2001:db8::1', '2001:db8::10', 6, 41000, 80)]));
  });
});
