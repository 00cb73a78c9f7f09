// Every bad argument to the rule commands: a non-zero exit, an error that
// names the argument, and a state file that is byte-for-byte unchanged.
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, runCli } from '../host/state/helpers.js';

const base = mkdtempSync(join(tmpdir(), 'sf-rule-bad-'));
const dir = join(base, 'state');
let before = '';
beforeAll(async () => {
  await buildCli();
  for (const args of [['--action', 'drop', '--port', '22', '--proto', 'tcp'], ['--action', 'pass', '--src', '198.18.0.0/15', '--id', '5']]) {
    const r = runCli(['rule', 'add', ...args, '--state-dir', dir]);
    if (r.code !== 0) throw new Error(r.stderr);
  }
  before = readFileSync(join(dir, 'rules.json'), 'utf8');
}, 180_000);
afterAll(() => rmSync(base, { recursive: true, force: true }));

function expectRefused(args: string[], stderr: RegExp, code = /error\[E_[A-Z_]+\]/): void {
  const r = runCli([...args, '--state-dir', dir]);
  expect(r.code, `exit code of: ${args.join(' ')}`).not.toBe(0);
  expect(r.code).not.toBeNull();
  expect(r.stderr).toMatch(stderr);
  expect(r.stderr).toMatch(code);
  expect(r.stdout).toBe('');
  expect(readFileSync(join(dir, 'rules.json'), 'utf8')).toBe(before);
  expect(readdirSync(dir).sort()).toEqual(['rules.json']);
}

describe('rule add refuses bad input and changes nothing', () => {
  it.each([
    [['--src', '192.168.1.0/33'], /--src: "192\.168\.1\.0\/33" is not a CIDR: prefix length 33 exceeds 32/],
    [['--dst', '2001:db8::/129'], /--dst: "2001:db8::\/129" is not a CIDR: prefix length 129 exceeds 128/],
    [['--src', '192.168.1'], /--src: "192\.168\.1" is not a CIDR/],
    [['--src', '256.1.1.1'], /--src: "256\.1\.1\.1" is not a CIDR/],
    [['--dst', '2001:db8::zz'], /--dst: "2001:db8::zz" is not a CIDR/],
    [['--dst', 'example.com'], /--dst: "example\.com" is not a CIDR/],
    [['--src', ''], /--src: "" is not a CIDR/],
    [['--port', '70000'], /--port: "70000" is not a port or range \(use 0-65535 or LO-HI\)/],
    [['--port', '80x'], /--port: "80x" is not a port or range/],
    [['--port', '90-80'], /--port: "90-80" is a reversed range/],
    [['--sport', '65535-1'], /--sport: "65535-1" is a reversed range/],
    [['--sport', '1-'], /--sport: "1-" is not a port or range/],
    [['--proto', 'sctp'], /--proto: "sctp" is not a protocol \(use tcp, udp, icmp, any\)/],
    [['--proto', 'icmp', '--port', '1'], /--port is set but --proto is "icmp"/],
    [['--vlan', '4096'], /--vlan: "4096" is not a VLAN id \(use an integer 0-4095\)/],
    [['--vlan', '1e3'], /--vlan: "1e3" is not a VLAN id/],
    [['--priority', '65536'], /--priority: "65536" is not a priority/],
    [['--priority', '-1'], /--priority: "-1" is not a priority/],
    [['--id', '0'], /--id: "0" is not a rule id/],
    [['--id', '2147483648'], /--id: "2147483648" is not a rule id/],
    [['--id', '3.5'], /--id: "3\.5" is not a rule id/],
    [['--module', 'basic_inspect'], /--module \["basic_inspect"\] is only allowed with --action "inspect"/],
    [['--src', '10.0.0.0/8', '--dst', '2001:db8::1'], /--src "10\.0\.0\.0\/8" is IPv4 but --dst "2001:db8::1\/128" is IPv6/],
    [['--comment', 'two\nlines'], /--comment: contains U\+000A, a control or invisible formatting character/],
    [['--comment', 'price \u202Eevil'], /--comment: contains U\+202E, a control or invisible formatting character/],
    [['--comment', 'a\u2028b'], /--comment: contains U\+2028/],
  ])('add --action drop %j', (flags, stderr) => {
    expectRefused(['rule', 'add', '--action', 'drop', ...flags], stderr, /error\[E_RULE_INVALID\]/);
  });

  it.each([
    [['--action', 'allow'], /--action: "allow" is not an action \(use pass, drop, inspect\); did you mean "pass"\?/, /E_RULE_INVALID/],
    [['--action', 'inspect', '--module', 'Bad Name'], /--module: "Bad Name" is not a module name/, /E_RULE_INVALID/],
    [['--action', 'inspect', '--module', 'a', '--module', 'a'], /--module: "a" is given twice/, /E_RULE_INVALID/],
    [['--port', '80'], /--action is required/, /error\[E_USAGE\]/],
    [['--action', 'drop', '--id', '5'], /--id: rule id 5 already exists/, /error\[E_RULE_DUPLICATE\]/],
    [['--action', 'drop', '--prot', 'tcp'], /unknown option '--prot'/, /.*/],
    [['--action', 'drop', 'extra'], /too many arguments|unknown command|excess/i, /.*/],
  ])('add %j', (flags, stderr, code) => {
    expectRefused(['rule', 'add', ...flags], stderr, code);
  });
});

describe('an option given without its value', () => {
  it('names the option', () => {
    const r = runCli(['rule', 'add', '--state-dir', dir, '--action']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("secuxflow rule add: error[E_USAGE]: option '--action <action>' argument missing\n  hint: secuxflow rule add --help shows the usage\n");
    expect(readFileSync(join(dir, 'rules.json'), 'utf8')).toBe(before);
  });

  it('commander\'s other usage errors take the same form', () => {
    const unknownOption = runCli(['rule', 'add', '--action', 'drop', '--colour', 'red', '--state-dir', dir]);
    expect(unknownOption.code).toBe(2);
    expect(unknownOption.stderr).toMatch(/^secuxflow rule add: error\[E_USAGE\]: unknown option '--colour'\n {2}hint: /);
    const unknownCommand = runCli(['rul']);
    expect(unknownCommand.code).toBe(2);
    expect(unknownCommand.stderr).toMatch(/^secuxflow: error\[E_USAGE\]: unknown command 'rul'\n {2}hint: Did you mean one of rule, run\?\n {2}hint: secuxflow --help shows the usage\n$/);
  });
});

describe('rule delete ID, as iptables users type it', () => {
  it('is E_USAGE, exit 2, with a hint showing the --id form; the rules are unchanged', () => {
    const r = runCli(['rule', 'delete', '5', '--state-dir', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("secuxflow rule delete: error[E_USAGE]: too many arguments for 'delete'. Expected 0 arguments but got 1.\n"
      + '  hint: secuxflow rule delete takes no operands: write it as secuxflow rule delete --id 5\n'
      + '  hint: secuxflow rule delete --help shows the usage\n');
    expect(readFileSync(join(dir, 'rules.json'), 'utf8')).toBe(before);
    const two = runCli(['rule', 'delete', '5', '1', '--state-dir', dir]);
    expect(two.code).toBe(2);
    expect(two.stderr).toContain('hint: secuxflow rule delete takes no operands: write it as secuxflow rule delete --id 5 (one per command)\n');
  });

  it('an operand holding escapes or spaces is shown escaped and quoted', () => {
    const r = runCli(['rule', 'delete', '5 \u001b[2J', '--state-dir', dir]);
    expect(r.stderr).toContain("write it as secuxflow rule delete --id '5 \\x1b[2J'\n");
  });

  it('a command whose operand could mean several options keeps the generic hint', () => {
    const r = runCli(['rule', 'add', '--action', 'drop', '10.0.0.1', '--state-dir', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toMatch(/takes no operands/);
  });
});

describe('an option that takes one value, given twice', () => {
  it.each([
    [['rule', 'add', '--action', 'drop', '--action', 'pass'], /secuxflow rule add: error\[E_USAGE\]: --action is given more than once/],
    [['rule', 'add', '--action', 'drop', '--port=22', '--port', '23'], /--port is given more than once/],
    [['rule', 'delete', '--id', '1', '--id', '5'], /secuxflow rule delete: error\[E_USAGE\]: --id is given more than once/],
  ])('%j is refused', (args, stderr) => {
    const r = runCli([...args, '--state-dir', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(stderr);
    expect(readFileSync(join(dir, 'rules.json'), 'utf8')).toBe(before);
  });

  it('repeatable options and values that look like flags are not counted', () => {
    const other = join(base, 'repeat-ok');
    const r = runCli(['rule', 'add', '--action', 'inspect', '--module', 'basic_inspect', '--module', 'dns_guard', '--comment', '--action', '--state-dir', other]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/added rule 1/);
  });
});

describe('a --state-dir that is a file', () => {
  it('says a file is in the way, not to run as root', () => {
    const file = join(base, 'not-a-dir');
    writeFileSync(file, 'x');
    const r = runCli(['rule', 'add', '--action', 'drop', '--state-dir', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error\[E_STATE\]: cannot create state directory .*not-a-dir: EEXIST\n {2}hint: .*not-a-dir is in the way and is not a directory: move it away, or choose a writable directory with --state-dir/);
    const under = runCli(['rule', 'list', '--state-dir', join(file, 'sub')]);
    expect(under.code).toBe(1);
    expect(under.stderr).toMatch(/ENOTDIR\n {2}hint: a file is in the way/);
  });
});

describe('an empty --state-dir', () => {
  it('is refused instead of meaning /var/lib/secuxflow', () => {
    const r = runCli(['rule', 'add', '--action', 'drop', '--state-dir', '']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error\[E_USAGE\]: --state-dir is empty\n {2}hint: give a directory, or leave --state-dir out/);
    // with --json the error is also on stdout, as JSON
    const j = runCli(['rule', 'list', '--json', '--state-dir', '']);
    expect(j.code).toBe(2);
    expect(JSON.parse(j.stdout)).toEqual({ error: { code: 'E_USAGE', message: '--state-dir is empty', hint: expect.stringMatching(/^give a directory/) } });
  });
});

describe('rule delete refuses bad input and changes nothing', () => {
  it.each([
    [[], /--id is required/, /E_USAGE/],
    [['--id', '99'], /--id: no rule has id 99/, /E_RULE_NOT_FOUND/],
    [['--id', 'x1'], /--id: "x1" is not a rule id/, /E_RULE_INVALID/],
    [['--id', '-3'], /--id: "-3" is not a rule id/, /E_RULE_INVALID/],
  ])('delete %j', (flags, stderr, code) => {
    expectRefused(['rule', 'delete', ...flags], stderr, code);
  });
});

describe('a corrupt state file', () => {
  it('every rule command gives E_STATE naming the file and leaves it as it was', () => {
    const bad = join(base, 'corrupt');
    const seed = runCli(['rule', 'add', '--action', 'drop', '--state-dir', bad]);
    expect(seed.code).toBe(0);
    const path = join(bad, 'rules.json');
    const torn = readFileSync(path, 'utf8').slice(0, 40);
    writeFileSync(path, torn);
    const mtime = statSync(path).mtimeMs;
    for (const args of [['rule', 'add', '--action', 'pass'], ['rule', 'list'], ['rule', 'list', '--json'], ['rule', 'delete', '--id', '1'], ['rule', 'clear']]) {
      const r = runCli([...args, '--state-dir', bad]);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(/error\[E_STATE\]/);
      expect(r.stderr).toContain(path);
      expect(r.stderr).toMatch(/never overwrites it/);
      expect(readFileSync(path, 'utf8')).toBe(torn);
      expect(statSync(path).mtimeMs).toBe(mtime);
    }
  });
});
