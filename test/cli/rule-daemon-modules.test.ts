// While a daemon runs, a rule that would inspect with a module the daemon has
// not loaded is refused before anything is stored or put in the kernel: the
// daemon would refuse it afterwards and leave state, kernel and daemon out of
// step (and its next start failing). A fake daemon on the control socket
// answers modules.list with what the test chooses.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fakeDaemon } from '../host/control/fake-daemon.js';
import { buildCli, runCliAsync } from '../host/state/helpers.js';
import { tempDir } from './support.js';

beforeAll(() => buildCli(), 180_000);

const moduleList = (names: string[]) => (req: { id: unknown; method: string }) => JSON.stringify(
  req.method === 'modules.list'
    ? { id: req.id, ok: true, result: names.map((name) => ({ name })) }
    : { id: req.id, ok: true, result: { rules: 1 } },
);

describe('rule changes against a running daemon\'s modules', () => {
  it('refuses rule add and rule import naming a module the daemon lacks, and stores nothing', async () => {
    const dir = tempDir('daemon-mods');
    const seeded = await runCliAsync(['rule', 'add', '--action', 'drop', '--port', '22', '--proto', 'tcp', '--state-dir', dir]);
    expect(seeded.code).toBe(0);
    const before = readFileSync(join(dir, 'rules.json'), 'utf8');
    const fake = await fakeDaemon(dir, moduleList(['http_waf', 'scan_flood']));
    try {
      const r = await runCliAsync(['rule', 'add', '--action', 'inspect', '--module', 'dns_guard', '--port', '53', '--proto', 'udp', '--state-dir', dir]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/error\[E_MODULE_NOT_FOUND\]: the running daemon has not loaded module dns_guard \(it runs http_waf, scan_flood\)/);
      expect(r.stderr).toMatch(/hint: load it into the daemon first/);
      const file = join(dir, 'more.yaml');
      writeFileSync(file, 'rules:\n  - { dst_port: 53, proto: udp, action: inspect, modules: [dns_guard] }\n');
      const imp = await runCliAsync(['rule', 'import', '--merge', file, '--state-dir', dir]);
      expect(imp.code).toBe(1);
      expect(imp.stderr).toMatch(/has not loaded module dns_guard/);
      expect(readFileSync(join(dir, 'rules.json'), 'utf8')).toBe(before);
      expect(fake.methods).toEqual(['modules.list', 'modules.list']);
    } finally {
      await fake.close();
    }
  });

  it('lets through modules the daemon runs, and edits of a set that already names a missing one', async () => {
    const dir = tempDir('daemon-mods');
    // stored while no daemon ran: names dns_guard
    expect((await runCliAsync(['rule', 'add', '--action', 'inspect', '--module', 'dns_guard', '--port', '53', '--proto', 'udp', '--state-dir', dir])).code).toBe(0);
    const fake = await fakeDaemon(dir, moduleList(['http_waf']));
    try {
      const ok = await runCliAsync(['rule', 'add', '--action', 'inspect', '--module', 'http_waf', '--port', '80', '--proto', 'tcp', '--state-dir', dir]);
      expect(ok.code, ok.stderr).toBe(0);
      const unrelated = await runCliAsync(['rule', 'add', '--action', 'drop', '--port', '23', '--proto', 'tcp', '--state-dir', dir]);
      expect(unrelated.code, unrelated.stderr).toBe(0);
      const del = await runCliAsync(['rule', 'delete', '--id', '1', '--state-dir', dir]);
      expect(del.code, del.stderr).toBe(0);
      expect(JSON.parse(readFileSync(join(dir, 'rules.json'), 'utf8')).rules.map((r: { id: number }) => r.id).sort()).toEqual([2, 3]);
    } finally {
      await fake.close();
    }
  });
});
