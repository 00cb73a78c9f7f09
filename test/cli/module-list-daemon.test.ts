// `module list` while a daemon runs: live counters come from its status
// reply. A reply that is broken or lacks the module list still lists the
// registry, says why the counters are the validation run's, and never fails
// with an internal error.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BAD_REPLIES, fakeDaemon } from '../host/control/fake-daemon.js';
import { buildCli, runCliAsync } from '../host/state/helpers.js';
import { tempDir } from './support.js';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'engine', 'port_verdict.wat');
beforeAll(() => buildCli(), 180_000);

async function registered(): Promise<string> {
  const dir = tempDir('modlist');
  const r = await runCliAsync(['module', 'load', FIXTURE, '--name', 'pv', '--state-dir', dir]);
  if (r.code !== 0) throw new Error(r.stderr);
  return dir;
}

describe('module list with a daemon that answers badly', () => {
  const cases = [
    ...BAD_REPLIES.map((b) => ({ name: b.name, line: b.line, warns: /counters could not be read \(E_DAEMON: / })),
    { name: 'a status whose modules is an object', line: (id: unknown) => JSON.stringify({ id, ok: true, result: { modules: {} } }), warns: /status has no module list/ },
  ];
  it.each(cases)('$name: lists the registry with a warning', async ({ line, warns }) => {
    const dir = await registered();
    const fake = await fakeDaemon(dir, (req) => line(req.id));
    try {
      const r = await runCliAsync(['module', 'list', '--json', '--state-dir', dir]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(new RegExp(`^secuxflow module list: warning: .*${warns.source}`));
      expect(r.stderr).not.toMatch(/\n\s+at /);
      const list = JSON.parse(r.stdout) as { modules: { name: string; countersFrom: string | null }[] };
      expect(list.modules.map((m) => m.name)).toEqual(['pv']);
      expect(list.modules[0]!.countersFrom).not.toMatch(/^daemon/);
    } finally {
      await fake.close();
    }
  });

  it('takes the live counters from a good reply', async () => {
    const dir = await registered();
    const fake = await fakeDaemon(dir, (req) => JSON.stringify({ id: req.id, ok: true, result: { modules: [{ name: 'pv', packets: 77, meanBatchUs: 5, p99BatchUs: 9, traps: 0, quarantineReason: null }] } }));
    try {
      const r = await runCliAsync(['module', 'list', '--json', '--state-dir', dir]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      const m = (JSON.parse(r.stdout) as { modules: { packets: number; countersFrom: string }[] }).modules[0]!;
      expect(m.packets).toBe(77);
      expect(m.countersFrom).toMatch(/^daemon /);
      // The table's note says so, not "from each module's last validation run".
      const text = await runCliAsync(['module', 'list', '--state-dir', dir]);
      expect(text.stdout).toMatch(/\n\(counters: live, from the running daemon\)\n$/);
    } finally {
      await fake.close();
    }
  });

  it('says which counters are live when the daemon runs only some of the registered modules', async () => {
    const dir = await registered();
    const again = await runCliAsync(['module', 'load', FIXTURE, '--name', 'pv2', '--state-dir', dir]);
    expect(again.code, again.stderr).toBe(0);
    const fake = await fakeDaemon(dir, (req) => JSON.stringify({ id: req.id, ok: true, result: { modules: [{ name: 'pv', packets: 77, meanBatchUs: 5, p99BatchUs: 9, traps: 0, quarantineReason: null }] } }));
    try {
      const r = await runCliAsync(['module', 'list', '--state-dir', dir]);
      expect(r.stdout).toMatch(/\n\(counters: live from the running daemon for the modules it runs, else from the last validation run\)\n$/);
    } finally {
      await fake.close();
    }
  });
});
