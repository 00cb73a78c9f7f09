// A component's verdict action outside 0..5, or a verdict list shorter than
// the packets, is an invalid verdict: CONTINUE for the packet, and counted,
// as a core module's bad verdict byte is. The count used to stay at zero.
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModuleFile } from '../../../host/modules/load.js';
import { createModuleRunner, type ManagedRunner } from '../../../host/sandbox/runner.js';
import { ROOT } from '../sandbox/support.js';
import { component, CORE_EXPORTS, item, output, packet } from './helpers.js';

const runners: ManagedRunner[] = [];
afterAll(() => { for (const r of runners) r.close(); });

/** Gives action 9 for the first packet, PASS (1) for the second, and no verdict for any further one. */
async function badVerdicts(): Promise<Uint8Array> {
  const wit = readFileSync(join(ROOT, 'modules', 'wit', 'inspector.wit'), 'utf8');
  return component(wit, 'inspector', `(module
    ${CORE_EXPORTS}
    ;; list<verdict> at 512: two records {action u8, arg u16} of 4 bytes; the (ptr, len) pair at 0
    (data (i32.const 512) "\\09\\00\\00\\00\\01\\00\\00\\00")
    (func (export "flow-end") (param i64))
    (func (export "inspect-batch") (param i32 i32) (result i32)
      (i32.store (i32.const 0) (i32.const 512))
      (i32.store (i32.const 4) (i32.const 2))
      (i32.const 0)))`);
}

describe('a component giving invalid verdicts', () => {
  it.each([true, false])('gets CONTINUE for them, and they are counted (in-thread %s)', async (unsafeInThread) => {
    const mod = await loadModuleFile('/virtual/bad_verdicts.wasm', { name: 'bad_verdicts', bytes: await badVerdicts() });
    const r = await createModuleRunner(mod, { unsafeInThread, logger: () => {} });
    runners.push(r);
    const out = output(3);
    r.inspect([1, 2, 3].map((flowId) => item(packet({ payload: 'x' }), { flowId })), 3, out);
    expect([...out.verdicts.subarray(0, 3)]).toEqual([0, 1, 0]);
    expect(r.verdictErrors()).toBe(2);
  }, 60_000);
});
