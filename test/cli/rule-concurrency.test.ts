// Several CLIs changing rules at the same moment: every change lands, ids stay
// unique. And a CLI killed with SIGKILL mid-change never leaves a torn file or
// a lock that blocks the next command.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateRuleSet } from '../../host/rules/parse.js';
import { StateStore } from '../../host/state/store.js';
import { buildCli, CLI, runCli, runCliAsync, runNode, waitExit } from '../host/state/helpers.js';

const base = mkdtempSync(join(tmpdir(), 'sf-rule-conc-'));
beforeAll(() => buildCli(), 180_000);
afterAll(() => rmSync(base, { recursive: true, force: true }));

interface ListedRule { id: number; comment: string }

function listed(dir: string): ListedRule[] {
  const r = runCli(['rule', 'list', '--json', '--state-dir', dir]);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { rules: ListedRule[] }).rules;
}

describe('concurrent rule add', () => {
  it('two CLIs each adding 20 rules at the same time: all 40 land with unique ids', async () => {
    const dir = join(base, 'two-writers');
    const writer = async (name: string): Promise<void> => {
      for (let i = 0; i < 20; i++) {
        const r = await runCliAsync(['rule', 'add', '--action', 'drop', '--comment', `${name}-${i}`, '--state-dir', dir]);
        if (r.code !== 0) throw new Error(`${name}-${i}: ${r.stderr}`);
      }
    };
    await Promise.all([writer('a'), writer('b')]);
    const rules = listed(dir);
    expect(rules).toHaveLength(40);
    expect(new Set(rules.map((r) => r.id)).size).toBe(40);
    expect(rules.map((r) => r.id).sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    const comments = rules.map((r) => r.comment).sort();
    const expected = ['a', 'b'].flatMap((w) => Array.from({ length: 20 }, (_, i) => `${w}-${i}`)).sort();
    expect(comments).toEqual(expected);
    expect(readdirSync(dir)).toEqual(['rules.json']);
  }, 120_000);

  it('12 CLIs started at once, each adding one rule: all 12 land', async () => {
    const dir = join(base, 'burst');
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) =>
      runCliAsync(['rule', 'add', '--action', 'pass', '--port', String(1000 + i), '--state-dir', dir])));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const rules = listed(dir);
    expect(rules.map((r) => r.id).sort((x, y) => x - y)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
  }, 60_000);
});

describe('kill -9 the CLI mid-change', () => {
  it('20 rounds: the state stays a complete version and the next command works', async () => {
    const dir = join(base, 'killed');
    const store = new StateStore(dir);
    // A large rule set makes each write long enough for the kill to land inside it.
    const seed = validateRuleSet(Array.from({ length: 400 }, (_, i) => ({ action: 'drop', dst_port: i, comment: `seed ${i} ${'x'.repeat(150)}` })), 'seed');
    store.writeRules(seed);
    let count = 400;
    const deadline = Date.now() + 60_000;
    for (let round = 0; round < 20 && Date.now() < deadline; round++) {
      const child = runNode(CLI, ['rule', 'add', '--action', 'pass', '--comment', `round ${round}`, '--state-dir', dir]);
      const exited = waitExit(child, 30_000);
      await sleep(40 + Math.random() * 160);
      child.kill('SIGKILL');
      await exited;
      const now = store.readRules().rules;
      expect(now.length === count || now.length === count + 1).toBe(true);
      expect(new Set(now.map((r) => r.id)).size).toBe(now.length);
      count = now.length;
    }
    expect(count).toBeGreaterThanOrEqual(400);
    // Whatever the kills left behind (a lock of a dead pid, temp files), the next command gets through and tidies up.
    const r = runCli(['rule', 'add', '--action', 'drop', '--comment', 'after', '--state-dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    const finalRules = listed(dir);
    expect(finalRules).toHaveLength(count + 1);
    expect(finalRules.some((x) => x.comment === 'after')).toBe(true);
    expect(existsSync(join(dir, 'lock'))).toBe(false);
    expect(readdirSync(dir)).toEqual(['rules.json']);
  }, 120_000);
});
