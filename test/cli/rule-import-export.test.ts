// `rule import` and `rule export` as a user runs them through the built CLI:
// a rule file applied as one change (replace or merge, dry run, no-op), the
// stored set written back out in a form that reads back identically, and bad
// files refused with the stored rules left byte for byte as they were.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, runCli } from '../host/state/helpers.js';

const base = mkdtempSync(join(tmpdir(), 'sf-rule-file-'));
let n = 0;
const fresh = (): string => join(base, `s${++n}`);
beforeAll(() => buildCli(), 180_000);
afterAll(() => rmSync(base, { recursive: true, force: true }));

function run(args: string[], dir: string): ReturnType<typeof runCli> {
  return runCli([...args, '--state-dir', dir]);
}

function ok(args: string[], dir: string): string {
  const r = run(args, dir);
  if (r.code !== 0) throw new Error(`secuxflow ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

function file(name: string, lines: string[]): string {
  const p = join(base, `${++n}-${name}`);
  writeFileSync(p, `${lines.join('\n')}\n`);
  return p;
}

interface ListedJson {
  default_policy: string;
  rules: Array<{ id: number; action: string; dst_port: unknown; modules: string[]; comment: string }>;
}

const list = (dir: string): ListedJson => JSON.parse(ok(['rule', 'list', '--json'], dir)) as ListedJson;
const stored = (dir: string): string => readFileSync(join(dir, 'rules.json'), 'utf8');

const RULES_YAML = [
  'default_policy: drop',
  'rules:',
  '  - { id: 10, priority: 5, dst: 10.0.0.5, dst_port: 80, proto: tcp, action: pass, comment: web }',
  '  - { dst_port: 53, proto: udp, action: inspect, modules: [dns_guard] }',
  '  - { src: 2001:db8::/32, action: drop }',
];

describe('secuxflow rule import', () => {
  it('replaces the stored rules with the file, keeps its ids, assigns the missing ones, and reports the change', () => {
    const dir = fresh();
    ok(['rule', 'add', '--action', 'drop', '--port', '22', '--proto', 'tcp'], dir);
    const out = ok(['rule', 'import', file('rules.yaml', RULES_YAML)], dir);
    expect(out).toMatch(/^imported .*rules\.yaml \(replace\): 3 rules, 3 added, 0 changed, 1 removed, 0 unchanged; default policy pass -> drop$/m);
    expect(out).toMatch(/^ {2}added: 10, 11, 12$/m);
    expect(out).toMatch(/^ {2}removed: 1$/m);
    expect(out).toMatch(/not attached/);
    const l = list(dir);
    expect(l.default_policy).toBe('drop');
    expect(l.rules.map((r) => [r.id, r.action])).toEqual([[10, 'pass'], [11, 'inspect'], [12, 'drop']]);
    expect(l.rules[1]!.modules).toEqual(['dns_guard']);
  });

  it('keeps the stored default policy when the file names none', () => {
    const dir = fresh();
    ok(['rule', 'default', 'drop'], dir);
    const out = ok(['rule', 'import', file('bare.json', ['[{ "dst_port": 443, "proto": "tcp", "action": "pass" }]'])], dir);
    expect(out).toMatch(/default policy drop \(kept: the file names none\)/);
    expect(list(dir).default_policy).toBe('drop');
  });

  it('--merge adds the file to the stored rules with new ids above every stored one', () => {
    const dir = fresh();
    ok(['rule', 'add', '--action', 'drop', '--port', '22', '--proto', 'tcp', '--id', '40'], dir);
    const out = ok(['rule', 'import', '--merge', file('more.yaml', ['rules:', '  - { dst_port: 23, proto: tcp, action: drop }', '  - { dst_port: 25, proto: tcp, action: drop }'])], dir);
    expect(out).toMatch(/\(merge\): 3 rules, 2 added, 0 changed, 0 removed, 1 unchanged/);
    expect(list(dir).rules.map((r) => r.id).sort((a, b) => a - b)).toEqual([40, 41, 42]);
  });

  it('--merge refuses ids that are already stored, and changes nothing', () => {
    const dir = fresh();
    ok(['rule', 'add', '--action', 'drop', '--port', '22', '--proto', 'tcp', '--id', '10'], dir);
    const before = stored(dir);
    const r = run(['rule', 'import', '--merge', file('clash.yaml', RULES_YAML)], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error\[E_RULE_DUPLICATE\]: .*clash\.yaml: --merge would give two rules the same id: 10 already stored/);
    expect(r.stderr).toMatch(/hint: leave "id" out/);
    expect(stored(dir)).toBe(before);
  });

  it('--dry-run reports the change and neither applies nor stores it', () => {
    const dir = fresh();
    ok(['rule', 'add', '--action', 'drop', '--port', '22', '--proto', 'tcp'], dir);
    const before = stored(dir);
    const out = ok(['rule', 'import', '--dry-run', file('rules.yaml', RULES_YAML)], dir);
    expect(out).toMatch(/^would import .*: 3 rules, 3 added, 0 changed, 1 removed/m);
    expect(out).toMatch(/dry run: nothing was applied or stored/);
    expect(stored(dir)).toBe(before);

    const empty = fresh();
    ok(['rule', 'import', '--dry-run', file('rules.yaml', RULES_YAML)], empty);
    expect(existsSync(join(empty, 'rules.json'))).toBe(false);
  });

  it('names the rules of the file that can never match, dry run or not', () => {
    const dir = fresh();
    const f = file('shadow.yaml', ['rules:', '  - { id: 1, dst: 10.0.0.0/8, action: pass }', '  - { id: 2, dst: 10.1.0.0/16, dst_port: 22, proto: tcp, action: drop }']);
    expect(ok(['rule', 'import', '--dry-run', f], dir)).toContain('warning: rule 2 never matches: rule 1 comes first and matches every packet it does');
    const out = ok(['rule', 'import', f], dir);
    expect(out).toContain('warning: rule 2 never matches: rule 1 comes first');
  });

  it('a file that matches the stored rules is a no-op, and --json says so', () => {
    const dir = fresh();
    const f = file('rules.yaml', RULES_YAML);
    ok(['rule', 'import', f], dir);
    const before = stored(dir);
    const out = ok(['rule', 'import', f], dir);
    expect(out).toMatch(/0 added, 0 changed, 0 removed, 3 unchanged/);
    expect(out).toMatch(/nothing to change/);
    expect(stored(dir)).toBe(before);
    const j = JSON.parse(ok(['rule', 'import', f, '--json'], dir)) as Record<string, unknown>;
    expect(j).toMatchObject({ mode: 'replace', dry_run: false, rules: 3, added: [], changed: [], removed: [], unchanged: 3, up_to_date: true, default_policy: 'drop' });
  });

  it('reports a changed rule by id', () => {
    const dir = fresh();
    ok(['rule', 'import', file('rules.yaml', RULES_YAML)], dir);
    const edited = RULES_YAML.map((l) => l.replace('comment: web', 'comment: web v2'));
    const out = ok(['rule', 'import', file('edited.yaml', edited)], dir);
    expect(out).toMatch(/0 added, 1 changed, 0 removed, 2 unchanged/);
    expect(out).toMatch(/^ {2}changed: 10$/m);
    expect(list(dir).rules[0]!.comment).toBe('web v2');
  });

  const bad: [string, string[], RegExp][] = [
    ['an invalid field, named with its line', ['rules:', '  - { dst_port: 80, proto: tcp, action: pass }', '  - { dst_port: 99999, proto: tcp, action: drop }'], /E_RULE_INVALID.*bad\.yaml:3: rule #2: field "dst_port": 99999/],
    ['an unknown field, with a suggestion', ['rules:', '  - { dst_prot: 80, action: drop }'], /E_RULE_INVALID.*"dst_prot".*did you mean "dst_port"/],
    ['broken YAML, with its line', ['rules:', '  - { dst_port: 80, action: drop', '  - x'], /E_RULEFILE.*invalid YAML/],
    ['duplicate ids inside the file', ['rules:', '  - { id: 3, action: drop }', '  - { id: 3, action: pass }'], /E_RULE_DUPLICATE.*both have id 3/],
    ['an unknown module', ['rules:', '  - { action: inspect, modules: [no_such_module] }'], /E_MODULE_NOT_FOUND.*"no_such_module"/],
    ['a YAML tag it cannot resolve', ['rules:', '  - { action: drop, comment: !!js/function "x" }'], /E_RULEFILE.*bad\.yaml:2:\d+: invalid YAML: Unresolved tag: tag:yaml\.org,2002:js\/function$/],
    ['an alias bomb', ['a: &a [1,2]', 'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]', 'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]', 'rules: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]'], /E_RULEFILE.*Excessive alias count/],
    ['an id too large for a number', ['rules: [{ id: 1e400, action: drop }]'], /E_RULEFILE.*field "id" is written 1e400/],
  ];
  it.each(bad)('refuses %s and leaves the stored rules as they were', (_what, lines, message) => {
    const dir = fresh();
    ok(['rule', 'add', '--action', 'drop', '--port', '22', '--proto', 'tcp'], dir);
    const before = stored(dir);
    const r = run(['rule', 'import', file('bad.yaml', lines)], dir);
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')[0]).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe('');
    expect(stored(dir)).toBe(before);
  });

  it('names a missing file and a directory given as the file', () => {
    const dir = fresh();
    const missing = run(['rule', 'import', join(base, 'nope.yaml')], dir);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/E_RULEFILE.*nope\.yaml: no such file/);
    const d = join(base, `dir${++n}`);
    mkdirSync(d);
    const isDir = run(['rule', 'import', d], dir);
    expect(isDir.code).toBe(1);
    expect(isDir.stderr).toMatch(/E_RULEFILE.*EISDIR[\s\S]*not a directory/);
  });
});

describe('secuxflow rule export', () => {
  it('writes a file that import and inspect --rules read back to the same rules, in JSON and YAML', () => {
    const dir = fresh();
    ok(['rule', 'add', '--src', '192.168.1.0/24', '--dst', '10.0.0.5', '--port', '80', '--proto', 'tcp', '--action', 'drop', '--comment', 'the README example'], dir);
    ok(['rule', 'add', '--action', 'inspect', '--module', 'basic_inspect', '--sport', '1024-65535', '--vlan', '42', '--priority', '10'], dir);
    ok(['rule', 'add', '--action', 'pass', '--src', '2001:db8::/32', '--proto', 'udp', '--priority', '0'], dir);
    ok(['rule', 'default', 'drop'], dir);
    const json = ok(['rule', 'export'], dir);
    const doc = JSON.parse(json) as { default_policy: string; rules: Array<{ id: number }> };
    expect(doc.default_policy).toBe('drop');
    expect(doc.rules.map((r) => r.id)).toEqual([3, 2, 1]); // evaluation order

    for (const ext of ['json', 'yaml']) {
      const out = join(base, `${++n}-export.${ext}`);
      expect(ok(['rule', 'export', '--output', out], dir)).toMatch(new RegExp(`exported 3 rules to .*export\\.${ext}`));
      const text = readFileSync(out, 'utf8');
      if (ext === 'yaml') expect(text).toMatch(/^default_policy: drop\nrules:\n {2}- id: 3\n/);
      const copy = fresh();
      ok(['rule', 'import', out], copy);
      expect(list(copy)).toEqual(list(dir));
      expect(ok(['rule', 'export'], copy)).toBe(json);
      // The engine reads the same file: the README example's rule decides this packet.
      const verdict = JSON.parse(runCli(['inspect', '--src', '192.168.1.7', '--ip', '10.0.0.5', '--port', '80', '--proto', 'tcp', '--rules', out, '--json']).stdout) as { rule: { id: number } | null; dropped: boolean };
      expect(verdict.rule?.id).toBe(1);
      expect(verdict.dropped).toBe(true);
    }
  });

  it('refuses an unknown --format and an unwritable --output', () => {
    const dir = fresh();
    const f = run(['rule', 'export', '--format', 'xml'], dir);
    expect(f.code).toBe(2); // usage errors exit 2
    expect(f.stderr).toMatch(/E_USAGE.*--format: "xml"/);
    const o = run(['rule', 'export', '--output', join(base, 'no-such-dir', 'r.json')], dir);
    expect(o.code).toBe(1);
    expect(o.stderr).toMatch(/E_IO.*--output: cannot write .*r\.json: ENOENT/);
    const e = run(['rule', 'export', '--output', ''], dir);
    expect(e.code).toBe(2);
    expect(e.stderr).toMatch(/error\[E_USAGE\]: --output needs a file name\n {2}hint: leave it out to write the rules to stdout/);
  });

  // A backup made from inside the state directory: the export format has no
  // "version", so written over rules.json it left a store no command could read.
  it("refuses --output onto the state directory's own rules.json, which stays as it was", () => {
    const dir = fresh();
    ok(['rule', 'add', '--action', 'drop', '--port', '23'], dir);
    const before = stored(dir);
    for (const target of [join(dir, 'rules.json'), join(dir, '.', 'rules.json'), join(dir, 'modules.json')]) {
      const r = run(['rule', 'export', '--output', target], dir);
      expect(r.code, target).toBe(2);
      expect(r.stderr).toMatch(/error\[E_USAGE\]: --output .* is (rules|modules)\.json of the state directory .*: writing it would destroy it\n {2}hint: give --output a file of its own/);
      expect(existsSync(join(dir, 'modules.json'))).toBe(false);
    }
    expect(stored(dir)).toBe(before);
    expect(list(dir).rules.map((r) => r.dst_port)).toEqual([23]);
  });
});

describe('a rule file without "rules"', () => {
  it('is refused for a replace, which would have removed every stored rule; --merge and "rules": [] stay as they were', () => {
    const dir = fresh();
    ok(['rule', 'add', '--action', 'drop', '--port', '23'], dir);
    ok(['rule', 'add', '--action', 'drop', '--port', '25'], dir);
    const before = stored(dir);
    const policyOnly = file('policy-only.yaml', ['default_policy: drop']);
    const r = run(['rule', 'import', policyOnly], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error[E_RULEFILE]: ${policyOnly} has no "rules" field: importing it would remove all 2 stored rules\n  hint: to set only the default policy, use secuxflow rule default`);
    expect(stored(dir)).toBe(before);
    // Merging it adds nothing and takes its policy; an explicit empty list still replaces.
    ok(['rule', 'import', policyOnly, '--merge'], dir);
    expect(list(dir)).toMatchObject({ default_policy: 'drop', rules: [{ dst_port: 23 }, { dst_port: 25 }] });
    ok(['rule', 'import', file('empty.json', ['{"rules": []}'])], dir);
    expect(list(dir).rules).toEqual([]);
  });
});

describe("a copy of a state directory's rules.json", () => {
  it('imports as a rule file: a backup restores with rule import', () => {
    const dir = fresh();
    ok(['rule', 'add', '--action', 'drop', '--port', '23', '--comment', 'telnet'], dir);
    ok(['rule', 'default', 'drop'], dir);
    const backup = file('backup.json', [stored(dir).trimEnd()]);
    expect(JSON.parse(readFileSync(backup, 'utf8')).version).toBe(1);
    const restored = fresh();
    ok(['rule', 'import', backup], restored);
    expect(list(restored)).toEqual(list(dir));
  });

  it('a "version" other than the state file\'s is refused, naming the field, and nothing changes', () => {
    const dir = fresh();
    ok(['rule', 'add', '--action', 'drop', '--port', '23'], dir);
    const before = stored(dir);
    for (const [version, hint] of [['2', 'a newer secuxflow wrote it'], ['"1"', 'remove the field']] as const) {
      const f = file('versioned.json', [`{"version": ${version}, "rules": [{"action": "drop", "dst_port": 80}]}`]);
      const r = run(['rule', 'import', f], dir);
      expect(r.code, version).toBe(1);
      expect(r.stderr).toContain(`error[E_RULEFILE]: ${f}: field "version" is ${version}: a rule file has none, and a copy of a state directory's rules.json has 1\n  hint: ${hint}`);
    }
    expect(stored(dir)).toBe(before);
  });
});

describe('a rule file with a negative number', () => {
  it.each([
    ['priority', '-1', /field "priority": -1 is not a priority \(use an integer 0-65535\)/],
    ['dst_port', '-80', /field "dst_port": -80 is not a port or range \(use 0-65535 or LO-HI\)/],
    ['id', '-3', /field "id": -3 is not a rule id \(use an integer 1-2147483647\)/],
  ])('%s %s: told the range the field takes', (field, value, message) => {
    const dir = fresh();
    const f = file('negative.json', [`{"rules": [{"action": "drop", "${field}": ${value}}]}`]);
    const r = run(['rule', 'import', f], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/decimal digits only|hint: write -/);
    expect(existsSync(join(dir, 'rules.json'))).toBe(false);
  });
});
