// rule add and rule list name rules that can never match: an earlier rule
// matches every packet they would (a drop added below a broader pass).
import { describe, expect, it } from 'vitest';
import { cli, tempDir } from './support.js';

describe('rules that never match', () => {
  it('rule add warns about the new rule, and about the rules it now hides; rule list and --json say which', () => {
    const env = { SECUXFLOW_STATE_DIR: tempDir('shadow') };
    const add = (...args: string[]) => cli(['rule', 'add', ...args], env);
    expect(add('--action', 'pass', '--dst', '10.0.0.0/8').status).toBe(0);
    const hidden = add('--action', 'drop', '--dst', '10.1.0.0/16', '--proto', 'tcp', '--port', '22');
    expect(hidden.status).toBe(0);
    expect(hidden.stdout).toContain('warning: rule 2 never matches: rule 1 (priority 1000: pass any any -> 10.0.0.0/8) comes first and matches every packet it does; to have it decide first, give it a --priority below 1000');
    const fine = add('--action', 'drop', '--dst', '10.1.0.0/16', '--proto', 'tcp', '--port', '23', '--priority', '100');
    expect(fine.stdout).not.toContain('warning');
    const json = JSON.parse(add('--action', 'drop', '--proto', 'tcp', '--priority', '50', '--json').stdout);
    expect(json.shadowed_by).toBeNull();
    expect(json.hides).toEqual([3]);
    const list = cli(['rule', 'list'], env);
    expect(list.stdout).toContain('warning: rule 3 never matches: rule 4 comes first and matches every packet it does');
    // Rule 4 comes before rule 1 and covers rule 2 too: the first one that hides it is named.
    expect(list.stdout).toContain('warning: rule 2 never matches: rule 4 comes first');
    const rows = JSON.parse(cli(['rule', 'list', '--json'], env).stdout).rules as { id: number; shadowed_by: number | null }[];
    expect(Object.fromEntries(rows.map((r) => [r.id, r.shadowed_by]))).toEqual({ 1: null, 2: 4, 3: 4, 4: null });
  });

  it('behind a rule at priority 0, the fix is to move that rule, as no priority is below 0', () => {
    const env = { SECUXFLOW_STATE_DIR: tempDir('shadow-zero') };
    expect(cli(['rule', 'add', '--action', 'drop', '--priority', '0'], env).status).toBe(0);
    const r = cli(['rule', 'add', '--action', 'pass', '--port', '80'], env);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('warning: rule 2 never matches: rule 1 (priority 0: drop any any -> any) comes first and matches every packet it does; to have it decide first, rule 1 has the lowest priority, 0: give rule 1 a higher one');
    expect(r.stdout).not.toMatch(/below 0/);
  });
});
