// Files that are not a module for a reason the bytes give away: a build or
// download cut short (the binary ends inside a section), a gzip-compressed
// module, an error page saved by a download. They were refused with a wasm
// engine message and no hint, or as "neither a WebAssembly binary, a
// component, nor WebAssembly text", which says what it is not, not what it is.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { SecuxflowError } from '../../../host/errors.js';
import { loadModuleFile } from '../../../host/modules/load.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const BASIC = readFileSync(join(ROOT, 'build', 'modules', 'basic_inspect.wasm'));

async function refusal(name: string, bytes: Uint8Array): Promise<SecuxflowError> {
  const e = await loadModuleFile(`/virtual/${name}`, { bytes }).then(() => null, (err: unknown) => err);
  expect(e).toBeInstanceOf(SecuxflowError);
  expect((e as SecuxflowError).code).toBe('E_MODULE_INVALID');
  return e as SecuxflowError;
}

describe('module files that are something else', () => {
  it('a binary cut short: the hint says so', async () => {
    const e = await refusal('cut.wasm', BASIC.subarray(0, 1000));
    expect(e.message).toMatch(/module cut is not a valid WebAssembly module: .*extends past end/);
    expect(e.hint).toBe('the file ends too early: a build, copy or download was cut short; build or copy it again');
  });

  it('a gzip-compressed module: the message names gzip and the hint the fix', async () => {
    const e = await refusal('basic.wasm', gzipSync(BASIC));
    expect(e.message).toBe('module file /virtual/basic.wasm is gzip-compressed, not a module');
    expect(e.hint).toBe('decompress it first (gunzip -c FILE > module.wasm)');
  });

  it('an HTML page (a download that saved an error page)', async () => {
    const e = await refusal('page.wasm', new TextEncoder().encode('<!DOCTYPE html>\n<html><body>404 Not Found</body></html>'));
    expect(e.message).toBe('module file /virtual/page.wasm is an HTML page, not a module');
    expect(e.hint).toBe('a download probably saved an error page: fetch the .wasm again and check the URL');
  });
});
