// The memory ceiling is enforced by rewriting the module's declared maximum;
// the rewritten module must still validate and grow exactly up to it.
import { describe, expect, it } from 'vitest';
import { capMemory } from '../../../host/sandbox/memory-cap.js';
import { readLayout } from '../../../host/wasm/binary.js';
import { watToWasm } from '../../../host/wasm/loader.js';

async function mod(memory: string): Promise<Uint8Array> {
  return watToWasm(`(module ${memory} (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))`, 'cap.wat');
}

function growUntilRefused(bytes: Uint8Array): number {
  const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes));
  const grow = inst.exports.grow as (n: number) => number;
  const mem = inst.exports.memory as WebAssembly.Memory;
  for (let i = 0; i < 100_000 && grow(1) >= 0; i++);
  return mem.buffer.byteLength / 65536;
}

describe('capMemory', () => {
  it('adds a maximum to a memory that declared none, and growth stops there', async () => {
    const r = capMemory('m', await mod('(memory (export "memory") 2)'), 16);
    expect(r).toMatchObject({ changed: true, declaredMaxPages: null, minPages: 2, maxPages: 16 });
    expect(WebAssembly.validate(r.bytes)).toBe(true);
    expect(readLayout(r.bytes).memories[0]).toMatchObject({ min: 2, max: 16 });
    expect(growUntilRefused(r.bytes)).toBe(16);
  });

  it('lowers a larger maximum and keeps a smaller one untouched', async () => {
    const big = capMemory('m', await mod('(memory (export "memory") 1 60000)'), 300);
    expect(big).toMatchObject({ changed: true, declaredMaxPages: 60000, maxPages: 300 });
    expect(growUntilRefused(big.bytes)).toBe(300);
    const small = await mod('(memory (export "memory") 1 8)');
    const kept = capMemory('m', small, 300);
    expect(kept.changed).toBe(false);
    expect(kept.bytes).toBe(small);
  });

  it('refuses a module whose initial memory is above the ceiling', async () => {
    let err: unknown = null;
    try { capMemory('big', await watToWasm('(module (memory (export "memory") 40))', 'b.wat'), 32); } catch (x) { err = x; }
    expect(err).toMatchObject({ code: 'E_MODULE_INVALID' });
    expect((err as Error).message).toMatch(/module big starts with 40 pages \(2\.5 MiB\) of memory, above the sandbox ceiling of 32 pages \(2 MiB\)/);
  });
});
