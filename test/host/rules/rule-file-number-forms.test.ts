// Integer fields written other than as decimal digits: the parsers turn them
// into plain numbers, and YAML 1.1 tools read some of them differently.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SecuxflowError } from '../../../host/errors.js';
import { loadRuleFile } from '../../../host/rules/parse.js';
import { tempDir } from '../../support/temp-dir.js';

const dir = tempDir('rule-number-forms');

function loadError(name: string, text: string): SecuxflowError {
  const p = join(dir, name);
  writeFileSync(p, text);
  try {
    loadRuleFile(p);
  } catch (e) {
    if (e instanceof SecuxflowError) return e;
    throw e;
  }
  throw new Error(`expected ${name} to be refused`);
}

describe('rule file integer fields written as other than decimal digits', () => {
  const yamlCases: [string, string, string][] = [
    ['dst_port', '0x50', 'write 80'],
    ['dst_port', '0o120', 'write 80'],
    ['dst_port', '1e2', 'write 100'],
    ['dst_port', '80.0', 'write 80'],
    ['dst_port', '+80', 'write 80'],
    ['src_port', '0120', 'write 120 (YAML 1.1 tools read 0120 as octal 80)'],
    ['id', '0x10', 'write 16'],
    ['priority', '1e3', 'write 1000'],
    ['vlan', '010', 'write 10 (YAML 1.1 tools read 010 as octal 8)'],
  ];
  for (const [field, written, fix] of yamlCases) {
    it(`YAML ${field}: ${written} is E_RULEFILE naming the field, the value as written and the fix`, () => {
      const e = loadError(`${field}-${written}.yaml`, `rules:\n  - action: drop\n    ${field}: ${written}\n`);
      expect(e.code).toBe('E_RULEFILE');
      expect(e.message).toContain(`field "${field}" is written ${written}`);
      expect(e.message).toMatch(/:3:\d+: rule #1/);
      expect(e.hint).toBe(fix);
    });
  }

  for (const written of ['80.0', '1e2', '8E1']) {
    it(`JSON dst_port: ${written} is refused too`, () => {
      const e = loadError(`port-${written}.json`, `{"rules": [{"action": "drop", "dst_port": ${written}}]}\n`);
      expect(e.code).toBe('E_RULEFILE');
      expect(e.message).toContain(`field "dst_port" is written ${written}`);
      expect(e.hint).toBe(written === '80.0' ? 'write 80' : written === '1e2' ? 'write 100' : 'write 80');
    });
  }

  it('a bare list of rules is checked as well', () => {
    const e = loadError('bare.yaml', '- action: drop\n  dst_port: 0x1bb\n');
    expect(e.message).toContain('field "dst_port" is written 0x1bb');
    expect(e.hint).toBe('write 443');
  });

  it('decimal digits, quoted digits, 0 and ranges still load', () => {
    const p = join(dir, 'ok.yaml');
    writeFileSync(p, 'rules:\n  - id: 7\n    priority: 0\n    dst_port: 80\n    src_port: "1024-65535"\n    vlan: 0\n    action: drop\n  - dst_port: "0120"\n    action: pass\n');
    const set = loadRuleFile(p);
    expect(set.rules[0]).toMatchObject({ id: 7, priority: 0, dstPort: { lo: 80, hi: 80 }, vlan: 0 });
    expect(set.rules[1]!.dstPort).toEqual({ lo: 120, hi: 120 });
    const j = join(dir, 'ok.json');
    writeFileSync(j, '{"rules": [{"id": 3, "dst_port": 443, "action": "drop"}]}');
    expect(loadRuleFile(j).rules[0]).toMatchObject({ id: 3, dstPort: { lo: 443, hi: 443 } });
  });
});
