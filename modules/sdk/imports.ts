// Hostcalls: what the module imports from the host (import module "secuxflow").
// Declarations only; see docs/abi/v1.md for parameters and status values.

@external("secuxflow", "emit_alert")
export declare function emit_alert(pkt_index: i32, sig_id: i32, severity: i32, msg_ptr: i32, msg_len: i32, meta_ptr: i32, meta_len: i32): i32;

@external("secuxflow", "emit_event")
export declare function emit_event(pkt_index: i32, kind: i32, json_ptr: i32, json_len: i32): i32;

@external("secuxflow", "log_message")
export declare function log_message(level: i32, ptr: i32, len: i32): i32;

@external("secuxflow", "get_time_ns")
export declare function get_time_ns(): i64;
