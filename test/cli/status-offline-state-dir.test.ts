// `status` with no daemon answering names the state directory it asked. It
// said "daemon: not running" alone, also when the directory did not exist at
// all: the usual cause is a daemon started with another --state-dir (the
// systemd recipe for a second interface), and the operator was told that
// their running daemon was not running.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCli, runCliAsync } from '../host/state/helpers.js';
import { tempDir } from './support.js';

beforeAll(() => buildCli(), 180_000);

describe('status with no daemon names the state directory it asked', () => {
  it('one that does not exist: says so, and creates nothing', async () => {
    const dir = join(tempDir('status-nodir'), 'secuxflow-eth1');
    const r = await runCliAsync(['status', '--state-dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe(`daemon: not running: the state directory ${dir} does not exist, so no daemon has run from it (a daemon started with --state-dir or SECUXFLOW_STATE_DIR answers to the same here)`);
    const j = await runCliAsync(['status', '--json', '--state-dir', dir]);
    expect((JSON.parse(j.stdout) as { daemon: unknown }).daemon).toEqual({ running: false, stateDir: dir, stateDirExists: false });
    expect(existsSync(dir)).toBe(false);
  });

  it('one that exists: names it', async () => {
    const dir = join(tempDir('status-dir'), 'state');
    mkdirSync(dir);
    const r = await runCliAsync(['status', '--state-dir', dir]);
    expect(r.stdout.split('\n')[0]).toBe(`daemon: not running from ${dir} (start it with: secuxflow run --iface IF)`);
    const j = await runCliAsync(['status', '--json'], { SECUXFLOW_STATE_DIR: dir });
    expect((JSON.parse(j.stdout) as { daemon: unknown }).daemon).toEqual({ running: false, stateDir: dir, stateDirExists: true });
  });
});
