// `secuxflow module unload basic_inspect` while the daemon runs basic_inspect
// from its config file (or as a shipped default): the module is in `status`,
// yet unload said only "no registered module ... no module is registered".
// It now says where the daemon's module comes from and how to take it out,
// and still changes nothing.
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fakeDaemon, validStatus } from '../host/control/fake-daemon.js';
import { buildCli, runCliAsync } from '../host/state/helpers.js';
import { tempDir } from './support.js';

beforeAll(() => buildCli(), 180_000);

/** A fake daemon whose status runs `modules` with `config` as its config file. */
async function daemonRunning(dir: string, modules: string[], config: string | null): Promise<{ methods: readonly string[]; close: () => Promise<void> }> {
  const status = validStatus() as { daemon: Record<string, unknown>; modules: Array<Record<string, unknown>> };
  status.daemon.config = config;
  status.modules = modules.map((name) => ({ ...status.modules[0], name }));
  return fakeDaemon(dir, (req) => JSON.stringify({ id: req.id, ok: true, result: status }));
}

describe('module unload of a module the daemon runs without a registration', () => {
  it('from its config file: says to remove it there and reload', async () => {
    const dir = tempDir('unload-from-config');
    const fake = await daemonRunning(dir, ['basic_inspect', 'http_waf'], '/etc/secuxflow/daemon.yaml');
    try {
      const r = await runCliAsync(['module', 'unload', 'basic_inspect', '--state-dir', dir]);
      expect(r.stderr).toBe('secuxflow module unload: error[E_MODULE_NOT_FOUND]: no registered module named "basic_inspect"\n' +
        '  hint: the running daemon runs basic_inspect, but not as a registered module: remove it from modules: in its config file /etc/secuxflow/daemon.yaml, then reload the daemon (systemctl reload secuxflow@IFACE, or kill -HUP 4242)\n');
      expect(r.code).toBe(1);
      // Only asked; nothing unloaded, nothing written.
      expect(fake.methods).toEqual(['status']);
      expect(existsSync(join(dir, 'modules.json'))).toBe(false);
    } finally {
      await fake.close();
    }
  });

  it('as a shipped default: says how to choose the modules', async () => {
    const dir = tempDir('unload-default');
    const fake = await daemonRunning(dir, ['basic_inspect', 'dlp'], null);
    try {
      const r = await runCliAsync(['module', 'unload', 'dlp', '--state-dir', dir]);
      expect(r.stderr).toContain('hint: the running daemon runs dlp, but not as a registered module: it is one of the shipped inspectors a daemon runs when neither a config file nor module load names any; list the ones you want under modules: in a config file and restart the daemon with --config FILE\n');
      expect(r.code).toBe(1);
    } finally {
      await fake.close();
    }
  });

  it('a module the daemon does not run either keeps the plain answer', async () => {
    const dir = tempDir('unload-unknown');
    const fake = await daemonRunning(dir, ['basic_inspect'], null);
    try {
      const r = await runCliAsync(['module', 'unload', 'nope', '--state-dir', dir]);
      expect(r.stderr).toBe('secuxflow module unload: error[E_MODULE_NOT_FOUND]: no registered module named "nope"\n  hint: no module is registered (secuxflow module load FILE)\n');
    } finally {
      await fake.close();
    }
  });
});
