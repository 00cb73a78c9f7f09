;; Hostile: builds a 1 MB JSON object in on_init and attaches it to an alert and
;; an event for every packet. The host must refuse it (size cap), not copy it.
(module
  (import "secuxflow" "emit_alert" (func $emit_alert (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "secuxflow" "emit_event" (func $emit_event (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 80 256)
  (data (i32.const 64) "huge")
  (data (i32.const 3145728) "{\"a\":\"")
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
  (func (export "on_flow_end") (param i64))
  ;; JSON at 3 MiB: {"a":"xxxx...x"} of 1,048,576 bytes in all.
  (func (export "on_init") (param i32 i32) (result i32)
    (memory.fill (i32.const 3145734) (i32.const 120) (i32.const 1048568))
    (i32.store16 (i32.const 4194302) (i32.const 0x7d22))
    (i32.const 0))
  (func (export "on_batch") (param $meta i32) (param $count i32) (result i32)
    (local $i i32)
    (loop $more
      (drop (call $emit_alert (local.get $i) (i32.const 7002) (i32.const 3) (i32.const 64) (i32.const 4)
                              (i32.const 3145728) (i32.const 1048576)))
      (drop (call $emit_event (local.get $i) (i32.const 15) (i32.const 3145728) (i32.const 1048576)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $more (i32.lt_u (local.get $i) (local.get $count))))
    (i32.const 0))
)
