// ABI v1 constants: the TypeScript mirror of docs/abi/v1.md. The spec document
// is the authority; test/host/wasm checks these numbers against it.

export const ABI_VERSION = 1;

/** Exported immutable i32 global whose value is the module's ABI version. */
export const ABI_MARKER_EXPORT = 'secuxflow_abi_version';
/** Import module name of every hostcall. */
export const HOSTCALL_NAMESPACE = 'secuxflow';

/** One packet's metadata record in module memory. Little-endian, 64 bytes, 8-aligned. */
export const META = {
  SIZE: 64,
  FLOW_ID: 0,       // u64
  TS_SEC: 8,        // u32
  TS_NSEC: 12,      // u32
  PKT_PTR: 16,      // u32  packet bytes (from the L2 header) in module memory
  PKT_LEN: 20,      // u32  captured bytes at PKT_PTR
  PAYLOAD_LEN: 24,  // u32  L4 payload length
  STREAM_PTR: 28,   // u32  in-order stream bytes of this direction, 0 when none
  STREAM_LEN: 32,   // u32
  STREAM_NEW: 36,   // u32  how many of the last STREAM_LEN bytes this packet added
  WIRE_LEN: 40,     // u32  original length on the wire
  L3_OFF: 44,       // u16  0xFFFF when absent
  L4_OFF: 46,       // u16  0xFFFF when absent
  PAYLOAD_OFF: 48,  // u16  0xFFFF when absent
  SRC_PORT: 50,     // u16
  DST_PORT: 52,     // u16
  VLAN_ID: 54,      // u16  outermost VLAN id, 0 when untagged
  IP_VERSION: 56,   // u8   4, 6 or 0
  L4_PROTO: 57,     // u8   IP protocol number
  TCP_FLAGS: 58,    // u8
  DIRECTION: 59,    // u8   0 to server, 1 to client
  FLAGS: 60,        // u8   META_FLAG_*
  VERDICT: 61,      // u8   out: written by the module
  VERDICT_ARG: 62,  // u16  out: BLOCK_SRC ttl in seconds (0 = module default of 60 s)
} as const;

export const META_ABSENT_U16 = 0xffff;

export const MetaFlag = {
  MALFORMED: 0x01,    // the host could not fully parse the packet
  FLOW_START: 0x02,   // first packet of the flow seen by this module
  REASSEMBLED: 0x04,  // the packet was rebuilt from IP fragments
  STREAM_GAP: 0x08,   // no more in-order bytes will follow (depth reached, or cut to the module's memory); not set at a hole
  TRUNCATED: 0x10,    // captured bytes < wire length
} as const;

/** Status values returned by hostcalls and by on_init / on_batch. */
export const Status = {
  OK: 0,
  BAD_ARGUMENT: 1,
  OUT_OF_BOUNDS: 2,
  LIMIT_REACHED: 3,  // e.g. alert budget for this batch used up
  NOT_FOUND: 4,
  INTERNAL: 5,
} as const;

/** Protocol metadata event kinds for emit_event. */
export const EventKind = { DNS: 1, TLS: 2, HTTP: 3, SSH: 4, OTHER: 15 } as const;

export const LogLevel = { DEBUG: 0, INFO: 1, WARN: 2, ERROR: 3 } as const;

/** Severity of alerts, as Suricata: 1 high, 2 medium, 3 low, 4 info. */
export const Severity = { HIGH: 1, MEDIUM: 2, LOW: 3, INFO: 4 } as const;

/** Wasm value types as the loader reports them. */
export type AbiValType = 'i32' | 'i64';
export interface AbiSignature { params: readonly AbiValType[]; results: readonly AbiValType[] }

/** Function exports every v1 module must have, with their exact signatures (plus `memory`). */
export const REQUIRED_EXPORTS: Readonly<Record<'sf_alloc' | 'on_init' | 'on_batch' | 'on_flow_end', AbiSignature>> = {
  sf_alloc: { params: ['i32'], results: ['i32'] },
  on_init: { params: ['i32', 'i32'], results: ['i32'] },
  on_batch: { params: ['i32', 'i32'], results: ['i32'] },
  on_flow_end: { params: ['i64'], results: [] },
};
export const MEMORY_EXPORT = 'memory';

/** Hostcalls of v1 (import module HOSTCALL_NAMESPACE) and their signatures. */
export const HOSTCALLS: Readonly<Record<'emit_alert' | 'emit_event' | 'log_message' | 'get_time_ns', AbiSignature>> = {
  emit_alert: { params: ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'], results: ['i32'] },
  emit_event: { params: ['i32', 'i32', 'i32', 'i32'], results: ['i32'] },
  log_message: { params: ['i32', 'i32', 'i32'], results: ['i32'] },
  get_time_ns: { params: [], results: ['i64'] },
};

/** pkt_index value meaning "not tied to a packet of the current batch". */
export const NO_PACKET = -1;

/** Default limits the host enforces per module (docs/abi/v1.md "Limits"). */
export const DEFAULT_LIMITS = {
  /** emit_alert calls accepted per budget period (docs/abi/v1.md "Limits"); a batch gets this per BATCH_CAPACITY packets. */
  ALERTS_PER_BATCH: 256,
  /** emit_event calls accepted per budget period, as alerts. */
  EVENTS_PER_BATCH: 256,
  /** log_message calls accepted per budget period, as alerts. */
  LOGS_PER_CALL: 32,
  /** Largest alert metadata or event JSON, in bytes. */
  MAX_JSON_BYTES: 16 * 1024,
  /** Largest alert message or log line, in bytes. */
  MAX_MESSAGE_BYTES: 1024,
  /** Meta records in the batch area. */
  BATCH_CAPACITY: 256,
  /** Bytes of packet and stream data in the batch area. */
  DATA_CAPACITY: 1024 * 1024,
  /** Largest linear memory a module may grow to; wasm memory is outside Node's heap limits, so the host checks it. */
  MAX_MEMORY_BYTES: 256 * 1024 * 1024,
  /** BLOCK_SRC ttl when VERDICT_ARG is 0, in seconds. */
  BLOCK_SRC_TTL_DEFAULT: 60,
} as const;
