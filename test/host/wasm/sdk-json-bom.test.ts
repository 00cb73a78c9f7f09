// A config saved by an editor that writes a UTF-8 byte order mark (Windows
// Notepad does) was refused by every SDK module: "config is not valid JSON:
// unexpected character 'ï' at byte 0". RFC 8259 lets a parser ignore the
// mark; the SDK's reader now does, and still counts error positions in the
// file's bytes.
import { beforeAll, describe, expect, it } from 'vitest';
import { InspectorInstance } from '../../../host/wasm/instance.js';
import type { CompiledInspector } from '../../../host/wasm/loader.js';
import { compileSdkProbe, item, output, packet, rejection } from './helpers.js';

let compiled: CompiledInspector;
beforeAll(async () => {
  compiled = await compileSdkProbe();
}, 180_000);

describe('the SDK JSON reader and a byte order mark', () => {
  it('reads a config that starts with a UTF-8 BOM as if it had none', async () => {
    const inst = await InspectorInstance.create(compiled, { config: '\uFEFF{"k":[1,"x"]}' });
    const out = output(1);
    inst.inspect([item(packet({ payload: 'c' }))], 1, out);
    // sdk_probe echoes its parsed config in the metadata of the alert for payload "c".
    expect(out.alerts[0]!.metadata).toEqual({ config: { k: [1, 'x'] } });
  });

  it('reports a later error at its byte in the file, BOM included', async () => {
    const e = await rejection(InspectorInstance.create(compiled, { config: '\uFEFF{"a" 1}' }));
    expect(e.message).toContain("config is not valid JSON: expected ':' at byte 8");
  });

  it('a BOM anywhere but the start is still an error', async () => {
    const e = await rejection(InspectorInstance.create(compiled, { config: '{"a":\uFEFF1}' }));
    expect(e.message).toContain('config is not valid JSON');
  });
});
