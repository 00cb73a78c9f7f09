// A module that answers the probe batch with verdict bytes outside 0..5, or
// that says every batch failed (a non-zero on_batch status), used to be
// registered as ok: at run time all its verdicts then count as CONTINUE, so it
// never decides anything, and only a counter says why. `module load` and
// `module info` now refuse it and name the mistake.
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, requireBuilt, tempDir } from './support.js';

function wat(onBatch: string): string {
  return `(module
  (memory (export "memory") 2 256)
  (global (export "secuxflow_abi_version") i32 (i32.const 1))
  (global $heap (mut i32) (i32.const 4096))
  (func (export "sf_alloc") (param $size i32) (result i32)
    (local $p i32) (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p) (local.get $size)))
    (drop (memory.grow (i32.const 20)))
    (local.get $p))
  (func (export "on_init") (param i32 i32) (result i32) (i32.const 0))
  (func (export "on_flow_end") (param i64))
  (func (export "on_batch") (param $m i32) (param $n i32) (result i32) ${onBatch}))
`;
}

function moduleFile(name: string, onBatch: string): string {
  const file = join(tempDir('probe-verdicts'), `${name}.wat`);
  writeFileSync(file, wat(onBatch));
  return file;
}

describe('module load and info of a module whose probe batch gives no usable verdicts', () => {
  beforeAll(() => requireBuilt());

  it('a verdict byte outside 0..5: E_MODULE_INVALID naming the count and the valid values', () => {
    // Verdict 9 into the first packet's record (VERDICT is byte 61 of the meta record).
    const file = moduleFile('verdict_nine', '(i32.store8 offset=61 (local.get $m) (i32.const 9)) (i32.const 0)');
    const state = tempDir('probe-state');
    const r = cli(['module', 'load', file], { SECUXFLOW_STATE_DIR: state });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/error\[E_MODULE_INVALID\]: module verdict_nine wrote 1 verdict outside 0\.\.5 for the 4 probe packets; nothing was loaded or registered/);
    expect(r.stderr).toMatch(/hint: write 0 CONTINUE, 1 PASS, 2 ALLOW_FLOW, 3 DROP, 4 BLOCK_FLOW or 5 BLOCK_SRC into each meta record's VERDICT byte \(offset 61\)/);
    expect(existsSync(join(state, 'modules.json'))).toBe(false);

    const info = cli(['module', 'info', file, '--json']);
    expect(info.status).toBe(1);
    expect(JSON.parse(info.stdout)).toMatchObject({ wouldLoad: false, reason: { code: 'E_MODULE_INVALID' } });
  });

  it('a non-zero on_batch status: E_MODULE_INVALID naming the status', () => {
    const file = moduleFile('status_seven', '(i32.const 7)');
    const state = tempDir('probe-state');
    const r = cli(['module', 'load', file], { SECUXFLOW_STATE_DIR: state });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/error\[E_MODULE_INVALID\]: module status_seven returned status 7 from on_batch for the probe batch, which says the batch failed; nothing was loaded or registered/);
    expect(r.stderr).toMatch(/hint: return 0 \(OK\) from on_batch once the verdicts are written/);
    expect(existsSync(join(state, 'modules.json'))).toBe(false);
  });

  it('verdicts 0..5 and status 0 still load', () => {
    const file = moduleFile('fine', '(i32.store8 offset=61 (local.get $m) (i32.const 5)) (i32.const 0)');
    const r = cli(['module', 'load', file], { SECUXFLOW_STATE_DIR: tempDir('probe-state') });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
