// The reader of component export types (host/wasm/component-types.ts): what
// it finds in jco's print of a component, and the first difference it names
// for each kind of type the world could use (records, enums, variants,
// flags, nested lists, options and tuples).
import { describe, expect, it } from 'vitest';
import { exportTypes, parseSx, typeDifference, WatShapeError, withoutCode } from '../../../host/wasm/component-types.js';

async function types(body: string): Promise<ReturnType<typeof exportTypes>> {
  const jco = await import('@bytecodealliance/jco');
  const wit = `package test:shapes;\nworld w {\n${body}\n  export f: func(x: t) -> t;\n}`;
  const c = await jco.componentNew(await jco.componentEmbed({ dummy: true, witSource: wit, world: 'w', stringEncoding: 'utf8' }));
  const full = exportTypes(await jco.print(c));
  expect(exportTypes(await jco.print(withoutCode(c)))).toEqual(full);
  return full;
}

async function difference(want: string, got: string): Promise<string | null> {
  return typeDifference((await types(got)).f!, (await types(want)).f!);
}

describe('component export types', () => {
  it('the same structure written twice is the same; one difference is named with its type and field, case or flag', async () => {
    const record = 'record t { a: u8, b: list<option<tuple<u16, string>>> }';
    expect(await difference(record, record)).toBeNull();
    expect(await difference(record, 'record t { a: u8, b: list<option<tuple<u16, u32>>> }'))
      .toBe('record t, field b, list element, option element, tuple element 1: u32 where the world has string');
    expect(await difference('enum t { red, green }', 'enum t { red, blue }')).toBe('enum t: case green is missing (the world\'s case 2)');
    expect(await difference('flags t { r, w }', 'flags t { w, r }')).toBe('flags t: flag 1 is w where the world has r (the world\'s order is r, w)');
    expect(await difference('variant t { a(u8), b }', 'variant t { a(u8), b(u8) }')).toBe('variant t, case b: u8 where the world has nothing');
    expect(await difference('record t { a: u8 }', 'enum t { a }')).toBe('parameter x: enum t where the world has record t');
    expect(await difference('type t = result<u8, string>;', 'type t = result<u8>;')).toBe('parameter x, result error: nothing where the world has string');
  }, 60_000);

  it('is strict: unknown component items and unbalanced text are refused, not skipped', () => {
    expect(() => exportTypes('(component (frobnicate 1))')).toThrow(WatShapeError);
    expect(() => exportTypes('(component (type (record (field "a" u8)))')).toThrow(/unbalanced/);
    expect(() => exportTypes('(module)')).toThrow(/not a component/);
    // Each tuple holds the one before twice: 2^24 parts if expanded, refused after a bounded number; not expanded when not asked for.
    const wide = `(component (type (tuple u8 u8)) ${Array.from({ length: 24 }, (_, i) => `(type (tuple ${i} ${i}))`).join(' ')}
      (type (func (param "x" 24))) (func $f (type 25) (canon lift (core func 0))) (export "f" (func $f)))`;
    expect(() => exportTypes(wide)).toThrow(/expand to more than 4096 parts/);
    expect(exportTypes(wide, ['g'])).toEqual({});
    expect(parseSx('(a (@name "x") $"q r" "s\\u{41}\\42" (; c (; d ;) ;) b) ;; e')).toEqual([['a', '$q r', { q: 'sAB' }, 'b']]);
  });
});
