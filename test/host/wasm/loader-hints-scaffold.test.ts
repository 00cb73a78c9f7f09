// The loader's hints for a missing marker or callback told AssemblyScript
// authors to write `export * from "../sdk/exports"`, the path inside this
// repository's modules/; a project from `secuxflow module new` has its SDK
// copy at ./sdk, so the hint sent them to a folder that does not exist. And a
// WAT author missing a callback got only the AssemblyScript advice.
import { describe, expect, it } from 'vitest';
import { SecuxflowError } from '../../../host/errors.js';
import { compileFixture } from './helpers.js';

async function hint(fixture: string): Promise<string> {
  const err = await compileFixture(fixture).then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(SecuxflowError);
  return (err as SecuxflowError).hint ?? '';
}

describe('loader hints for a module missing ABI exports', () => {
  it('no marker: the scaffold project path first, the WAT declaration too', async () => {
    const h = await hint('no-marker');
    expect(h).toContain('`export * from "./sdk/exports"` in a project made by secuxflow module new');
    expect(h).toContain('(global (export "secuxflow_abi_version") i32 (i32.const 1))');
  });

  it('no on_batch: the scaffold project path, and what a WAT module must export', async () => {
    const h = await hint('no-on-batch');
    expect(h).toContain('`export * from "./sdk/exports"` in a project made by secuxflow module new');
    expect(h).toContain('WAT modules export it themselves with that signature (docs/abi/v1.md section 5)');
  });

  it('marker of another version: a hint for both kinds of author (the refusal had none)', async () => {
    const h = await hint('marker-v2');
    expect(h).toBe('AssemblyScript: build against the SDK of this secuxflow (secuxflow module new copies it into the project); WAT: (global (export "secuxflow_abi_version") i32 (i32.const 1))');
  });
});
