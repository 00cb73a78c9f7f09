import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SecuxflowError } from '../../../host/errors.js';
import { loadRuleFile } from '../../../host/rules/parse.js';

const dir = mkdtempSync(join(tmpdir(), 'sf-rulefile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function loadError(path: string): SecuxflowError {
  try {
    loadRuleFile(path);
  } catch (e) {
    if (e instanceof SecuxflowError) return e;
    throw e;
  }
  throw new Error('expected an error');
}

const YAML_DOC = `# the docs/rules.md example
default_policy: pass
rules:
  - id: 10
    priority: 100
    src: 192.168.1.0/24
    dst: 10.0.0.5
    dst_port: 80
    proto: tcp
    action: drop
    comment: block the old web server
  - src: 2001:db8::/32
    dst_port: 1024-65535
    proto: udp
    action: inspect
    modules: [basic_inspect]
`;

describe('loadRuleFile', () => {
  it('reads the documented YAML example', () => {
    for (const name of ['a.yaml', 'a.yml', 'a.rules']) {
      const set = loadRuleFile(file(name, YAML_DOC));
      expect(set.defaultPolicy).toBe('pass');
      expect(set.rules).toHaveLength(2);
      expect(set.rules[0]).toMatchObject({ id: 10, priority: 100, proto: 'tcp', action: 'drop', dstPort: { lo: 80, hi: 80 } });
      expect(set.rules[0]!.dst!.text).toBe('10.0.0.5/32');
      expect(set.rules[1]).toMatchObject({ id: 11, modules: ['basic_inspect'], dstPort: { lo: 1024, hi: 65535 } });
      expect(set.rules[1]!.src!.text).toBe('2001:db8::/32');
    }
  });

  it('reads JSON by extension and by sniffing', () => {
    const json = JSON.stringify({ default_policy: 'drop', rules: [{ action: 'pass', proto: 'icmp' }] });
    for (const name of ['b.json', 'b.txt']) {
      const set = loadRuleFile(file(name, `\n  ${json}`));
      expect(set.defaultPolicy).toBe('drop');
      expect(set.rules[0]).toMatchObject({ id: 1, proto: 'icmp', action: 'pass' });
    }
    expect(loadRuleFile(file('c.json', '[{"action":"drop","vlan":5}]')).rules[0]!.vlan).toBe(5);
  });

  it('a JSON syntax error names the line', () => {
    const e = loadError(file('bad.json', '{\n  "rules": [\n    { "action": "drop", }\n  ]\n}\n'));
    expect(e.code).toBe('E_RULEFILE');
    expect(e.message).toMatch(/bad\.json:3:\d+: invalid JSON/);
  });

  it('a YAML syntax error names the line', () => {
    const e = loadError(file('bad.yaml', 'rules:\n  - action: drop\n    src: [10.0.0.1\n  - action: pass\n'));
    expect(e.code).toBe('E_RULEFILE');
    expect(e.message).toMatch(/bad\.yaml:\d+:\d+: invalid YAML/);
  });

  it('a duplicate key in YAML is an error, not a silent last-one-wins', () => {
    const e = loadError(file('dupkey.yaml', 'rules:\n  - action: drop\n    action: pass\n'));
    expect(e.code).toBe('E_RULEFILE');
    expect(e.message).toMatch(/dupkey\.yaml:3:\d+/);
  });

  it('a file of several YAML documents is refused at the second one, not cut to the first', () => {
    // With a leading "---" the YAML parser reported nothing and kept the first
    // document only: the rules after the second "---" vanished without a word.
    const e = loadError(file('multi.yaml', '---\n- {action: drop, dst_port: 22, proto: tcp}\n---\n- {action: drop, dst_port: 23, proto: tcp}\n'));
    expect(e.code).toBe('E_RULEFILE');
    expect(e.message).toMatch(/multi\.yaml:3:1: invalid YAML: another document starts here/);
    expect(e.hint).toMatch(/one list/);
    // Without the leading "---" too, with the same message.
    expect(loadError(file('multi2.yaml', 'rules:\n  - action: drop\n---\nrules:\n  - action: pass\n')).message).toMatch(/multi2\.yaml:3:1: invalid YAML: another document/);
    // A document marker with nothing after it loses nothing.
    expect(loadRuleFile(file('trailing.yaml', '---\n- {action: drop}\n---\n')).rules).toHaveLength(1);
    expect(loadRuleFile(file('ended.yaml', '---\n- {action: drop}\n...\n')).rules).toHaveLength(1);
  });

  it('a schema error names the file, the rule and the field', () => {
    const e = loadError(file('schema.yaml', 'rules:\n  - action: drop\n  - id: 12\n    action: drop\n    dst_port: 70000\n'));
    expect(e.code).toBe('E_RULE_INVALID');
    expect(e.message).toBe(`${join(dir, 'schema.yaml')}:3: rule #2 (id 12): field "dst_port": 70000 is not a port or range (use 0-65535 or LO-HI)`);
  });

  it('a schema error in JSON names the line of the rule too', () => {
    const e = loadError(file('schema.json', '{\n  "rules": [\n    {"action": "drop"},\n\n    {"id": 4, "action": "drop", "src": "10.0.0.0/40"}\n  ]\n}\n'));
    expect(e.code).toBe('E_RULE_INVALID');
    expect(e.message).toMatch(/schema\.json:5: rule #2 \(id 4\): field "src": "10\.0\.0\.0\/40" is not a CIDR/);
  });

  it('duplicate ids in a file', () => {
    const e = loadError(file('dup.yaml', '- {id: 1, action: drop}\n- {id: 1, action: pass}\n'));
    expect(e.code).toBe('E_RULE_DUPLICATE');
    expect(e.message).toMatch(/dup\.yaml: rule #2 \(line 2\) and rule #1 \(line 1\) both have id 1/);
  });

  it('an empty file and a missing file', () => {
    expect(loadError(file('empty.yaml', '')).message).toMatch(/empty document/);
    const e = loadError(join(dir, 'nope.yaml'));
    expect(e.code).toBe('E_RULEFILE');
    expect(e.message).toMatch(/nope\.yaml: no such file/);
  });
});
