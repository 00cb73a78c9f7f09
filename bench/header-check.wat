;; The issue's reference floor: a trivial header check looped over a batch
;; inside WASM, parsing each frame itself (Ethernet, IPv4 header length,
;; TCP destination port 80) from PKT_PTR/PKT_LEN with bounds checks, instead
;; of reading the fields the host already parsed (port80.wat does that).
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
  ;; 1 when the frame at $p (length $len) is IPv4 TCP to port 80.
  (func $port80 (param $p i32) (param $len i32) (result i32)
    (local $l4 i32)
    (if (i32.lt_u (local.get $len) (i32.const 34)) (then (return (i32.const 0))))
    ;; EtherType 0x0800, read big-endian
    (if (i32.ne (i32.or (i32.shl (i32.load8_u offset=12 (local.get $p)) (i32.const 8)) (i32.load8_u offset=13 (local.get $p))) (i32.const 0x0800))
      (then (return (i32.const 0))))
    (if (i32.ne (i32.shr_u (i32.load8_u offset=14 (local.get $p)) (i32.const 4)) (i32.const 4)) (then (return (i32.const 0))))
    (if (i32.ne (i32.load8_u offset=23 (local.get $p)) (i32.const 6)) (then (return (i32.const 0))))
    (local.set $l4 (i32.add (i32.const 14) (i32.shl (i32.and (i32.load8_u offset=14 (local.get $p)) (i32.const 15)) (i32.const 2))))
    (if (i32.gt_u (i32.add (local.get $l4) (i32.const 4)) (local.get $len)) (then (return (i32.const 0))))
    (local.set $l4 (i32.add (local.get $p) (local.get $l4)))
    (i32.eq (i32.or (i32.shl (i32.load8_u offset=2 (local.get $l4)) (i32.const 8)) (i32.load8_u offset=3 (local.get $l4))) (i32.const 80)))
  (func (export "on_batch") (param $meta i32) (param $count i32) (result i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $meta) (i32.mul (local.get $count) (i32.const 64))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $meta) (local.get $end)))
        ;; VERDICT (offset 61): PASS for port 80, CONTINUE otherwise
        (i32.store8 offset=61 (local.get $meta)
          (call $port80 (i32.load offset=16 (local.get $meta)) (i32.load offset=20 (local.get $meta))))
        (local.set $meta (i32.add (local.get $meta) (i32.const 64)))
        (br $next)))
    (i32.const 0))
  (func (export "on_flow_end") (param i64))
)
