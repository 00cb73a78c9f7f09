// A built module may import only secuxflow.* hostcalls: AssemblyScript's
// env.abort must be redirected by the SDK, env.trace/env.seed never pulled in.
// Checked on the release and debug targets of asconfig.json with wasm-objdump.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HOSTCALLS } from '../../../host/wasm/abi.js';
import { compileInspector } from '../../../host/wasm/loader.js';
import { repoRoot } from '../../host/wasm/helpers.js';
import { builtModule } from '../support.js';

const objdump = join(repoRoot, 'node_modules', '.bin', 'wasm-objdump');
const tmp = mkdtempSync(join(tmpdir(), 'sfx-imports-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function importsOf(file: string): string[] {
  const text = execFileSync(objdump, ['-x', '-j', 'Import', file], { encoding: 'utf8', timeout: 60_000 });
  return [...text.matchAll(/<- (\S+)$/gm)].map((m) => m[1]!);
}

describe('built basic_inspect imports only secuxflow hostcalls', () => {
  it('release target', async () => {
    const file = builtModule('basic_inspect');
    const imports = importsOf(file);
    expect(imports.length).toBeGreaterThan(0);
    for (const name of imports) expect(Object.keys(HOSTCALLS).map((h) => `secuxflow.${h}`)).toContain(name);
    await expect(compileInspector('basic_inspect', new Uint8Array(readFileSync(file)))).resolves.toMatchObject({ abiVersion: 1 });
  });

  it('debug target', async () => {
    const out = join(tmp, 'basic_inspect.debug.wasm');
    execFileSync(join(repoRoot, 'node_modules', '.bin', 'asc'),
      [join('modules', 'basic_inspect', 'index.ts'), '--config', 'asconfig.json', '--target', 'debug', '-o', out],
      { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'], timeout: 170_000 });
    const imports = importsOf(out);
    expect(imports.filter((n) => !n.startsWith('secuxflow.'))).toEqual([]);
    expect(imports).toContain('secuxflow.log_message');
    await expect(compileInspector('basic_inspect_debug', new Uint8Array(readFileSync(out)))).resolves.toMatchObject({ abiVersion: 1 });
  }, 180_000);
});
