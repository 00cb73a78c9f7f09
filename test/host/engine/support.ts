// Builders shared by the engine tests: real frames, real modules.
import { join } from 'node:path';
import { buildPacket, type PacketSpec } from '../../../host/packet/build.js';
import { decodePacket } from '../../../host/packet/decode.js';
import { LinkType, type DecodedPacket } from '../../../host/packet/types.js';
import { compileInspector, loadInspectorFile, watToWasm } from '../../../host/wasm/loader.js';
import { InspectorInstance } from '../../../host/wasm/instance.js';
import type { EngineModule, FailurePolicy } from '../../../host/engine/engine.js';

export const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'engine');

export const T0 = 1_767_225_600; // 2026-01-01T00:00:00Z

export function packet(spec: Partial<PacketSpec> & { t?: number }, t = spec.t ?? 0): DecodedPacket {
  const frame = buildPacket({ src: '198.18.0.1', dst: '198.18.1.1', proto: 'tcp', srcPort: 40000, dstPort: 80, ...spec } as PacketSpec);
  return decodePacket(frame, LinkType.ETHERNET, T0 + Math.floor(t), Math.round((t % 1) * 1e9));
}

/** The port_verdict fixture: dst port 9000+V answers verdict V (see the .wat). */
export async function portVerdictModule(name = 'port_verdict', policy: FailurePolicy = 'fail-closed'): Promise<EngineModule> {
  const compiled = await loadInspectorFile(join(FIXTURES, 'port_verdict.wat'), name);
  const instance = await InspectorInstance.create(compiled, { clock: 'packet', logger: () => {} });
  return { name, instance, policy };
}

/**
 * A module with a bump allocator, emit_alert and emit_event imported, and this
 * on_batch body ($meta, $count; locals $i $r). `data` is module fields such as
 * data segments (below 65536).
 */
export async function moduleWith(name: string, onBatch: string, init = '', flowEnd = '', data = ''): Promise<InspectorInstance> {
  const wat = `(module
  (import "secuxflow" "emit_alert" (func $emit_alert (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "secuxflow" "emit_event" (func $emit_event (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2 64)
  ${data}
  (global (export "secuxflow_abi_version") i32 (i32.const 1))
  (global $heap (mut i32) (i32.const 65536))
  (func (export "sf_alloc") (param $size i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (global.get $heap))
    (drop (memory.grow (i32.add (i32.shr_u (local.get $size) (i32.const 16)) (i32.const 1))))
    (global.set $heap (i32.add (local.get $ptr) (local.get $size)))
    (local.get $ptr))
  (func (export "on_init") (param i32 i32) (result i32) ${init} (i32.const 0))
  (func (export "on_flow_end") (param i64) ${flowEnd})
  (func (export "on_batch") (param $meta i32) (param $count i32) (result i32) (local $i i32) (local $r i32)
    ${onBatch}
    (i32.const 0)))`;
  const compiled = await compileInspector(name, await watToWasm(wat, `${name}.wat`));
  return InspectorInstance.create(compiled, { clock: 'packet', logger: () => {} });
}
