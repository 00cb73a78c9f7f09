;; Benchmark floor: the trivial "IPv4 TCP dst port 80" check over a batch,
;; looped inside WASM on the host's meta records (no payload access).
(module
  (memory (export "memory") 32 256)
  (global (export "secuxflow_abi_version") i32 (i32.const 1))
  (global $heap (mut i32) (i32.const 1024))
  (func (export "sf_alloc") (param $size i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (global.get $heap))
    (global.set $heap (i32.and (i32.add (i32.add (local.get $ptr) (local.get $size)) (i32.const 7)) (i32.const -8)))
    (if (i32.gt_u (global.get $heap) (i32.shl (memory.size) (i32.const 16))) (then (return (i32.const 0))))
    (local.get $ptr))
  (func (export "on_init") (param i32 i32) (result i32) (i32.const 0))
  (func (export "on_batch") (param $meta i32) (param $count i32) (result i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $meta) (i32.mul (local.get $count) (i32.const 64))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $meta) (local.get $end)))
        (i32.store8 offset=61 (local.get $meta)
          (i32.and
            (i32.and (i32.eq (i32.load8_u offset=56 (local.get $meta)) (i32.const 4))
                     (i32.eq (i32.load8_u offset=57 (local.get $meta)) (i32.const 6)))
            (i32.eq (i32.load16_u offset=52 (local.get $meta)) (i32.const 80))))
        (local.set $meta (i32.add (local.get $meta) (i32.const 64)))
        (br $next)))
    (i32.const 0))
  (func (export "on_flow_end") (param i64))
)
