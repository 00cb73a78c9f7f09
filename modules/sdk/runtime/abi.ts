// ABI v1 numbers as the module sees them. Mirrors host/wasm/abi.ts and
// host/verdict.ts; docs/abi/v1.md is the authority for both.

export const ABI_VERSION: i32 = 1;

export enum Verdict {
  CONTINUE = 0,
  PASS = 1,
  ALLOW_FLOW = 2,
  DROP = 3,
  BLOCK_FLOW = 4,
  BLOCK_SRC = 5,
}

/** Higher wins when a module combines its own verdicts (same order as the host). */
export function verdictRank(v: Verdict): i32 {
  switch (v) {
    case Verdict.ALLOW_FLOW: return 0;
    case Verdict.PASS: return 1;
    case Verdict.CONTINUE: return 2;
    case Verdict.DROP: return 3;
    case Verdict.BLOCK_FLOW: return 4;
    case Verdict.BLOCK_SRC: return 5;
  }
  return 2;
}

/** The more severe of two verdicts. */
export function worst(a: Verdict, b: Verdict): Verdict {
  return verdictRank(b) > verdictRank(a) ? b : a;
}

export enum Status {
  OK = 0,
  BAD_ARGUMENT = 1,
  OUT_OF_BOUNDS = 2,
  LIMIT_REACHED = 3,
  NOT_FOUND = 4,
  INTERNAL = 5,
}

export enum EventKind { DNS = 1, TLS = 2, HTTP = 3, SSH = 4, OTHER = 15 }
export enum LogLevel { DEBUG = 0, INFO = 1, WARN = 2, ERROR = 3 }
export enum Severity { HIGH = 1, MEDIUM = 2, LOW = 3, INFO = 4 }

export namespace MetaFlag {
  export const MALFORMED: u8 = 0x01;
  export const FLOW_START: u8 = 0x02;
  export const REASSEMBLED: u8 = 0x04;
  export const STREAM_GAP: u8 = 0x08;
  export const TRUNCATED: u8 = 0x10;
}

export namespace IpProto {
  export const ICMP: u8 = 1;
  export const TCP: u8 = 6;
  export const UDP: u8 = 17;
  export const ICMPV6: u8 = 58;
}

// Byte offsets inside the 64-byte meta record.
export namespace Meta {
  export const SIZE: usize = 64;
  export const FLOW_ID: usize = 0;
  export const TS_SEC: usize = 8;
  export const TS_NSEC: usize = 12;
  export const PKT_PTR: usize = 16;
  export const PKT_LEN: usize = 20;
  export const PAYLOAD_LEN: usize = 24;
  export const STREAM_PTR: usize = 28;
  export const STREAM_LEN: usize = 32;
  export const STREAM_NEW: usize = 36;
  export const WIRE_LEN: usize = 40;
  export const L3_OFF: usize = 44;
  export const L4_OFF: usize = 46;
  export const PAYLOAD_OFF: usize = 48;
  export const SRC_PORT: usize = 50;
  export const DST_PORT: usize = 52;
  export const VLAN_ID: usize = 54;
  export const IP_VERSION: usize = 56;
  export const L4_PROTO: usize = 57;
  export const TCP_FLAGS: usize = 58;
  export const DIRECTION: usize = 59;
  export const FLAGS: usize = 60;
  export const VERDICT: usize = 61;
  export const VERDICT_ARG: usize = 62;
  export const ABSENT: u16 = 0xffff;
}
