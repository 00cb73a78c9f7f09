;; basic_inspect_wat: a hand-written twin of basic_inspect (index.ts) that
;; proves raw WAT modules work through ABI v1 (docs/abi/v1.md). It implements
;; a SUBSET (README.md "The WAT twin"): the protocol and deny-port policy, and
;; ONE payload pattern (the first object of "patterns"), searched in each
;; packet's payload only: no stream reassembly, no per-flow state, no depth,
;; no ALLOW_FLOW, no alert metadata.
;;
;; Memory map (the module owns all of it; the host only uses what sf_alloc returns):
;;   0x0000..0x03ff  constant strings (data segments)
;;   0x0400..0x04ff  pattern bytes (lower-cased when nocase)
;;   0x0500..0x05ff  pattern message
;;   0x0600..0x06ff  scratch for short config strings
;;   0x0700..0x07ff  allowed[proto] (1 = allowed) when allow_protocols is set
;;   0x10000..0x1ffff deny[port] (1 = denied)
;;   0x20000..        sf_alloc heap (bump allocator, never frees)
(module
  (import "secuxflow" "emit_alert" (func $emit_alert (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "secuxflow" "log_message" (func $log_message (param i32 i32 i32) (result i32)))
  (memory (export "memory") 3 256)
  (global (export "secuxflow_abi_version") i32 (i32.const 1))

  (global $heap (mut i32) (i32.const 0x20000))
  (global $cursor (mut i32) (i32.const 0))
  (global $allow_all (mut i32) (i32.const 1))
  (global $ttl (mut i32) (i32.const 300))
  (global $pat_len (mut i32) (i32.const 0))
  (global $pat_sid (mut i32) (i32.const 0))
  (global $pat_sev (mut i32) (i32.const 2))
  (global $pat_verdict (mut i32) (i32.const 0))
  (global $pat_nocase (mut i32) (i32.const 0))
  (global $msg_len (mut i32) (i32.const 0))

  (data (i32.const 0x000) "\"deny_ports\"")             ;; 12
  (data (i32.const 0x010) "\"allow_protocols\"")        ;; 17
  (data (i32.const 0x030) "\"patterns\"")               ;; 10
  (data (i32.const 0x040) "\"block_ttl\"")              ;; 11
  (data (i32.const 0x050) "\"sid\"")                    ;; 5
  (data (i32.const 0x058) "\"content\"")                ;; 9
  (data (i32.const 0x068) "\"nocase\"")                 ;; 8
  (data (i32.const 0x070) "\"severity\"")               ;; 10
  (data (i32.const 0x080) "\"action\"")                 ;; 8
  (data (i32.const 0x088) "\"msg\"")                    ;; 5
  (data (i32.const 0x090) "tcp")
  (data (i32.const 0x094) "udp")
  (data (i32.const 0x098) "icmp")
  (data (i32.const 0x0a0) "alert")
  (data (i32.const 0x0a8) "drop")
  (data (i32.const 0x0b0) "block_flow")
  (data (i32.const 0x0c0) "block_src")
  (data (i32.const 0x0d0) "true")
  (data (i32.const 0x0e0) "Denied port")                ;; 11
  (data (i32.const 0x0f0) "Protocol not allowed")       ;; 20
  (data (i32.const 0x110) "basic_inspect_wat pattern")  ;; 25
  (data (i32.const 0x130) "' or '1'='1")                ;; 11, default pattern
  (data (i32.const 0x140) "SQL injection tautology")    ;; 23
  (data (i32.const 0x160) "config: deny_ports must be an array of port numbers 0..65535")             ;; 61
  (data (i32.const 0x1a0) "config: allow_protocols must be an array of \"tcp\", \"udp\", \"icmp\"")   ;; 65
  (data (i32.const 0x1f0) "config: block_ttl must be an integer 1..65535")                          ;; 45
  (data (i32.const 0x220) "config: patterns[0] needs sid >= 1 and a content string of 1..255 bytes without escapes") ;; 87
  (data (i32.const 0x280) "config: patterns[0].severity must be 1..4 and action one of alert, drop, block_flow, block_src") ;; 94

  (func (export "sf_alloc") (param $size i32) (result i32)
    (local $ptr i32) (local $end i32) (local $have i32)
    (if (i32.le_s (local.get $size) (i32.const 0)) (then (return (i32.const 0))))
    (local.set $ptr (i32.and (i32.add (global.get $heap) (i32.const 7)) (i32.const -8)))
    (local.set $end (i32.add (local.get $ptr) (local.get $size)))
    (if (i32.lt_u (local.get $end) (local.get $ptr)) (then (return (i32.const 0))))
    (local.set $have (i32.mul (memory.size) (i32.const 65536)))
    (if (i32.gt_u (local.get $end) (local.get $have)) (then
      (if (i32.lt_s (memory.grow (i32.shr_u (i32.add (i32.sub (local.get $end) (local.get $have)) (i32.const 65535)) (i32.const 16))) (i32.const 0))
        (then (return (i32.const 0))))))
    (global.set $heap (local.get $end))
    (local.get $ptr))

  (func $lower (param $c i32) (result i32)
    (if (result i32) (i32.lt_u (i32.sub (local.get $c) (i32.const 65)) (i32.const 26))
      (then (i32.or (local.get $c) (i32.const 0x20))) (else (local.get $c))))

  ;; Index of needle in hay, -1 when absent; nocase compares lower-cased hay bytes.
  (func $find (param $hay i32) (param $len i32) (param $needle i32) (param $nlen i32) (param $nocase i32) (result i32)
    (local $i i32) (local $j i32) (local $c i32)
    (if (i32.gt_s (local.get $nlen) (local.get $len)) (then (return (i32.const -1))))
    (block $none
      (loop $outer
        (br_if $none (i32.gt_s (local.get $i) (i32.sub (local.get $len) (local.get $nlen))))
        (local.set $j (i32.const 0))
        (block $mismatch
          (loop $inner
            (if (i32.ge_s (local.get $j) (local.get $nlen)) (then (return (local.get $i))))
            (local.set $c (i32.load8_u (i32.add (local.get $hay) (i32.add (local.get $i) (local.get $j)))))
            (if (local.get $nocase) (then (local.set $c (call $lower (local.get $c)))))
            (br_if $mismatch (i32.ne (local.get $c) (i32.load8_u (i32.add (local.get $needle) (local.get $j)))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $inner)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $outer)))
    (i32.const -1))

  (func $ws (param $p i32) (param $end i32) (result i32)
    (local $c i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $c (i32.load8_u (local.get $p)))
        (br_if $done (i32.and (i32.ne (local.get $c) (i32.const 32))
          (i32.and (i32.ne (local.get $c) (i32.const 9)) (i32.and (i32.ne (local.get $c) (i32.const 10)) (i32.ne (local.get $c) (i32.const 13))))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $next)))
    (local.get $p))

  ;; Position right after `"key":` in [from, end), or -1.
  (func $key (param $from i32) (param $end i32) (param $key i32) (param $klen i32) (result i32)
    (local $at i32) (local $p i32)
    (if (i32.le_s (local.get $end) (local.get $from)) (then (return (i32.const -1))))
    (local.set $at (call $find (local.get $from) (i32.sub (local.get $end) (local.get $from)) (local.get $key) (local.get $klen) (i32.const 0)))
    (if (i32.lt_s (local.get $at) (i32.const 0)) (then (return (i32.const -1))))
    (local.set $p (call $ws (i32.add (i32.add (local.get $from) (local.get $at)) (local.get $klen)) (local.get $end)))
    (if (i32.or (i32.ge_u (local.get $p) (local.get $end)) (i32.ne (i32.load8_u (local.get $p)) (i32.const 58))) (then (return (i32.const -1))))
    (i32.add (local.get $p) (i32.const 1)))

  ;; Unsigned decimal at p (after spaces), -1 when none; $cursor = first byte after it.
  (func $uint (param $p i32) (param $end i32) (result i32)
    (local $v i32) (local $c i32) (local $n i32)
    (local.set $p (call $ws (local.get $p) (local.get $end)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $c (i32.sub (i32.load8_u (local.get $p)) (i32.const 48)))
        (br_if $done (i32.gt_u (local.get $c) (i32.const 9)))
        (if (i32.gt_u (local.get $v) (i32.const 100000000)) (then (return (i32.const -1))))
        (local.set $v (i32.add (i32.mul (local.get $v) (i32.const 10)) (local.get $c)))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $next)))
    (global.set $cursor (local.get $p))
    (if (result i32) (local.get $n) (then (local.get $v)) (else (i32.const -1))))

  ;; Copies the string at p (after spaces) to dst; its length, or -1 when not a
  ;; plain string (escapes are outside the subset) or longer than max. $cursor = after it.
  (func $str (param $p i32) (param $end i32) (param $dst i32) (param $max i32) (result i32)
    (local $n i32) (local $c i32)
    (local.set $p (call $ws (local.get $p) (local.get $end)))
    (if (i32.or (i32.ge_u (local.get $p) (local.get $end)) (i32.ne (i32.load8_u (local.get $p)) (i32.const 34))) (then (return (i32.const -1))))
    (local.set $p (i32.add (local.get $p) (i32.const 1)))
    (loop $next
      (if (i32.ge_u (local.get $p) (local.get $end)) (then (return (i32.const -1))))
      (local.set $c (i32.load8_u (local.get $p)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (if (i32.eq (local.get $c) (i32.const 34)) (then
        (global.set $cursor (local.get $p))
        (return (local.get $n))))
      (if (i32.or (i32.eq (local.get $c) (i32.const 92)) (i32.ge_s (local.get $n) (local.get $max))) (then (return (i32.const -1))))
      (i32.store8 (i32.add (local.get $dst) (local.get $n)) (local.get $c))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $next))
    (i32.const -1))

  (func $eq (param $a i32) (param $alen i32) (param $b i32) (param $blen i32) (result i32)
    (if (i32.ne (local.get $alen) (local.get $blen)) (then (return (i32.const 0))))
    (i32.eqz (call $find (local.get $a) (local.get $alen) (local.get $b) (local.get $blen) (i32.const 0))))

  ;; After an array item at $cursor: 1 = another item follows, 0 = ']' ended the array, -1 = syntax error.
  (func $next_item (param $end i32) (result i32)
    (local $p i32) (local $c i32)
    (local.set $p (call $ws (global.get $cursor) (local.get $end)))
    (if (i32.ge_u (local.get $p) (local.get $end)) (then (return (i32.const -1))))
    (local.set $c (i32.load8_u (local.get $p)))
    (global.set $cursor (i32.add (local.get $p) (i32.const 1)))
    (if (i32.eq (local.get $c) (i32.const 44)) (then (return (i32.const 1))))
    (if (i32.eq (local.get $c) (i32.const 93)) (then (return (i32.const 0))))
    (i32.const -1))

  ;; Moves $cursor past '[' at p; 0 when the array is empty, 1 when items follow, -1 when p holds no array.
  (func $open_array (param $p i32) (param $end i32) (result i32)
    (local.set $p (call $ws (local.get $p) (local.get $end)))
    (if (i32.or (i32.ge_u (local.get $p) (local.get $end)) (i32.ne (i32.load8_u (local.get $p)) (i32.const 91))) (then (return (i32.const -1))))
    (local.set $p (call $ws (i32.add (local.get $p) (i32.const 1)) (local.get $end)))
    (global.set $cursor (local.get $p))
    (if (i32.and (i32.lt_u (local.get $p) (local.get $end)) (i32.eq (i32.load8_u (local.get $p)) (i32.const 93))) (then
      (global.set $cursor (i32.add (local.get $p) (i32.const 1)))
      (return (i32.const 0))))
    (i32.const 1))

  (func $refuse (param $msg i32) (param $len i32) (result i32)
    (drop (call $log_message (i32.const 3) (local.get $msg) (local.get $len)))
    (i32.const 1))

  (func $set_pattern (param $src i32) (param $len i32)
    (memory.copy (i32.const 0x400) (local.get $src) (local.get $len))
    (global.set $pat_len (local.get $len)))

  (func (export "on_init") (param $ptr i32) (param $len i32) (result i32)
    (local $end i32) (local $k i32) (local $v i32) (local $more i32) (local $obj i32) (local $objend i32) (local $n i32) (local $i i32)
    (if (i32.eqz (local.get $len)) (then
      ;; built-in default: the SQL tautology pattern and telnet ports
      (i32.store8 (i32.add (i32.const 0x10000) (i32.const 23)) (i32.const 1))
      (i32.store8 (i32.add (i32.const 0x10000) (i32.const 2323)) (i32.const 1))
      (call $set_pattern (i32.const 0x130) (i32.const 11))
      (global.set $pat_nocase (i32.const 1))
      (global.set $pat_sid (i32.const 1000001))
      (global.set $pat_sev (i32.const 1))
      (global.set $pat_verdict (i32.const 3))
      (memory.copy (i32.const 0x500) (i32.const 0x140) (i32.const 23))
      (global.set $msg_len (i32.const 23))
      (return (i32.const 0))))
    (local.set $end (i32.add (local.get $ptr) (local.get $len)))

    ;; deny_ports
    (local.set $k (call $key (local.get $ptr) (local.get $end) (i32.const 0x000) (i32.const 12)))
    (if (i32.ge_s (local.get $k) (i32.const 0)) (then
      (local.set $more (call $open_array (local.get $k) (local.get $end)))
      (if (i32.lt_s (local.get $more) (i32.const 0)) (then (return (call $refuse (i32.const 0x160) (i32.const 61)))))
      (block $done (loop $next
        (br_if $done (i32.eqz (local.get $more)))
        (local.set $v (call $uint (global.get $cursor) (local.get $end)))
        (if (i32.or (i32.lt_s (local.get $v) (i32.const 0)) (i32.gt_s (local.get $v) (i32.const 65535))) (then (return (call $refuse (i32.const 0x160) (i32.const 61)))))
        (i32.store8 (i32.add (i32.const 0x10000) (local.get $v)) (i32.const 1))
        (local.set $more (call $next_item (local.get $end)))
        (if (i32.lt_s (local.get $more) (i32.const 0)) (then (return (call $refuse (i32.const 0x160) (i32.const 61)))))
        (br $next)))))

    ;; allow_protocols
    (local.set $k (call $key (local.get $ptr) (local.get $end) (i32.const 0x010) (i32.const 17)))
    (if (i32.ge_s (local.get $k) (i32.const 0)) (then
      (global.set $allow_all (i32.const 0))
      (local.set $more (call $open_array (local.get $k) (local.get $end)))
      (if (i32.lt_s (local.get $more) (i32.const 0)) (then (return (call $refuse (i32.const 0x1a0) (i32.const 65)))))
      (block $done (loop $next
        (br_if $done (i32.eqz (local.get $more)))
        (local.set $n (call $str (global.get $cursor) (local.get $end) (i32.const 0x600) (i32.const 16)))
        (local.set $v (i32.const 0))
        (if (call $eq (i32.const 0x600) (local.get $n) (i32.const 0x090) (i32.const 3)) (then
          (local.set $v (i32.const 1)) (i32.store8 (i32.const 0x706) (i32.const 1))))
        (if (call $eq (i32.const 0x600) (local.get $n) (i32.const 0x094) (i32.const 3)) (then
          (local.set $v (i32.const 1)) (i32.store8 (i32.const 0x711) (i32.const 1))))
        (if (call $eq (i32.const 0x600) (local.get $n) (i32.const 0x098) (i32.const 4)) (then
          (local.set $v (i32.const 1)) (i32.store8 (i32.const 0x701) (i32.const 1)) (i32.store8 (i32.const 0x73a) (i32.const 1))))
        (if (i32.eqz (local.get $v)) (then (return (call $refuse (i32.const 0x1a0) (i32.const 65)))))
        (local.set $more (call $next_item (local.get $end)))
        (if (i32.lt_s (local.get $more) (i32.const 0)) (then (return (call $refuse (i32.const 0x1a0) (i32.const 65)))))
        (br $next)))))

    ;; block_ttl
    (local.set $k (call $key (local.get $ptr) (local.get $end) (i32.const 0x040) (i32.const 11)))
    (if (i32.ge_s (local.get $k) (i32.const 0)) (then
      (local.set $v (call $uint (local.get $k) (local.get $end)))
      (if (i32.or (i32.lt_s (local.get $v) (i32.const 1)) (i32.gt_s (local.get $v) (i32.const 65535))) (then (return (call $refuse (i32.const 0x1f0) (i32.const 45)))))
      (global.set $ttl (local.get $v))))

    ;; patterns: only the first object is used
    (local.set $k (call $key (local.get $ptr) (local.get $end) (i32.const 0x030) (i32.const 10)))
    (if (i32.ge_s (local.get $k) (i32.const 0)) (then
      (local.set $i (local.get $k))
      (block $found (loop $scan
        (if (i32.ge_u (local.get $i) (local.get $end)) (then (return (i32.const 0))))
        (br_if $found (i32.eq (i32.load8_u (local.get $i)) (i32.const 123)))
        ;; an empty array: no pattern
        (if (i32.eq (i32.load8_u (local.get $i)) (i32.const 93)) (then (return (i32.const 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $scan)))
      (local.set $obj (local.get $i))
      (block $closed (loop $scan2
        (if (i32.ge_u (local.get $i) (local.get $end)) (then (return (call $refuse (i32.const 0x220) (i32.const 87)))))
        (br_if $closed (i32.eq (i32.load8_u (local.get $i)) (i32.const 125)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $scan2)))
      (local.set $objend (local.get $i))

      (local.set $k (call $key (local.get $obj) (local.get $objend) (i32.const 0x050) (i32.const 5)))
      (local.set $v (if (result i32) (i32.ge_s (local.get $k) (i32.const 0)) (then (call $uint (local.get $k) (local.get $objend))) (else (i32.const -1))))
      (if (i32.lt_s (local.get $v) (i32.const 1)) (then (return (call $refuse (i32.const 0x220) (i32.const 87)))))
      (global.set $pat_sid (local.get $v))

      (local.set $k (call $key (local.get $obj) (local.get $objend) (i32.const 0x058) (i32.const 9)))
      (local.set $n (if (result i32) (i32.ge_s (local.get $k) (i32.const 0)) (then (call $str (local.get $k) (local.get $objend) (i32.const 0x400) (i32.const 255))) (else (i32.const -1))))
      (if (i32.lt_s (local.get $n) (i32.const 1)) (then (return (call $refuse (i32.const 0x220) (i32.const 87)))))
      (global.set $pat_len (local.get $n))

      (local.set $k (call $key (local.get $obj) (local.get $objend) (i32.const 0x068) (i32.const 8)))
      (if (i32.ge_s (local.get $k) (i32.const 0)) (then
        (local.set $k (call $ws (local.get $k) (local.get $objend)))
        (if (i32.eqz (call $find (local.get $k) (i32.sub (local.get $objend) (local.get $k)) (i32.const 0x0d0) (i32.const 4) (i32.const 0))) (then
          (global.set $pat_nocase (i32.const 1))
          (local.set $i (i32.const 0))
          (block $done (loop $low
            (br_if $done (i32.ge_u (local.get $i) (global.get $pat_len)))
            (i32.store8 (i32.add (i32.const 0x400) (local.get $i)) (call $lower (i32.load8_u (i32.add (i32.const 0x400) (local.get $i)))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $low)))))))

      (local.set $k (call $key (local.get $obj) (local.get $objend) (i32.const 0x070) (i32.const 10)))
      (if (i32.ge_s (local.get $k) (i32.const 0)) (then
        (local.set $v (call $uint (local.get $k) (local.get $objend)))
        (if (i32.or (i32.lt_s (local.get $v) (i32.const 1)) (i32.gt_s (local.get $v) (i32.const 4))) (then (return (call $refuse (i32.const 0x280) (i32.const 94)))))
        (global.set $pat_sev (local.get $v))))

      (local.set $k (call $key (local.get $obj) (local.get $objend) (i32.const 0x080) (i32.const 8)))
      (if (i32.ge_s (local.get $k) (i32.const 0)) (then
        (local.set $n (call $str (local.get $k) (local.get $objend) (i32.const 0x600) (i32.const 16)))
        (local.set $v (i32.const -1))
        (if (call $eq (i32.const 0x600) (local.get $n) (i32.const 0x0a0) (i32.const 5)) (then (local.set $v (i32.const 0))))
        (if (call $eq (i32.const 0x600) (local.get $n) (i32.const 0x0a8) (i32.const 4)) (then (local.set $v (i32.const 3))))
        (if (call $eq (i32.const 0x600) (local.get $n) (i32.const 0x0b0) (i32.const 10)) (then (local.set $v (i32.const 4))))
        (if (call $eq (i32.const 0x600) (local.get $n) (i32.const 0x0c0) (i32.const 9)) (then (local.set $v (i32.const 5))))
        (if (i32.lt_s (local.get $v) (i32.const 0)) (then (return (call $refuse (i32.const 0x280) (i32.const 94)))))
        (global.set $pat_verdict (local.get $v))))

      (local.set $k (call $key (local.get $obj) (local.get $objend) (i32.const 0x088) (i32.const 5)))
      (local.set $n (if (result i32) (i32.ge_s (local.get $k) (i32.const 0)) (then (call $str (local.get $k) (local.get $objend) (i32.const 0x500) (i32.const 255))) (else (i32.const -1))))
      (if (i32.lt_s (local.get $n) (i32.const 0)) (then
        (memory.copy (i32.const 0x500) (i32.const 0x110) (i32.const 25))
        (local.set $n (i32.const 25))))
      (global.set $msg_len (local.get $n))))
    (i32.const 0))

  (func $decide (param $m i32) (param $i i32) (result i32)
    (local $proto i32) (local $port i32) (local $off i32) (local $plen i32) (local $v i32)
    (if (i32.eqz (i32.load8_u offset=56 (local.get $m))) (then (return (i32.const 1))))
    (local.set $proto (i32.load8_u offset=57 (local.get $m)))
    (if (i32.and (i32.eqz (global.get $allow_all)) (i32.eqz (i32.load8_u offset=0x700 (local.get $proto)))) (then
      (drop (call $emit_alert (local.get $i) (i32.const 1000102) (i32.const 2) (i32.const 0x0f0) (i32.const 20) (i32.const 0) (i32.const 0)))
      (return (i32.const 4))))
    (if (i32.or (i32.eq (local.get $proto) (i32.const 6)) (i32.eq (local.get $proto) (i32.const 17))) (then
      (local.set $port (if (result i32) (i32.load8_u offset=59 (local.get $m))
        (then (i32.load16_u offset=50 (local.get $m))) (else (i32.load16_u offset=52 (local.get $m)))))
      (if (i32.load8_u offset=0x10000 (local.get $port)) (then
        (drop (call $emit_alert (local.get $i) (i32.const 1000101) (i32.const 2) (i32.const 0x0e0) (i32.const 11) (i32.const 0) (i32.const 0)))
        (return (i32.const 4))))))
    (if (i32.eqz (global.get $pat_len)) (then (return (i32.const 0))))
    (local.set $off (i32.load16_u offset=48 (local.get $m)))
    (local.set $plen (i32.load offset=24 (local.get $m)))
    (if (i32.or (i32.eq (local.get $off) (i32.const 0xffff)) (i32.eqz (local.get $plen))) (then (return (i32.const 0))))
    (if (i32.lt_s (call $find (i32.add (i32.load offset=16 (local.get $m)) (local.get $off)) (local.get $plen)
          (i32.const 0x400) (global.get $pat_len) (global.get $pat_nocase)) (i32.const 0))
      (then (return (i32.const 0))))
    (drop (call $emit_alert (local.get $i) (global.get $pat_sid) (global.get $pat_sev) (i32.const 0x500) (global.get $msg_len) (i32.const 0) (i32.const 0)))
    (local.set $v (global.get $pat_verdict))
    (if (i32.eq (local.get $v) (i32.const 5)) (then (i32.store16 offset=62 (local.get $m) (global.get $ttl))))
    (local.get $v))

  (func (export "on_batch") (param $meta i32) (param $count i32) (result i32)
    (local $i i32) (local $m i32)
    (local.set $m (local.get $meta))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (i32.store8 offset=61 (local.get $m) (call $decide (local.get $m) (local.get $i)))
        (local.set $m (i32.add (local.get $m) (i32.const 64)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.const 0))

  ;; No per-flow state to free.
  (func (export "on_flow_end") (param $id i64))
)
