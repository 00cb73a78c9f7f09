// The usual way to a WASI-importing inspector is componentize-js with its
// default features (wasi:cli, clocks, random...). The refusal's hint said only
// "build against modules/wit", which a JavaScript author cannot act on: it
// now names the componentize-js option that drops those imports.
import { describe, expect, it } from 'vitest';
import { SecuxflowError } from '../../../host/errors.js';
import { loadModuleFile } from '../../../host/modules/load.js';
import { component, CORE_EXPORTS } from './helpers.js';

describe('a component importing WASI', () => {
  it('is refused with a hint that covers componentize-js', async () => {
    const wit = `package test:jsdefault;
package wasi:cli@0.2.3 {
  interface stderr { get-stderr: func() -> u32; }
}
world js-default {
  import wasi:cli/stderr@0.2.3;
  export abi-version: func() -> u32;
  export init: func(config: list<u8>) -> s32;
}`;
    const bytes = await component(wit, 'js-default', `(module
      (import "wasi:cli/stderr@0.2.3" "get-stderr" (func (result i32)))
      ${CORE_EXPORTS})`);
    const e = await loadModuleFile('/virtual/js_default.wasm', { name: 'js_default', bytes }).then(() => null, (err: unknown) => err);
    expect(e).toBeInstanceOf(SecuxflowError);
    expect((e as SecuxflowError).code).toBe('E_MODULE_IMPORT');
    expect((e as SecuxflowError).message).toMatch(/imports wasi:cli\/stderr/);
    expect((e as SecuxflowError).hint).toMatch(/componentize-js: pass disableFeatures: \['random', 'stdio', 'clocks', 'http', 'fetch-event'\] \(docs\/modules\.md\)/);
  }, 60_000);
});
