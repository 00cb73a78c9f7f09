// A module that invents a new signature id for every alert must not grow the
// engine's per-signature table (kept for a run's summary, and for the life of
// a live queue) without end.
import { describe, expect, it } from 'vitest';
import { Engine, MAX_TRACKED_SIGNATURES } from '../../../host/engine/engine.js';
import { compileInspector, watToWasm } from '../../../host/wasm/loader.js';
import { InspectorInstance } from '../../../host/wasm/instance.js';
import { packet } from './support.js';

// One alert per packet, sig_id = 1 + source port, with a 1024-byte message.
const SID_PER_PORT = `(module
  (import "secuxflow" "emit_alert" (func $emit_alert (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2 64)
  (global (export "secuxflow_abi_version") i32 (i32.const 1))
  (global $heap (mut i32) (i32.const 65536))
  (func (export "sf_alloc") (param $size i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (global.get $heap))
    (drop (memory.grow (i32.add (i32.shr_u (local.get $size) (i32.const 16)) (i32.const 1))))
    (global.set $heap (i32.add (local.get $ptr) (local.get $size)))
    (local.get $ptr))
  (func (export "on_init") (param i32 i32) (result i32) (memory.fill (i32.const 1024) (i32.const 0x41) (i32.const 1024)) (i32.const 0))
  (func (export "on_flow_end") (param i64))
  (func (export "on_batch") (param $meta i32) (param $count i32) (result i32) (local $i i32)
    (block $d (loop $l (br_if $d (i32.ge_u (local.get $i) (local.get $count)))
      (drop (call $emit_alert (local.get $i)
        (i32.add (i32.const 1) (i32.load16_u offset=50 (i32.add (local.get $meta) (i32.shl (local.get $i) (i32.const 6)))))
        (i32.const 2) (i32.const 1024) (i32.const 1024) (i32.const 0) (i32.const 0)))
      (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $l)))
    (i32.const 0)))`;

describe('a module raising alerts under ever new signature ids', () => {
  it('3000 distinct sids: the first MAX_TRACKED_SIGNATURES are counted one by one, the rest in alertsUntracked, and every alert still reaches its packet', async () => {
    const compiled = await compileInspector('sid_per_port', await watToWasm(SID_PER_PORT, 'sid_per_port.wat'));
    const instance = await InspectorInstance.create(compiled, { clock: 'packet', logger: () => {} });
    let delivered = 0;
    const engine = new Engine({
      rules: { defaultPolicy: 'inspect', rules: [] },
      modules: [{ name: 'sid_per_port', instance }],
      onDecision: (d) => { for (const run of d.modules) delivered += run.alerts.length; },
    });
    const n = 3000;
    for (let i = 0; i < n; i++) engine.pushDecoded(packet({ srcPort: 10_000 + i }, i / 1000));
    engine.pushDecoded(packet({ srcPort: 10_000 }, n / 1000));
    const c = engine.finish();
    expect(delivered).toBe(n + 1);
    expect(c.alerts).toBe(n + 1);
    expect(c.alertsBySignature.size).toBe(MAX_TRACKED_SIGNATURES);
    expect(c.alertsUntracked).toBe(n - MAX_TRACKED_SIGNATURES);
    // A pair already in the table keeps being counted once it is full.
    expect(c.alertsBySignature.get('sid_per_port:10001')).toMatchObject({ sigId: 10_001, count: 2 });
  });
});
