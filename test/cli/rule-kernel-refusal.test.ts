// When the kernel side refuses a rule change, the rule commands must report
// it and store nothing. Here the refusal is real: the state says secuxflow is
// attached, but the pinned maps it names do not exist.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeAttachments } from '../../host/kernel/attachments.js';
import { StateStore } from '../../host/state/store.js';
import { buildCli, runCli } from '../host/state/helpers.js';

const base = mkdtempSync(join(tmpdir(), 'sf-rule-refused-'));
const dir = join(base, 'state');
let before = '';

beforeAll(async () => {
  await buildCli();
  const seeded = runCli(['rule', 'add', '--action', 'drop', '--port', '22', '--state-dir', dir]);
  if (seeded.code !== 0) throw new Error(seeded.stderr);
  writeAttachments(new StateStore(dir), [{
    iface: 'sfnone0', ifindex: 999_999, netns: 0, mode: 'skb', requestedMode: 'skb', policy: 'allow', fail: 'open',
    pinDir: join(base, 'no-such-bpffs-dir'), progId: 0, time: new Date().toISOString(),
  }]);
  before = readFileSync(join(dir, 'rules.json'), 'utf8');
  writeFileSync(join(base, 'replacement.yaml'), 'rules:\n  - { dst_port: 443, proto: tcp, action: pass }\n');
}, 180_000);
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('a change the kernel refuses is not stored', () => {
  it.each([
    [['rule', 'add', '--action', 'pass', '--port', '80']],
    [['rule', 'delete', '--id', '1']],
    [['rule', 'clear']],
    [['rule', 'import', join(base, 'replacement.yaml')]],
    [['rule', 'import', '--merge', join(base, 'replacement.yaml')]],
  ])('%j', (args) => {
    const r = runCli([...args, '--state-dir', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error\[E_[A-Z_]+\]/);
    expect(r.stderr).toContain('sfnone0');
    expect(r.stdout).toBe('');
    expect(readFileSync(join(dir, 'rules.json'), 'utf8')).toBe(before);
    expect(readdirSync(dir).sort()).toEqual(['attachments.json', 'rules.json']);
  });
});
