// The rule commands as a user runs them: through the built binary, one state
// directory per test, checking what is printed and what is stored.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, runCli } from '../host/state/helpers.js';

const base = mkdtempSync(join(tmpdir(), 'sf-rule-e2e-'));
let n = 0;
const freshDir = (): string => join(base, `s${++n}`);
beforeAll(() => buildCli(), 180_000);
afterAll(() => rmSync(base, { recursive: true, force: true }));

function ok(args: string[], env: NodeJS.ProcessEnv = {}): string {
  const r = runCli(args, env);
  if (r.code !== 0) throw new Error(`secuxflow ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

interface ListedJson {
  default_policy: string;
  attached: boolean;
  rules: Array<Record<string, unknown> & { id: number; hits: unknown }>;
}

function listJson(dir: string): ListedJson {
  return JSON.parse(ok(['rule', 'list', '--json', '--state-dir', dir])) as ListedJson;
}

describe('secuxflow rule (built CLI)', () => {
  it('the README example works exactly as written', () => {
    const dir = freshDir();
    const out = ok(['rule', 'add', '--src', '192.168.1.0/24', '--dst', '10.0.0.5', '--port', '80', '--proto', 'tcp', '--action', 'drop', '--state-dir', dir]);
    expect(out).toMatch(/^added rule 1 \(priority 1000\): drop tcp 192\.168\.1\.0\/24 -> 10\.0\.0\.5 port 80$/m);
    expect(out).toMatch(/not attached/);
    const stored = JSON.parse(readFileSync(join(dir, 'rules.json'), 'utf8')) as Record<string, unknown>;
    expect(stored).toEqual({
      version: 1,
      default_policy: 'pass',
      rules: [{ id: 1, priority: 1000, src: '192.168.1.0/24', dst: '10.0.0.5/32', src_port: null, dst_port: 80, proto: 'tcp', action: 'drop', modules: [], vlan: null, comment: '' }],
    });
  });

  it('says when a CIDR has host bits set, and stores the network', () => {
    const dir = freshDir();
    const out = ok(['rule', 'add', '--src', '10.0.0.1/24', '--dst', '198.18.7.9/16', '--action', 'drop', '--state-dir', dir]);
    expect(out).toMatch(/^ {2}note: --src 10\.0\.0\.1\/24 has host bits set; the rule matches the network 10\.0\.0\.0\/24$/m);
    expect(out).toMatch(/^ {2}note: --dst 198\.18\.7\.9\/16 has host bits set; the rule matches the network 198\.18\.0\.0\/16$/m);
    expect(ok(['rule', 'add', '--src', '10.0.0.0/24', '--dst', '10.9.9.9', '--action', 'drop', '--state-dir', dir])).not.toMatch(/note:/);
    expect(ok(['rule', 'add', '--dst', '::ffff:10.0.0.1', '--action', 'drop', '--state-dir', dir]))
      .toMatch(/note: --dst ::ffff:10\.0\.0\.1 is an IPv4-mapped IPv6 address; IPv4 packets carry 10\.0\.0\.1 in an IPv4 header and never match it/);
    expect(ok(['rule', 'add', '--dst', '2001:db8::1', '--action', 'drop', '--state-dir', dir])).not.toMatch(/note:/);
  });

  it('list shows rules in priority order (ties by id), as a table and as JSON', () => {
    const dir = freshDir();
    ok(['rule', 'add', '--action', 'drop', '--proto', 'udp', '--port', '53', '--state-dir', dir]); // id 1, prio 1000
    ok(['rule', 'add', '--action', 'pass', '--src', '2001:db8::/32', '--priority', '10', '--comment', 'v6 ok', '--state-dir', dir]); // id 2
    ok(['rule', 'add', '--action', 'inspect', '--module', 'basic_inspect', '--module', 'dns_guard', '--sport', '1024-65535', '--vlan', '42', '--priority', '10', '--id', '7', '--state-dir', dir]);
    ok(['rule', 'add', '--action', 'drop', '--priority', '0', '--proto', 'icmp', '--state-dir', dir]); // id 8

    const table = ok(['rule', 'list', '--state-dir', dir]).trimEnd().split('\n');
    expect(table[0]).toMatch(/^ID\s+PRIO\s+ACTION\s+PROTO\s+SRC\s+SPORT\s+DST\s+DPORT\s+VLAN\s+MODULES\s+HITS\s+COMMENT$/);
    const ids = table.slice(1, 5).map((l) => Number(l.split(/\s+/)[0]));
    expect(ids).toEqual([8, 2, 7, 1]);
    expect(table[2]).toMatch(/^2\s+10\s+pass\s+any\s+2001:db8::\/32\s+any\s+any\s+any\s+any\s+-\s+-\s+v6 ok$/);
    expect(table[3]).toMatch(/^7\s+10\s+inspect\s+any\s+any\s+1024-65535\s+any\s+any\s+42\s+basic_inspect,dns_guard\s+-$/);
    expect(table[5]).toMatch(/^default policy: pass/);

    const json = listJson(dir);
    expect(json.default_policy).toBe('pass');
    expect(json.attached).toBe(false);
    expect(json.rules.map((r) => r.id)).toEqual([8, 2, 7, 1]);
    expect(json.rules[2]).toEqual({
      id: 7, priority: 10, src: null, dst: null, src_port: '1024-65535', dst_port: null, proto: 'any', action: 'inspect',
      modules: ['basic_inspect', 'dns_guard'], vlan: 42, comment: '', hits: null, shadowed_by: null,
    });
    expect(json.rules.every((r) => r.hits === null)).toBe(true);
  });

  it('ids are generated as max + 1, also after a gap', () => {
    const dir = freshDir();
    ok(['rule', 'add', '--action', 'drop', '--id', '41', '--state-dir', dir]);
    expect(ok(['rule', 'add', '--action', 'pass', '--state-dir', dir])).toMatch(/added rule 42 /);
    const json = JSON.parse(ok(['rule', 'add', '--action', 'pass', '--json', '--state-dir', dir])) as { rule: { id: number }; applied_to: string[] };
    expect(json.rule.id).toBe(43);
    expect(json.applied_to).toEqual([]);
  });

  it('delete removes one rule, clear removes all and keeps the file', () => {
    const dir = freshDir();
    for (const port of ['22', '80', '443']) ok(['rule', 'add', '--action', 'drop', '--proto', 'tcp', '--port', port, '--state-dir', dir]);
    expect(ok(['rule', 'delete', '--id', '2', '--state-dir', dir])).toMatch(/^deleted rule 2: drop tcp any -> any port 80$/m);
    expect(listJson(dir).rules.map((r) => [r.id, r.dst_port])).toEqual([[1, 22], [3, 443]]);
    expect(ok(['rule', 'clear', '--state-dir', dir])).toMatch(/^removed 2 rules$/m);
    expect(listJson(dir).rules).toEqual([]);
    expect(ok(['rule', 'list', '--state-dir', dir])).toMatch(/^no rules \(default policy: pass\)$/m);
    // Scripts get the same as JSON from every command that changes rules.
    ok(['rule', 'add', '--action', 'drop', '--port', '23', '--state-dir', dir]);
    const where = { applied_to: [], flows_blocked: 0, flows_restored: 0, state_dir: dir, daemon: { running: false, error: null } };
    expect(JSON.parse(ok(['rule', 'delete', '--id', '1', '--json', '--state-dir', dir]))).toEqual({ deleted: expect.objectContaining({ id: 1, action: 'drop', dst_port: 23 }), ...where });
    expect(JSON.parse(ok(['rule', 'default', 'drop', '--json', '--state-dir', dir]))).toEqual({ previous: 'pass', default_policy: 'drop', ...where });
    expect(JSON.parse(ok(['rule', 'clear', '--json', '--state-dir', dir]))).toEqual({ removed: 0, ...where });
    expect(existsSync(join(dir, 'rules.json'))).toBe(true);
    expect(existsSync(join(dir, 'lock'))).toBe(false);
  });

  it('SECUXFLOW_STATE_DIR is used when --state-dir is absent, and --state-dir wins over it', () => {
    const envDir = freshDir();
    const flagDir = freshDir();
    ok(['rule', 'add', '--action', 'drop', '--comment', 'via env'], { SECUXFLOW_STATE_DIR: envDir });
    ok(['rule', 'add', '--action', 'pass', '--comment', 'via flag', '--state-dir', flagDir], { SECUXFLOW_STATE_DIR: envDir });
    expect(listJson(envDir).rules.map((r) => r.comment)).toEqual(['via env']);
    expect(listJson(flagDir).rules.map((r) => r.comment)).toEqual(['via flag']);
  });

  it('IPv6 rules, case-insensitive words and host bits are normalised on the way in', () => {
    const dir = freshDir();
    ok(['rule', 'add', '--src', '2001:DB8:0:0::7/64', '--dst', '2001:db8:1::1', '--proto', 'UDP', '--action', 'Drop', '--port', '0-1023', '--state-dir', dir]);
    const [r] = listJson(dir).rules;
    expect(r).toMatchObject({ src: '2001:db8::/64', dst: '2001:db8:1::1/128', proto: 'udp', action: 'drop', dst_port: '0-1023' });
  });

  it('rule --help lists the subcommands', () => {
    const out = ok(['rule', 'add', '--help']);
    for (const flag of ['--src', '--dst', '--port', '--sport', '--proto', '--action', '--module', '--vlan', '--priority', '--id', '--comment', '--state-dir', '--json']) {
      expect(out).toContain(flag);
    }
  });
});
