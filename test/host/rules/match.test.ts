import { describe, expect, it } from 'vitest';
import { buildPacket, fragmentIp, type PacketSpec } from '../../../host/packet/build.js';
import { decodePacket } from '../../../host/packet/decode.js';
import { LinkType, type DecodedPacket } from '../../../host/packet/types.js';
import { RuleMatcher, sortRules } from '../../../host/rules/match.js';
import { validateRuleSet } from '../../../host/rules/parse.js';
import type { RuleSet } from '../../../host/rules/types.js';

function set(rules: unknown[], defaultPolicy = 'pass'): RuleSet {
  return validateRuleSet({ default_policy: defaultPolicy, rules }, 'test');
}

function pkt(spec: Partial<PacketSpec> & { proto: PacketSpec['proto'] }): DecodedPacket {
  const full: PacketSpec = { src: '198.18.0.1', dst: '198.18.1.1', srcPort: 40000, dstPort: 80, ...spec };
  return decodePacket(buildPacket(full), LinkType.ETHERNET);
}

const v6 = (spec: Partial<PacketSpec> & { proto: PacketSpec['proto'] }): DecodedPacket =>
  pkt({ src: '2001:db8::1', dst: '2001:db8:1::1', ...spec });

function matchedId(s: RuleSet, p: DecodedPacket): number | null {
  return new RuleMatcher(s).match(p).rule?.id ?? null;
}

describe('order: priority ascending, then id ascending, first match wins', () => {
  it('sortRules and RuleMatcher.rules use (priority, id)', () => {
    const s = set([
      { id: 5, priority: 10, action: 'drop' }, { id: 2, priority: 10, action: 'pass' },
      { id: 1, priority: 20, action: 'pass' }, { id: 9, priority: 0, action: 'inspect' },
    ]);
    const expected = [9, 2, 5, 1];
    expect(sortRules(s.rules).map((r) => r.id)).toEqual(expected);
    expect(new RuleMatcher(s).rules.map((r) => r.id)).toEqual(expected);
  });

  it('a lower priority number wins over a lower id', () => {
    const s = set([{ id: 1, priority: 500, action: 'pass' }, { id: 2, priority: 100, action: 'drop' }]);
    const m = new RuleMatcher(s).match(pkt({ proto: 'tcp' }));
    expect(m.rule?.id).toBe(2);
    expect(m.action).toBe('drop');
  });

  it('ties on priority go to the lower id, whatever the file order', () => {
    const s = set([{ id: 8, action: 'drop' }, { id: 3, action: 'inspect' }]);
    expect(new RuleMatcher(s).match(pkt({ proto: 'udp' }))).toMatchObject({ action: 'inspect', rule: { id: 3 } });
  });

  it.each(['pass', 'drop', 'inspect'])('no match -> default policy %s with no rule', (policy) => {
    const s = set([{ action: 'drop', dst_port: 443, proto: 'tcp' }], policy);
    const m = new RuleMatcher(s).match(pkt({ proto: 'tcp', dstPort: 80 }));
    expect(m.rule).toBeNull();
    expect(m.action).toBe(policy);
  });
});

interface Case {
  name: string;
  rule: Record<string, unknown>;
  packet: DecodedPacket;
  matches: boolean;
}

const tcp80 = pkt({ proto: 'tcp', dstPort: 80, srcPort: 40000 });
const udp53 = pkt({ proto: 'udp', dstPort: 53, srcPort: 5353 });
const icmp4 = pkt({ proto: 'icmp', icmpType: 8 });
const icmp6 = v6({ proto: 'icmp', icmpType: 128 });
const tcp6 = v6({ proto: 'tcp', dstPort: 443, srcPort: 50000 });
const gre4 = pkt({ proto: 47, payload: 'x' });

function fragments(frame: Uint8Array, size: number): DecodedPacket[] {
  return fragmentIp(frame, size).map((f) => decodePacket(f, LinkType.ETHERNET));
}
const tcpDatagram = buildPacket({ src: '198.18.0.1', dst: '198.18.1.1', proto: 'tcp', srcPort: 1, dstPort: 80, payload: 'abcdefghijklmnopqrstuvwxyz' });
const [tcpFirstFrag, tcpLaterFrag] = fragments(tcpDatagram, 24) as [DecodedPacket, DecodedPacket];
// 8 data bytes cannot hold the 20-byte TCP header: the first fragment has no ports either.
const [tcpTinyFirstFrag] = fragments(tcpDatagram, 8) as [DecodedPacket];
const [, udp6LaterFrag] = fragments(buildPacket({ src: '2001:db8::1', dst: '2001:db8::2', proto: 'udp', srcPort: 1, dstPort: 53, payload: 'abcdefghijklmnopqrstuvwxyz' }), 8) as [DecodedPacket, DecodedPacket];

function truncatedTcp(): DecodedPacket {
  const frame = buildPacket({ src: '198.18.0.1', dst: '198.18.1.1', proto: 'tcp', srcPort: 1234, dstPort: 80 });
  return decodePacket(frame.subarray(0, 14 + 20 + 10), LinkType.ETHERNET);
}
const tcpCut = truncatedTcp();

const vlan100 = pkt({ proto: 'tcp', vlans: [100] });
const qinq = pkt({ proto: 'tcp', vlans: [200, 100] });

const cases: Case[] = [
  // addresses
  { name: 'v4 src CIDR contains', rule: { action: 'drop', src: '198.18.0.0/24' }, packet: tcp80, matches: true },
  { name: 'v4 src CIDR misses', rule: { action: 'drop', src: '198.18.2.0/24' }, packet: tcp80, matches: false },
  { name: 'v4 dst host', rule: { action: 'drop', dst: '198.18.1.1' }, packet: tcp80, matches: true },
  { name: 'v4 dst host other', rule: { action: 'drop', dst: '198.18.1.2' }, packet: tcp80, matches: false },
  { name: 'v4 /0 matches any v4', rule: { action: 'drop', dst: '0.0.0.0/0' }, packet: tcp80, matches: true },
  { name: 'v4 /0 never matches v6', rule: { action: 'drop', dst: '0.0.0.0/0' }, packet: tcp6, matches: false },
  { name: 'v6 /0 never matches v4', rule: { action: 'drop', src: '::/0' }, packet: tcp80, matches: false },
  { name: 'v6 src CIDR /32', rule: { action: 'drop', src: '2001:db8::/32' }, packet: tcp6, matches: true },
  { name: 'v6 dst CIDR /48 contains', rule: { action: 'drop', dst: '2001:db8:1::/48' }, packet: tcp6, matches: true },
  { name: 'v6 dst CIDR /48 misses', rule: { action: 'drop', dst: '2001:db8:2::/48' }, packet: tcp6, matches: false },
  { name: 'v6 /127 in the last word', rule: { action: 'drop', src: '2001:db8::/127' }, packet: tcp6, matches: true },
  { name: 'v6 /128 other host', rule: { action: 'drop', src: '2001:db8::2' }, packet: tcp6, matches: false },
  { name: 'no CIDR matches v6 too', rule: { action: 'drop' }, packet: tcp6, matches: true },
  // protocols
  { name: 'tcp rule, tcp packet', rule: { action: 'drop', proto: 'tcp' }, packet: tcp80, matches: true },
  { name: 'tcp rule, udp packet', rule: { action: 'drop', proto: 'tcp' }, packet: udp53, matches: false },
  { name: 'udp rule, udp packet', rule: { action: 'drop', proto: 'udp' }, packet: udp53, matches: true },
  { name: 'icmp rule, ICMPv4', rule: { action: 'drop', proto: 'icmp' }, packet: icmp4, matches: true },
  { name: 'icmp rule, ICMPv6', rule: { action: 'drop', proto: 'icmp' }, packet: icmp6, matches: true },
  { name: 'icmp rule with v6 CIDR, ICMPv6', rule: { action: 'drop', proto: 'icmp', dst: '2001:db8:1::/64' }, packet: icmp6, matches: true },
  { name: 'icmp rule, tcp', rule: { action: 'drop', proto: 'icmp' }, packet: tcp80, matches: false },
  { name: 'any matches GRE', rule: { action: 'drop', proto: 'any' }, packet: gre4, matches: true },
  { name: 'tcp does not match GRE', rule: { action: 'drop', proto: 'tcp' }, packet: gre4, matches: false },
  // ports
  { name: 'dst port exact', rule: { action: 'drop', dst_port: 80 }, packet: tcp80, matches: true },
  { name: 'dst port other', rule: { action: 'drop', dst_port: 81 }, packet: tcp80, matches: false },
  { name: 'dst range lower bound', rule: { action: 'drop', dst_port: '80-90' }, packet: tcp80, matches: true },
  { name: 'dst range upper bound', rule: { action: 'drop', dst_port: '70-80' }, packet: tcp80, matches: true },
  { name: 'dst range below', rule: { action: 'drop', dst_port: '81-90' }, packet: tcp80, matches: false },
  { name: 'src range', rule: { action: 'drop', src_port: '1024-65535' }, packet: tcp80, matches: true },
  { name: 'src range misses', rule: { action: 'drop', src_port: '1-1023' }, packet: tcp80, matches: false },
  { name: 'both ranges', rule: { action: 'drop', src_port: '40000', dst_port: '80' }, packet: tcp80, matches: true },
  { name: 'both ranges, one misses', rule: { action: 'drop', src_port: '40001', dst_port: '80' }, packet: tcp80, matches: false },
  { name: 'udp port with proto any', rule: { action: 'drop', dst_port: 53 }, packet: udp53, matches: true },
  { name: 'v6 tcp port', rule: { action: 'drop', proto: 'tcp', dst_port: '443' }, packet: tcp6, matches: true },
  { name: 'port rule never matches ICMP (any)', rule: { action: 'drop', dst_port: '0-65535' }, packet: icmp4, matches: false },
  { name: 'port rule never matches ICMPv6', rule: { action: 'drop', src_port: '0-65535' }, packet: icmp6, matches: false },
  { name: 'port rule never matches GRE', rule: { action: 'drop', dst_port: '0-65535' }, packet: gre4, matches: false },
  // fragments and truncation
  { name: 'first fragment has ports', rule: { action: 'drop', proto: 'tcp', dst_port: 80 }, packet: tcpFirstFrag, matches: true },
  { name: 'non-first fragment has no ports', rule: { action: 'drop', proto: 'tcp', dst_port: '0-65535' }, packet: tcpLaterFrag, matches: false },
  { name: 'non-first fragment matches proto tcp', rule: { action: 'drop', proto: 'tcp' }, packet: tcpLaterFrag, matches: true },
  { name: 'non-first fragment matches its CIDR', rule: { action: 'drop', dst: '198.18.1.0/24' }, packet: tcpLaterFrag, matches: true },
  { name: 'v6 non-first fragment: proto udp', rule: { action: 'drop', proto: 'udp' }, packet: udp6LaterFrag, matches: true },
  { name: 'v6 non-first fragment: no ports', rule: { action: 'drop', proto: 'udp', dst_port: 53 }, packet: udp6LaterFrag, matches: false },
  { name: 'truncated TCP header: no ports', rule: { action: 'drop', dst_port: '0-65535' }, packet: tcpCut, matches: false },
  { name: 'truncated TCP header: proto still tcp', rule: { action: 'drop', proto: 'tcp', src: '198.18.0.1' }, packet: tcpCut, matches: true },
  // vlan
  { name: 'vlan rule, untagged', rule: { action: 'drop', vlan: 100 }, packet: tcp80, matches: false },
  { name: 'vlan rule, tagged', rule: { action: 'drop', vlan: 100 }, packet: vlan100, matches: true },
  { name: 'vlan rule, other tag', rule: { action: 'drop', vlan: 101 }, packet: vlan100, matches: false },
  { name: 'no vlan in rule, tagged', rule: { action: 'drop' }, packet: vlan100, matches: true },
  { name: 'vlan rule uses the outer QinQ tag', rule: { action: 'drop', vlan: 200 }, packet: qinq, matches: true },
  { name: 'vlan rule ignores the inner QinQ tag', rule: { action: 'drop', vlan: 100 }, packet: qinq, matches: false },
  // all fields together (the README example)
  { name: 'README example matches', rule: { action: 'drop', src: '192.168.1.0/24', dst: '10.0.0.5', dst_port: 80, proto: 'tcp' }, packet: pkt({ src: '192.168.1.33', dst: '10.0.0.5', proto: 'tcp', dstPort: 80 }), matches: true },
  { name: 'README example, other dst', rule: { action: 'drop', src: '192.168.1.0/24', dst: '10.0.0.5', dst_port: 80, proto: 'tcp' }, packet: pkt({ src: '192.168.1.33', dst: '10.0.0.6', proto: 'tcp', dstPort: 80 }), matches: false },
  { name: 'README example, udp', rule: { action: 'drop', src: '192.168.1.0/24', dst: '10.0.0.5', dst_port: 80, proto: 'tcp' }, packet: pkt({ src: '192.168.1.33', dst: '10.0.0.5', proto: 'udp', dstPort: 80 }), matches: false },
];

describe('every field must match', () => {
  it('the packets were built as intended', () => {
    expect(tcpLaterFrag.fragment?.offset).toBeGreaterThan(0);
    expect(tcpLaterFrag.l4Offset).toBe(-1);
    expect(tcpFirstFrag.l4Offset).toBeGreaterThan(0);
    expect(tcpFirstFrag.fragment?.moreFragments).toBe(true);
    expect(tcpTinyFirstFrag.l4Offset).toBe(-1);
    expect(udp6LaterFrag.proto).toBe(17);
    expect(tcpCut.ipVersion).toBe(4);
    expect(tcpCut.l4Offset).toBe(-1);
    expect(icmp6.proto).toBe(58);
    expect(qinq.vlans).toEqual([200, 100]);
  });

  it.each(cases)('$name', ({ rule, packet, matches }) => {
    const s = set([{ id: 1, ...rule }], 'inspect');
    const m = new RuleMatcher(s).match(packet);
    expect(m.rule?.id ?? null).toBe(matches ? 1 : null);
    expect(m.action).toBe(matches ? rule.action : 'inspect');
  });
});

describe('invalid packets are dropped before any rule', () => {
  it('a first fragment too short for the TCP header (nmap -f), even where a pass rule covers it', () => {
    expect(tcpTinyFirstFrag.invalid).toMatch(/first fragment holds 8 of the 20 bytes of the TCP header/);
    const passAll = set([{ id: 1, action: 'pass' }, { id: 2, proto: 'tcp', dst_port: '0-65535', action: 'pass' }], 'pass');
    expect(new RuleMatcher(passAll).match(tcpTinyFirstFrag)).toEqual({ rule: null, action: 'drop' });
  });

  it('not a first fragment that holds the whole header, nor a later fragment', () => {
    expect([tcpFirstFrag.invalid, tcpLaterFrag.invalid, tcpCut.invalid]).toEqual([null, null, null]);
  });
});

describe('frames without an IP layer always pass', () => {
  function ethernet(etherType: number, body: number[]): DecodedPacket {
    const f = new Uint8Array(14 + body.length);
    f.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, etherType >> 8, etherType & 0xff]);
    f.set(body, 14);
    return decodePacket(f, LinkType.ETHERNET);
  }
  const badVersion = (() => {
    const f = buildPacket({ src: '198.18.0.1', dst: '198.18.1.1', proto: 'tcp', dstPort: 80 });
    f[14] = 0x55;
    return decodePacket(f, LinkType.ETHERNET);
  })();
  const shortIp = decodePacket(buildPacket({ src: '198.18.0.1', dst: '198.18.1.1', proto: 'udp', dstPort: 53 }).subarray(0, 14 + 19), LinkType.ETHERNET);

  it.each([
    ['ARP', ethernet(0x0806, new Array(28).fill(0))],
    ['LLDP', ethernet(0x88cc, new Array(20).fill(1))],
    ['unknown ethertype', ethernet(0x1234, [1, 2, 3])],
    ['IPv4 ethertype with version 5', badVersion],
    ['IPv4 header too short', shortIp],
  ])('%s', (_name, p) => {
    expect(p.ipVersion).toBe(0);
    const catchAll = set([{ id: 1, action: 'drop' }], 'drop');
    expect(new RuleMatcher(catchAll).match(p)).toEqual({ rule: null, action: 'pass' });
  });
});

describe('an empty rule set', () => {
  it('applies the default policy to IP packets only', () => {
    const m = new RuleMatcher(set([], 'drop'));
    expect(m.match(tcp80)).toEqual({ rule: null, action: 'drop' });
    expect(m.match(tcp6)).toEqual({ rule: null, action: 'drop' });
  });
});

describe('matched ids over a larger set', () => {
  it('several overlapping rules pick the right one per packet', () => {
    const s = set([
      { id: 1, priority: 100, action: 'pass', src: '198.18.0.0/15', proto: 'tcp', dst_port: 22 },
      { id: 2, priority: 200, action: 'drop', src: '198.18.0.0/15' },
      { id: 3, priority: 50, action: 'inspect', proto: 'udp', dst_port: 53 },
      { id: 4, priority: 50, action: 'drop', src: '2001:db8::/32', proto: 'icmp' },
      { id: 5, priority: 300, action: 'pass' },
    ], 'drop');
    expect(matchedId(s, pkt({ proto: 'tcp', dstPort: 22 }))).toBe(1);
    expect(matchedId(s, pkt({ proto: 'tcp', dstPort: 23 }))).toBe(2);
    expect(matchedId(s, pkt({ proto: 'udp', dstPort: 53 }))).toBe(3);
    expect(matchedId(s, v6({ proto: 'icmp', icmpType: 128 }))).toBe(4);
    expect(matchedId(s, v6({ proto: 'tcp', dstPort: 22 }))).toBe(5);
    expect(matchedId(s, pkt({ src: '10.0.0.1', dst: '10.0.0.2', proto: 'tcp', dstPort: 22 }))).toBe(5);
  });
});
