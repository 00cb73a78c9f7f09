;; port_guard: a small port and payload policy, written twice: as this ABI v1
;; core module and as a component (modules/component_twin/). Both must give the
;; same verdicts and alerts on the same capture (test/host/wasm/component-twin.test.ts).
(module
  (import "secuxflow" "emit_alert" (func $emit_alert (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2 256)
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

  ;; Meta record fields (docs/abi/v1.md section 4): PKT_PTR 16, PKT_LEN 20,
  ;; PAYLOAD_LEN 24, PAYLOAD_OFF 48, DST_PORT 52, L4_PROTO 57, VERDICT 61.
  (func (export "on_batch") (param $meta i32) (param $count i32) (result i32)
    (local $i i32) (local $rec i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $rec (i32.add (local.get $meta) (i32.shl (local.get $i) (i32.const 6))))
        (i32.store8 offset=61 (local.get $rec)
          (call $decide (i32.load offset=16 (local.get $rec)) (i32.load offset=20 (local.get $rec))
                        (i32.load8_u offset=57 (local.get $rec)) (i32.load16_u offset=52 (local.get $rec))
                        (i32.load16_u offset=48 (local.get $rec)) (i32.load offset=24 (local.get $rec)) (local.get $i)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.const 0))

  ;; --- shared with the other twin: the policy itself -------------------------
  ;; TCP to 23/2323: DROP with alert 2000101. Payload containing "/etc/passwd":
  ;; BLOCK_FLOW with alert 2000102. Anything else: CONTINUE.
  (data (i32.const 256) "Telnet port in use")
  (data (i32.const 288) "/etc/passwd in payload")
  (data (i32.const 320) "/etc/passwd")

  (func $find (param $hay i32) (param $hlen i32) (param $needle i32) (param $nlen i32) (result i32)
    (local $i i32) (local $j i32) (local $last i32)
    (if (i32.lt_u (local.get $hlen) (local.get $nlen)) (then (return (i32.const 0))))
    (local.set $last (i32.sub (local.get $hlen) (local.get $nlen)))
    (block $none
      (loop $at
        (local.set $j (i32.const 0))
        (block $mismatch
          (loop $cmp
            (br_if $mismatch (i32.ne (i32.load8_u (i32.add (local.get $hay) (i32.add (local.get $i) (local.get $j))))
                                     (i32.load8_u (i32.add (local.get $needle) (local.get $j)))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (if (i32.eq (local.get $j) (local.get $nlen)) (then (return (i32.const 1))))
            (br $cmp)))
        (br_if $none (i32.ge_u (local.get $i) (local.get $last)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $at)))
    (i32.const 0))

  (func $decide (param $frame i32) (param $len i32) (param $proto i32) (param $dport i32)
                (param $poff i32) (param $plen i32) (param $idx i32) (result i32)
    (if (i32.and (i32.eq (local.get $proto) (i32.const 6))
                 (i32.or (i32.eq (local.get $dport) (i32.const 23)) (i32.eq (local.get $dport) (i32.const 2323))))
      (then
        (drop (call $emit_alert (local.get $idx) (i32.const 2000101) (i32.const 2) (i32.const 256) (i32.const 18) (i32.const 0) (i32.const 0)))
        (return (i32.const 3))))
    (if (i32.or (i32.eq (local.get $poff) (i32.const 0xffff)) (i32.ge_u (local.get $poff) (local.get $len)))
      (then (return (i32.const 0))))
    (if (i32.gt_u (local.get $plen) (i32.sub (local.get $len) (local.get $poff)))
      (then (local.set $plen (i32.sub (local.get $len) (local.get $poff)))))
    (if (call $find (i32.add (local.get $frame) (local.get $poff)) (local.get $plen) (i32.const 320) (i32.const 11))
      (then
        (drop (call $emit_alert (local.get $idx) (i32.const 2000102) (i32.const 1) (i32.const 288) (i32.const 22) (i32.const 0) (i32.const 0)))
        (return (i32.const 4))))
    (i32.const 0))
  ;; --- end of the shared part --------------------------------------------------
)
