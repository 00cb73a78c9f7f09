import { describe, expect, it } from 'vitest';
import { SecuxflowError, type ErrorCode } from '../../../host/errors.js';
import { nextRuleId, parsePortRange, ruleSetToJson, ruleToJson, validateRule, validateRuleSet } from '../../../host/rules/parse.js';

function errorOf(fn: () => unknown): SecuxflowError {
  try {
    fn();
  } catch (e) {
    if (e instanceof SecuxflowError) return e;
    throw new Error(`expected a SecuxflowError, got ${String(e)}`);
  }
  throw new Error('expected an error, got none');
}

function expectError(fn: () => unknown, code: ErrorCode, ...patterns: RegExp[]): SecuxflowError {
  const e = errorOf(fn);
  expect(e.code).toBe(code);
  for (const p of patterns) expect(e.message).toMatch(p);
  return e;
}

describe('parsePortRange', () => {
  it.each([
    ['80', 80, 80], [80, 80, 80], ['0', 0, 0], ['65535', 65535, 65535], ['1024-65535', 1024, 65535], ['7-7', 7, 7], [0, 0, 0],
  ] as const)('%s', (text, lo, hi) => {
    expect(parsePortRange(text, 'field "dst_port"')).toEqual({ lo, hi });
  });

  it.each(['70000', 70000, '80x', '', '-1', -1, '8.5', 8.5, '1-2-3', '80-', '-80', ' 80', '80 - 90', '0x50', '1e2', '100000-100001'])(
    'rejects %j naming the field and the value', (bad) => {
      const e = expectError(() => parsePortRange(bad as string, 'field "dst_port"'), 'E_RULE_INVALID', /^field "dst_port": /);
      expect(e.message).toContain(JSON.stringify(bad));
      expect(e.message).toMatch(/use 0-65535 or LO-HI/);
    });

  it('a reversed range is an error that suggests the swapped range', () => {
    expectError(() => parsePortRange('90-80', '--port'), 'E_RULE_INVALID', /^--port: "90-80" is a reversed range/, /"80-90"/);
  });
});

describe('validateRule: every field, good and bad', () => {
  const where = 'rules.yaml: rule #3 (id 12)';

  it('fills defaults and normalises', () => {
    const r = validateRule({ action: 'DROP', src: '192.168.1.9/24', proto: 'TCP', dst_port: '80' }, where);
    expect(r).toMatchObject({ id: 0, priority: 1000, proto: 'tcp', action: 'drop', vlan: null, comment: '', modules: [], srcPort: null });
    expect(r.src?.text).toBe('192.168.1.0/24');
    expect(r.dstPort).toEqual({ lo: 80, hi: 80 });
  });

  it('the issue\'s example message for a bad port', () => {
    const e = expectError(() => validateRule({ id: 12, action: 'drop', dst_port: '70000' }, where), 'E_RULE_INVALID');
    expect(e.message).toBe('rules.yaml: rule #3 (id 12): field "dst_port": "70000" is not a port or range (use 0-65535 or LO-HI)');
  });

  it.each([
    [{ action: 'drop', src: '10.0.0.0/33' }, /field "src": "10\.0\.0\.0\/33" is not a CIDR: prefix length 33 exceeds 32/],
    [{ action: 'drop', dst: '2001:db8::/129' }, /field "dst": "2001:db8::\/129" is not a CIDR: prefix length 129 exceeds 128/],
    [{ action: 'drop', dst: '300.1.1.1' }, /field "dst": "300\.1\.1\.1" is not a CIDR/],
    [{ action: 'drop', src: 'fe80::zz/64' }, /field "src": "fe80::zz\/64" is not a CIDR/],
    [{ action: 'drop', src: 17 }, /field "src": 17 is not a CIDR/],
    [{ action: 'drop', src_port: '1024-80' }, /field "src_port": "1024-80" is a reversed range/],
    [{ action: 'drop', dst_port: 70000 }, /field "dst_port": 70000 is not a port or range/],
    [{ action: 'drop', proto: 'sctp' }, /field "proto": "sctp" is not a protocol \(use tcp, udp, icmp, any\)/],
    [{ action: 'drop', proto: 'icmpv6' }, /field "proto": "icmpv6".*did you mean "icmp"/],
    [{ action: 'allow' }, /field "action": "allow" is not an action \(use pass, drop, inspect\); did you mean "pass"/],
    [{ action: 'reject' }, /did you mean "drop"/],
    [{}, /field "action": is required/],
    [{ action: null }, /field "action": is required/],
    [{ action: 'drop', id: 0 }, /field "id": 0 is not a rule id \(use an integer 1-2147483647\)/],
    [{ action: 'drop', id: 2147483648 }, /field "id": 2147483648 is not a rule id/],
    [{ action: 'drop', id: 1.5 }, /field "id": 1\.5 is not a rule id/],
    [{ action: 'drop', id: '12x' }, /field "id": "12x" is not a rule id/],
    [{ action: 'drop', priority: 65536 }, /field "priority": 65536 is not a priority \(use an integer 0-65535\)/],
    [{ action: 'drop', priority: -1 }, /field "priority": -1 is not a priority/],
    [{ action: 'drop', vlan: 4096 }, /field "vlan": 4096 is not a VLAN id \(use an integer 0-4095\)/],
    [{ action: 'drop', vlan: 'ten' }, /field "vlan": "ten" is not a VLAN id/],
    [{ action: 'inspect', modules: 'basic_inspect' }, /field "modules": "basic_inspect" is not a list of module names/],
    [{ action: 'inspect', modules: ['Basic'] }, /field "modules" entry #1: "Basic" is not a module name/],
    [{ action: 'inspect', modules: ['a', 'a'] }, /field "modules": module "a" is listed twice/],
    [{ action: 'drop', modules: ['basic_inspect'] }, /field "modules" \["basic_inspect"\] is only allowed with field "action" "inspect" \(the action is "drop"\)/],
    [{ action: 'pass', modules: ['basic_inspect'] }, /only allowed with field "action" "inspect"/],
    [{ action: 'drop', comment: 'a\nb' }, /field "comment": contains U\+000A/],
    [{ action: 'drop', comment: 'zero\u200Bwidth' }, /field "comment": contains U\+200B/],
    [{ action: 'drop', comment: '😀'.repeat(257) }, /field "comment": is 257 characters long \(at most 256\)/],
    [{ action: 'drop', comment: 'x'.repeat(257) }, /field "comment": is 257 characters long \(at most 256\)/],
    [{ action: 'drop', comment: 5 }, /field "comment": 5 is not text/],
    [{ action: 'drop', src: '10.0.0.0/8', dst: '2001:db8::/32' }, /field "src" "10\.0\.0\.0\/8" is IPv4 but field "dst" "2001:db8::\/32" is IPv6/],
    [{ action: 'drop', proto: 'icmp', dst_port: 80 }, /field "dst_port" is set but field "proto" is "icmp"/],
    [{ action: 'drop', proto: 'icmp', src_port: 80 }, /field "src_port" is set but field "proto" is "icmp"/],
  ])('%j', (input, re) => {
    const e = expectError(() => validateRule(input, where), 'E_RULE_INVALID', re);
    expect(e.message.startsWith(`${where}: `)).toBe(true);
  });

  it.each([
    ['dst_prot', 'dst_port'], ['sport', 'src_port'], ['dport', 'dst_port'], ['protocol', 'proto'],
    ['module', 'modules'], ['prority', 'priority'], ['Action', 'action'], ['vlan_id', 'vlan'], ['src-port', 'src_port'],
  ])('unknown field %s suggests %s', (bad, good) => {
    const e = expectError(() => validateRule({ action: 'drop', [bad]: 1 }, where), 'E_RULE_INVALID',
      new RegExp(`unknown field "${bad}" \\(did you mean "${good}"\\?\\)`));
    expect(e.hint).toMatch(/known fields: id, priority/);
  });

  it('an unknown field with no close match gives no guess', () => {
    const e = expectError(() => validateRule({ action: 'drop', zzzzzzzz: 1 }, where), 'E_RULE_INVALID', /unknown field "zzzzzzzz"$/);
    expect(e.message).not.toMatch(/did you mean/);
  });

  it.each([null, 5, 'drop', [], [{ action: 'drop' }]])('a non-object rule %j is an error', (input) => {
    expectError(() => validateRule(input, where), 'E_RULE_INVALID', /expected a rule/);
  });

  it('null means "any" for optional match fields', () => {
    const r = validateRule({ action: 'pass', src: null, dst: null, src_port: null, dst_port: null, vlan: null }, where);
    expect([r.src, r.dst, r.srcPort, r.dstPort, r.vlan]).toEqual([null, null, null, null, null]);
  });

  it('ports with proto any, and inspect with modules, are fine', () => {
    const r = validateRule({ action: 'inspect', modules: ['basic_inspect', 'dns-x'], dst_port: '53' }, where);
    expect(r.proto).toBe('any');
    expect(r.modules).toEqual(['basic_inspect', 'dns-x']);
  });
});

describe('addresses and ports written as Suricata, Snort or iptables write them: the hint says how to write them here', () => {
  const where = 'rules.yaml: rule #1';
  it.each([
    [{ dst_port: '1024:65535' }, 'a range is written LO-HI here: "1024-65535"'],
    [{ dst_port: ':1023' }, 'a range is written LO-HI here: "0-1023"'],
    [{ src_port: '1024:' }, 'a range is written LO-HI here: "1024-65535"'],
    [{ dst_port: '[80,443]' }, 'a rule takes one port or range: add a rule for each'],
    [{ dst_port: '80,443' }, 'a rule takes one port or range: add a rule for each'],
    [{ dst_port: '!22' }, 'a rule cannot exclude a port: give the excluded port a rule of its own with a lower priority, which is evaluated first'],
    [{ dst_port: 'any' }, 'leave the port out (null in a rule file) to match any port'],
    [{ src: 'any' }, 'leave the address out (null in a rule file) to match any address'],
    [{ src: '!10.0.0.0/8' }, 'a rule cannot exclude addresses: give the excluded ones a rule of their own with a lower priority, which is evaluated first'],
    [{ dst: '[10.0.0.0/8,192.168.0.0/16]' }, 'a rule takes one CIDR: add a rule for each'],
    [{ src: '[2001:db8::1]' }, 'write the IPv6 address without brackets: 2001:db8::1'],
    [{ src: 'fe80::1%eth0' }, 'a zone id (%eth0) names a host\'s interface, not part of the address: write fe80::1; a rule applies on every interface it is attached to'],
    [{ dst: 'fe80::%eth0/64' }, 'a zone id (%eth0) names a host\'s interface, not part of the address: write fe80::/64; a rule applies on every interface it is attached to'],
    [{ dst: '[2001:db8::]/32' }, 'write the IPv6 address without brackets: 2001:db8::/32'],
    [{ dst: '[2001:db8::1,2001:db8::2]' }, 'a rule takes one CIDR: add a rule for each'],
    [{ src: '$HOME_NET' }, '$HOME_NET is a Suricata/Snort variable: write the CIDR it stands for'],
    [{ dst: '10.1.0.0/255.255.0.0' }, 'write the netmask as a prefix length: 10.1.0.0/16'],
    [{ dst: '10.0.0.1/255.255.255.255' }, 'write the netmask as a prefix length: 10.0.0.1/32'],
    [{ src: '10.0.0.1-10.0.0.9' }, 'a range of addresses is written as the CIDRs that cover it, one rule each'],
  ])('%j', (fields, hint) => {
    const e = expectError(() => validateRule({ action: 'drop', proto: 'tcp', ...fields }, where), 'E_RULE_INVALID');
    expect(e.hint).toBe(hint);
  });

  it('anything else keeps the general hint', () => {
    expect(expectError(() => validateRule({ action: 'drop', dst: '10.0.0.0/255.0.255.0' }, where), 'E_RULE_INVALID').hint).toMatch(/^use A\.B\.C\.D\/N/);
    expect(expectError(() => validateRule({ action: 'drop', dst: 'example.com' }, where), 'E_RULE_INVALID').hint).toMatch(/^use A\.B\.C\.D\/N/);
    expect(expectError(() => validateRule({ action: 'drop', proto: 'tcp', dst_port: '80x' }, where), 'E_RULE_INVALID').hint).toBeUndefined();
  });
});

describe('validateRuleSet', () => {
  it('accepts a bare array and assigns missing ids above the largest given id, in order', () => {
    const set = validateRuleSet([{ action: 'drop' }, { id: 7, action: 'pass' }, { action: 'inspect' }, { id: 3, action: 'pass' }], 'x.json');
    expect(set.defaultPolicy).toBe('pass');
    expect(set.rules.map((r) => r.id)).toEqual([8, 7, 9, 3]);
  });

  it('accepts the document form with a default policy', () => {
    const set = validateRuleSet({ default_policy: 'DROP', rules: [{ action: 'pass', dst_port: 22, proto: 'tcp' }] }, 'x.yaml');
    expect(set.defaultPolicy).toBe('drop');
    expect(set.rules[0]!.id).toBe(1);
    expect(validateRuleSet({ default_policy: 'inspect' }, 'x').rules).toEqual([]);
  });

  it('duplicate ids name both positions', () => {
    expectError(() => validateRuleSet([{ id: 4, action: 'drop' }, { id: 5, action: 'drop' }, { id: 4, action: 'pass' }], 'r.yaml'),
      'E_RULE_DUPLICATE', /^r\.yaml: rule #3 and rule #1 both have id 4$/);
  });

  it('errors name the rule position and its id', () => {
    expectError(() => validateRuleSet([{ action: 'drop' }, { id: 12, action: 'drop', dst_port: '70000' }], 'r.yaml'),
      'E_RULE_INVALID', /^r\.yaml: rule #2 \(id 12\): field "dst_port": "70000"/);
    expectError(() => validateRuleSet({ rules: [{ action: 'nope' }] }, 'r.yaml'), 'E_RULE_INVALID', /^r\.yaml: rule #1: field "action"/);
  });

  it.each([
    [{ default_policy: 'allow', rules: [] }, /field "default_policy": "allow" is not an action/],
    [{ rules: {} }, /field "rules" must be a list/],
    [{ rule: [] }, /unknown top-level field "rule" \(did you mean "rules"\?\)/],
    [{ policy: 'drop', rules: [] }, /unknown top-level field "policy" \(did you mean "default_policy"\?\)/],
    [null, /empty document/],
    ['drop all', /expected a list of rules/],
  ])('bad document %j', (doc, re) => {
    expectError(() => validateRuleSet(doc, 'r.yaml'), 'E_RULE_INVALID', re);
  });
});

describe('ruleToJson round trip', () => {
  it('validateRule(ruleToJson(r)) gives r back for every kind of field', () => {
    const inputs = [
      { id: 1, action: 'drop', src: '192.168.1.0/24', dst: '10.0.0.5', dst_port: 80, proto: 'tcp' },
      { id: 2, priority: 0, action: 'inspect', modules: ['basic_inspect'], src: '2001:db8::/32', src_port: '1024-65535', proto: 'udp', vlan: 4095, comment: 'v6 "quoted"' },
      { id: 2147483647, priority: 65535, action: 'pass', proto: 'icmp', dst: '::/0', vlan: 0 },
    ];
    for (const input of inputs) {
      const r = validateRule(input, 'x');
      const back = validateRule(JSON.parse(JSON.stringify(ruleToJson(r))), 'x');
      expect(back).toEqual(r);
    }
  });

  it('ruleSetToJson round-trips through validateRuleSet', () => {
    const set = validateRuleSet({ default_policy: 'drop', rules: [{ action: 'pass', dst_port: '22' }, { action: 'drop', src: '198.18.0.0/15' }] }, 'x');
    expect(validateRuleSet(JSON.parse(JSON.stringify(ruleSetToJson(set))), 'y')).toEqual(set);
  });
});

describe('nextRuleId', () => {
  it('is max + 1, or 1 when empty, and the lowest free id once the top id is taken', () => {
    expect(nextRuleId([])).toBe(1);
    expect(nextRuleId([{ id: 3 }, { id: 9 }, { id: 2 }])).toBe(10);
    expect(nextRuleId([{ id: 2147483647 }])).toBe(1);
    expect(nextRuleId([{ id: 1 }, { id: 2 }, { id: 4 }, { id: 2147483647 }])).toBe(3);
  });

  it('a file whose rules lack ids gets distinct free ids, also past the top id', () => {
    const set = validateRuleSet({ rules: [{ action: 'drop', id: 2147483646 }, { action: 'drop' }, { action: 'drop', id: 2 }, { action: 'drop' }, { action: 'drop' }] }, 'x');
    expect(set.rules.map((r) => r.id)).toEqual([2147483646, 2147483647, 2, 1, 3]);
  });
});
