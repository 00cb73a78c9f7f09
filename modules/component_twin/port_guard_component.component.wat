;; port_guard as a component: the core module inside it, written against the
;; canonical ABI of world secuxflow:inspector/inspector (modules/wit). The build
;; (scripts/build-components.mjs) embeds the WIT and wraps it with jco.
;; Its policy is the same code as modules/port_guard/port_guard.wat.
;;
;; Memory: [0, 1024) constants and the return area; everything from 64 KiB is
;; a bump heap that cabi_realloc hands out while the host lowers a call's
;; arguments, and that the post-return of inspect-batch resets.
(module
  (import "secuxflow:inspector/host@1.0.0" "emit-alert" (func $emit_alert (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (global $heap (mut i32) (i32.const 65536))

  (func $alloc (export "cabi_realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $size i32) (result i32)
    (local $ptr i32) (local $end i32)
    (local.set $ptr (i32.and (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get $align))))
    (local.set $end (i32.add (local.get $ptr) (local.get $size)))
    (if (i32.gt_u (local.get $end) (i32.shl (memory.size) (i32.const 16)))
      (then
        (if (i32.lt_s
              (memory.grow (i32.sub (i32.shr_u (i32.add (local.get $end) (i32.const 65535)) (i32.const 16)) (memory.size)))
              (i32.const 0))
          (then unreachable))))
    (global.set $heap (local.get $end))
    (if (local.get $old)
      (then (memory.copy (local.get $ptr) (local.get $old) (local.get $old_size))))
    (local.get $ptr))

  (func (export "abi-version") (result i32) (i32.const 1))
  (func (export "init") (param i32 i32) (result i32) (i32.const 0))
  (func (export "flow-end") (param i64))

  ;; packet record (64 bytes): frame ptr 28, frame len 32, payload-len 20,
  ;; payload-off 48, dst-port 52, l4-proto 57. verdict record: 4 bytes.
  (func (export "inspect-batch") (param $list i32) (param $count i32) (result i32)
    (local $i i32) (local $rec i32) (local $out i32)
    (local.set $out (call $alloc (i32.const 0) (i32.const 0) (i32.const 2) (i32.shl (local.get $count) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $rec (i32.add (local.get $list) (i32.shl (local.get $i) (i32.const 6))))
        (i32.store8 (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2)))
          (call $decide (i32.load offset=28 (local.get $rec)) (i32.load offset=32 (local.get $rec))
                        (i32.load8_u offset=57 (local.get $rec)) (i32.load16_u offset=52 (local.get $rec))
                        (i32.load16_u offset=48 (local.get $rec)) (i32.load offset=20 (local.get $rec)) (local.get $i)))
        (i32.store16 offset=2 (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (i32.const 0))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.store (i32.const 16) (local.get $out))
    (i32.store (i32.const 20) (local.get $count))
    (i32.const 16))

  (func (export "cabi_post_inspect-batch") (param i32)
    (global.set $heap (i32.const 65536)))

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
