// A module that refuses the config the daemon gives it (start, SIGHUP,
// modules.load): the hint names the file to fix, not inspect's
// --module-config flag, and a module that needs a config it was not given is
// told how the daemon gives one.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildModule, moduleSpecsFor } from '../../../host/daemon/modules.js';
import { loadDaemonConfig } from '../../../host/daemon/config.js';
import type { SecuxflowError } from '../../../host/errors.js';

async function refusal(yaml: string, files: Record<string, string>): Promise<SecuxflowError> {
  const dir = mkdtempSync(join(tmpdir(), 'sf-modcfg-'));
  try {
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    writeFileSync(join(dir, 'daemon.yaml'), yaml);
    const [spec] = moduleSpecsFor(loadDaemonConfig(join(dir, 'daemon.yaml')), join(dir, 'state'));
    try {
      await buildModule({ ...spec!, isolation: 'thread' }, join(dir, 'state'));
    } catch (e) {
      return e as SecuxflowError;
    }
    throw new Error('the module started');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('a module config the daemon gives is refused', () => {
  it('names the file to fix', async () => {
    const e = await refusal('modules:\n  - name: basic_inspect\n    config: bi.json\n', { 'bi.json': '{"deny_portz": [23]}' });
    expect(e.code).toBe('E_MODULE_CONFIG');
    expect(e.hint).toMatch(/^fix \/.*\/bi\.json \(/);
    expect(e.hint).not.toContain('--module-config');
  });

  it('a module that needs a config: how the daemon gives one', async () => {
    const e = await refusal('modules: [ratelimit]\n', {});
    expect(e.code).toBe('E_MODULE_CONFIG');
    expect(e.hint).toMatch(/give one with the daemon config file \(modules: - name: ratelimit, config: FILE\)/);
  });
});
