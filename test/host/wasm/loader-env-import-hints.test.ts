// AssemblyScript reaches the host through env.* for console.log, Date.now and
// Math.random (env.seed). The refusal told console.log and Date.now users only
// that secuxflow.* hostcalls may be imported, and told Math.random users to
// build with the project's asconfig.json, which does not help: each now names
// the SDK call to use instead.
import { describe, expect, it } from 'vitest';
import { SecuxflowError } from '../../../host/errors.js';
import { compileInspector, watToWasm } from '../../../host/wasm/loader.js';

async function refusal(field: string, params: string): Promise<SecuxflowError> {
  const wat = `(module
  (import "env" "${field}" (func ${params}))
  (global (export "secuxflow_abi_version") i32 (i32.const 1))
  (memory (export "memory") 1 16))`;
  const e = await compileInspector('as_env', await watToWasm(wat, 'as_env.wat')).then(() => null, (err: unknown) => err);
  expect(e).toBeInstanceOf(SecuxflowError);
  expect((e as SecuxflowError).code).toBe('E_MODULE_IMPORT');
  return e as SecuxflowError;
}

describe('refusals of AssemblyScript env imports name the SDK replacement', () => {
  it('console.log: the SDK log()', async () => {
    const e = await refusal('console.log', '(param i32)');
    expect(e.message).toMatch(/imports env\.console\.log/);
    expect(e.hint).toBe("AssemblyScript's console.log is not available in the sandbox: use the SDK's log(LogLevel.INFO, message)");
  });

  it('Date.now: the SDK nowNs()', async () => {
    const e = await refusal('Date.now', '(result f64)');
    expect(e.hint).toBe("AssemblyScript's Date.now is not available in the sandbox: use the SDK's nowNs() (capture time offline, wall clock live)");
  });

  it('seed (Math.random): no randomness, and what to use', async () => {
    const e = await refusal('seed', '(result f64)');
    expect(e.hint).toBe("AssemblyScript's Math.random() imports env.seed, which the sandbox does not provide: derive values from the packet or nowNs() (the SDK's tables already hash with a seed of their own)");
  });

  it('abort and trace keep the asconfig advice', async () => {
    const e = await refusal('abort', '(param i32 i32 i32 i32)');
    expect(e.hint).toMatch(/build with the project's asconfig\.json \(it redirects abort to the SDK\)/);
  });
});
