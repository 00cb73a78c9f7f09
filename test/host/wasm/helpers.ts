// Shared test helpers: WAT fixtures compiled at test time, packets built and
// decoded by the real packet code, and empty batch outputs.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildPacket, type PacketSpec } from '../../../host/packet/build.js';
import { decodePacket } from '../../../host/packet/decode.js';
import { LinkType, type DecodedPacket } from '../../../host/packet/types.js';
import { compileInspector, watToWasm, type CompiledInspector } from '../../../host/wasm/loader.js';
import type { BatchOutput, InspectItem } from '../../../host/wasm/types.js';
import { SecuxflowError } from '../../../host/errors.js';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const fixtureDir = join(repoRoot, 'test', 'fixtures', 'modules');

export async function fixtureBytes(name: string): Promise<Uint8Array> {
  const file = join(fixtureDir, `${name}.wat`);
  return watToWasm(readFileSync(file, 'utf8'), file);
}

export async function compileFixture(name: string): Promise<CompiledInspector> {
  return compileInspector(name, await fixtureBytes(name));
}

/** The AssemblyScript SDK probe (test/fixtures/modules/sdk_probe) built with the project's asconfig.json. */
export async function compileSdkProbe(): Promise<CompiledInspector> {
  const tmp = mkdtempSync(join(tmpdir(), 'sfx-sdk-'));
  try {
    const out = join(tmp, 'sdk_probe.wasm');
    execFileSync(join(repoRoot, 'node_modules', '.bin', 'asc'),
      [join('test', 'fixtures', 'modules', 'sdk_probe', 'index.ts'), '--config', 'asconfig.json', '--target', 'release', '-o', out],
      { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'], timeout: 170_000 });
    return await compileInspector('sdk_probe', new Uint8Array(readFileSync(out)));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export function packet(spec: Partial<PacketSpec> & { payload?: Uint8Array | string }, ts: [number, number] = [1_700_000_000, 5]): DecodedPacket {
  const frame = buildPacket({ src: '198.18.0.1', dst: '198.18.0.2', proto: 'tcp', srcPort: 40000, dstPort: 80, ...spec });
  return decodePacket(frame, LinkType.ETHERNET, ts[0], ts[1]);
}

export function item(pkt: DecodedPacket, over: Partial<InspectItem> = {}): InspectItem {
  return { pkt, flowId: 1, direction: 0, flags: 0, stream: null, streamNew: 0, ...over };
}

export function output(n: number): BatchOutput {
  return { verdicts: new Uint8Array(n), verdictArgs: new Uint16Array(n), alerts: [], events: [] };
}

export function bytes(...parts: (string | number[])[]): Uint8Array {
  const chunks = parts.map((p) => (typeof p === 'string' ? new TextEncoder().encode(p) : Uint8Array.from(p)));
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) { out.set(c, o); o += c.length; }
  return out;
}

/** The SecuxflowError a promise rejects with; fails the test when it resolves or throws something else. */
export async function rejection(p: Promise<unknown>): Promise<SecuxflowError> {
  const result = await p.then(() => null, (e: unknown) => e);
  if (!(result instanceof SecuxflowError)) throw new Error(`expected a SecuxflowError, got ${result === null ? 'success' : String(result)}`);
  return result;
}

/** The core exports every test component needs (memory, realloc, abi-version, init), without flow-end and inspect-batch. */
export const CORE_EXPORTS = `
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32) (local.set $p (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (local.get 3))) (local.get $p))
  (func (export "abi-version") (result i32) (i32.const 1))
  (func (export "init") (param i32 i32) (result i32) (i32.const 0))`;

/** A component of `world` in `wit`, its core module from WAT, built with jco as `module new` users build theirs. */
export async function component(wit: string, world: string, wat: string): Promise<Uint8Array> {
  const jco = await import('@bytecodealliance/jco') as unknown as {
    componentEmbed(o: Record<string, unknown>): Promise<Uint8Array>;
    componentNew(b: Uint8Array): Promise<Uint8Array>;
  };
  const core = await watToWasm(wat, `${world}.wat`);
  return jco.componentNew(await jco.componentEmbed({ binary: core, witSource: wit, world, stringEncoding: 'utf8' }));
}
