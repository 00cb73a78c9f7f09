// `secuxflow module load` of a module that fails on the probe batch: the
// refusal says nothing was loaded and what to fix, not the run-time wording
// ("the instance keeps running", "the module is quarantined").
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, cli, requireBuilt, tempDir } from './support.js';

const HOSTILE = join(ROOT, 'test', 'hostile', 'modules');

describe('secuxflow module load of a module that fails validation', () => {
  beforeAll(() => requireBuilt());

  it('a trap: E_MODULE_TRAP saying nothing was loaded, with a hint to fix the module', () => {
    const state = tempDir('load-trap');
    const r = cli(['module', 'load', join(HOSTILE, 'oob_load.wat')], { SECUXFLOW_STATE_DIR: state });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/error\[E_MODULE_TRAP\]: module oob_load trapped in on_batch: memory access out of bounds .*nothing was loaded or registered/);
    expect(r.stderr).not.toMatch(/keeps running|quarantined|recreated/);
    expect(r.stderr).toMatch(/hint: fix the module/);
    expect(existsSync(join(state, 'modules.json'))).toBe(false);
  });

  it('a CPU budget overrun: E_MODULE_LIMIT saying nothing was loaded, with the limit flags in the hint', () => {
    const state = tempDir('load-limit');
    const r = cli(['module', 'load', join(HOSTILE, 'infinite_loop.wat')], { SECUXFLOW_STATE_DIR: state });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/error\[E_MODULE_LIMIT\]: .*nothing was loaded or registered/);
    expect(r.stderr).not.toMatch(/keeps running|the module is quarantined|recreated/);
    expect(r.stderr).toMatch(/hint: .*--cpu-budget-ms/);
    expect(existsSync(join(state, 'modules.json'))).toBe(false);
  });
});
