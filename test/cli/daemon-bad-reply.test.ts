// The built CLI against a fake daemon that answers with broken replies: a
// clear E_DAEMON error (or, for rule add, its documented warning), no stack
// trace, no state lock left behind, and module load takes its registration back.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, runCliAsync, type CliResult } from '../host/state/helpers.js';
import { BAD_REPLIES, fakeDaemon, validStatus } from '../host/control/fake-daemon.js';
import { readRegistry } from '../../host/modules/registry.js';
import { StateStore } from '../../host/state/store.js';
import { ROOT } from './support.js';

const PORT_VERDICT = join(ROOT, 'test', 'fixtures', 'engine', 'port_verdict.wat');
const base = mkdtempSync(join(tmpdir(), 'sf-bad-reply-'));
let n = 0;

beforeAll(async () => { await buildCli(); }, 180_000);
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** Runs the CLI in a fresh state dir whose control socket answers every request with line(id). */
async function against(line: (id: unknown) => string, args: string[]): Promise<CliResult & { dir: string; asked: string[] }> {
  const dir = join(base, `s${n++}`);
  const fake = await fakeDaemon(dir, (req) => line(req.id));
  try {
    const r = await runCliAsync([...args, '--state-dir', dir]);
    return { ...r, dir, asked: fake.methods };
  } finally {
    await fake.close();
  }
}

function expectClean(r: CliResult & { dir: string }): void {
  expect(r.stderr).not.toContain('\n    at ');
  expect(r.stderr).not.toMatch(/TypeError|E_INTERNAL/);
  expect(readdirSync(r.dir).filter((f) => f.startsWith('lock'))).toEqual([]);
}

describe.each(BAD_REPLIES)('daemon reply: $name', ({ line, says }) => {
  it('status: error[E_DAEMON], exit 1', async () => {
    const r = await against(line, ['status']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^secuxflow status: error\[E_DAEMON\]: /);
    expect(r.stderr).toMatch(says);
    expect(r.stdout).toBe('');
    expectClean(r);
  });

  it('rule add: the rule is stored and the output warns with E_DAEMON (docs/live.md: notifying never fails the command)', async () => {
    const r = await against(line, ['rule', 'add', '--action', 'drop', '--port', '22', '--proto', 'tcp']);
    expect(r.asked).toEqual(['rules.reload']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/added rule 1 /);
    expect(r.stdout).toMatch(/warning: the running daemon did not take the change: E_DAEMON: /);
    expect(r.stdout).toMatch(says);
    expect(new StateStore(r.dir).readRules().rules.map((x) => x.id)).toEqual([1]);
    expectClean(r);
  });

  it('module load: error[E_DAEMON], exit 1, registration taken back', async () => {
    const r = await against(line, ['module', 'load', PORT_VERDICT, '--name', 'pv']);
    expect(r.asked).toEqual(['modules.load']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^secuxflow module load: error\[E_DAEMON\]: /);
    expect(r.stderr).toMatch(says);
    expect(readRegistry(new StateStore(r.dir))).toEqual([]);
    expectClean(r);
  });
});

describe('status results', () => {
  it('a well-formed one renders', async () => {
    const r = await against((id) => JSON.stringify({ id, ok: true, result: validStatus() }), ['status']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^daemon: running \(pid 4242, up 12 s/);
    expect(r.stdout).toMatch(/basic_inspect/);
  });

  it.each([
    ['daemon missing', (s: Record<string, unknown>) => { delete s.daemon; }, /malformed status reply from the daemon: daemon is missing/],
    ['an empty result', (s: Record<string, unknown>) => { for (const k of Object.keys(s)) delete s[k]; }, /daemon is missing/],
    ['daemon.running false', (s: Record<string, unknown>) => { (s.daemon as Record<string, unknown>).running = false; }, /daemon\.running is not true/],
    ['a socket count that is not a number', (s: Record<string, unknown>) => {
      ((s.queues as Array<{ sockets: Array<Record<string, unknown>> }>)[0]!.sockets[0]!).rxPackets = '10';
    }, /queues\[0\]\.sockets\[0\]\.rxPackets is not a number/],
    ['modules not a list', (s: Record<string, unknown>) => { s.modules = {}; }, /modules is not a list/],
  ])('%s: error[E_DAEMON], exit 1, in text and in --json', async (_name, spoil, says) => {
    const result = validStatus();
    spoil(result);
    for (const json of [[], ['--json']]) {
      const r = await against((id) => JSON.stringify({ id, ok: true, result }), ['status', ...json]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^secuxflow status: error\[E_DAEMON\]: /);
      expect(r.stderr).toMatch(says);
      // --json also puts the error on stdout, as JSON, for the script that asked
      if (json.length === 0) expect(r.stdout).toBe('');
      else expect(JSON.parse(r.stdout)).toEqual({ error: expect.objectContaining({ code: 'E_DAEMON', message: expect.stringMatching(says) }) });
      expectClean(r);
    }
  });

  it('a field only the text rendering reads, malformed: still E_DAEMON, not E_INTERNAL', async () => {
    const result = validStatus();
    (result.queues as Array<Record<string, unknown>>)[0]!.scheduling = { applied: true };
    const r = await against((id) => JSON.stringify({ id, ok: true, result }), ['status']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^secuxflow status: error\[E_DAEMON\]: malformed status reply from the daemon: /);
    expect(r.stdout).toBe('');
    expectClean(r);
  });
});

describe('a well-formed refusal', () => {
  it('module load keeps the daemon\'s known code and still takes the registration back', async () => {
    const r = await against((id) => JSON.stringify({ id, ok: false, error: { code: 'E_MODULE_CONFIG', message: 'pv refused its config', hint: 'fix it' } }),
      ['module', 'load', PORT_VERDICT, '--name', 'pv']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error\[E_MODULE_CONFIG\]: pv refused its config\n  hint: fix it/);
    expect(existsSync(join(r.dir, 'modules.json')) ? readRegistry(new StateStore(r.dir)) : []).toEqual([]);
    expectClean(r);
  });
});

describe('offline status with a corrupt rules.json', () => {
  it.each([['[]', /expected a JSON object/], ['{"version":1,', /rules\.json/]])('%s: everything else is shown, and the rules problem too', async (text, says) => {
    const dir = join(base, `s${n++}`);
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'rules.json'), text);
    const r = await runCliAsync(['status', '--state-dir', dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^daemon: not running/);
    expect(r.stdout).toMatch(/\nrules: unreadable: E_STATE: /);
    expect(r.stdout).toMatch(says);
    expect(r.stderr).toBe('');
    const j = await runCliAsync(['status', '--json', '--state-dir', dir]);
    expect(j.code).toBe(0);
    const doc = JSON.parse(j.stdout) as { daemon: { running: boolean }; rules: unknown; rulesError: string | null };
    expect(doc.daemon.running).toBe(false);
    expect(doc.rules).toBeNull();
    expect(doc.rulesError).toMatch(says);
    expect(readFileSync(join(dir, 'rules.json'), 'utf8')).toBe(text);
  });

  it('a readable rules.json gives the count and no error', async () => {
    const dir = join(base, `s${n++}`);
    const added = await runCliAsync(['rule', 'add', '--action', 'drop', '--port', '22', '--proto', 'tcp', '--state-dir', dir]);
    expect(added.code).toBe(0);
    const r = await runCliAsync(['status', '--json', '--state-dir', dir]);
    expect(JSON.parse(r.stdout)).toMatchObject({ rules: { count: 1, defaultPolicy: 'pass' }, rulesError: null });
    const t = await runCliAsync(['status', '--state-dir', dir]);
    expect(t.stdout).toMatch(/\nrules: 1 \(default pass\)/);
  });
});
