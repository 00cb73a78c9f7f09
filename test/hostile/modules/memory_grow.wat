;; Hostile: grows its memory one page at a time, touching every page, and traps
;; when growth is refused. No declared maximum: the sandbox ceiling must apply.
(module
  (memory (export "memory") 2)
  (global (export "secuxflow_abi_version") i32 (i32.const 1))
  (global $heap (mut i32) (i32.const 65536))
  (func (export "sf_alloc") (param $size i32) (result i32)
    (local $ptr i32) (local $end i32)
    (local.set $ptr (global.get $heap))
    (local.set $end (i32.and (i32.add (i32.add (local.get $ptr) (local.get $size)) (i32.const 7)) (i32.const -8)))
    (if (i32.gt_u (local.get $end) (i32.shl (memory.size) (i32.const 16)))
      (then
        (if (i32.lt_s
              (memory.grow (i32.sub (i32.shr_u (i32.add (local.get $end) (i32.const 65535)) (i32.const 16)) (memory.size)))
              (i32.const 0))
          (then (return (i32.const 0))))))
    (global.set $heap (local.get $end))
    (local.get $ptr))
  (func (export "on_init") (param i32 i32) (result i32) (i32.const 0))
  (func (export "on_flow_end") (param i64))
  (func (export "on_batch") (param i32 i32) (result i32)
    (local $old i32)
    (loop $more
      (local.set $old (memory.grow (i32.const 1)))
      (if (i32.lt_s (local.get $old) (i32.const 0)) (then unreachable))
      (i32.store8 (i32.shl (local.get $old) (i32.const 16)) (i32.const 1))
      (br $more))
    (i32.const 0))
)
