// A refused command changes nothing, also on disk: rule delete, rule import and
// module unload made the state directory (and its missing parents) to hold
// their lock, and left it behind empty when they were refused.
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, requireBuilt, tempDir } from './support.js';

describe('a refused command leaves no state directory behind', () => {
  beforeAll(() => requireBuilt());

  const badRules = join(tempDir('refused-rules'), 'rules.json');
  writeFileSync(badRules, '{"rules":[{"id":1,"action":"bogus"}]}');
  const refused: [string, string[], RegExp][] = [
    ['rule delete of an id that is not there', ['rule', 'delete', '--id', '3'], /E_RULE_NOT_FOUND/],
    ['rule import of an invalid file', ['rule', 'import', badRules], /E_RULE_INVALID/],
    ['module unload of a module that is not registered', ['module', 'unload', 'nosuch'], /E_MODULE_NOT_FOUND/],
  ];
  for (const [what, args, code] of refused) {
    it(what, () => {
      const base = tempDir('refused-state');
      const r = cli([...args, '--state-dir', join(base, 'parent', 'state')]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(code);
      expect(readdirSync(base)).toEqual([]);
    });
  }

  it('a command that goes through still makes the directory', () => {
    const dir = join(tempDir('refused-state'), 'parent', 'state');
    expect(cli(['rule', 'add', '--action', 'drop', '--port', '80', '--proto', 'tcp', '--state-dir', dir]).status).toBe(0);
    expect(existsSync(join(dir, 'rules.json'))).toBe(true);
  });
});
