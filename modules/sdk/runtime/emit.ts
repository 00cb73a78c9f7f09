// Thin wrappers over the hostcalls: encode strings to UTF-8 and pass the
// packet's batch index. Each returns the hostcall's Status.
import { emit_alert, emit_event, log_message, get_time_ns } from "../imports";
import { Packet } from "./packet";
import { EventKind, LogLevel } from "./abi";

// Text built from wire bytes can hold unpaired surrogates; the host reads
// strict UTF-8 and would refuse the whole alert, so they become U+FFFD here.
function utf8(s: string): ArrayBuffer {
  return String.UTF8.encode(s, false, String.UTF8.ErrorMode.REPLACE);
}

/** Reports an alert tied to pkt (or to no packet when pkt is null). metaJson must be a JSON object or null. */
export function alert(pkt: Packet | null, sigId: i32, severity: i32, msg: string, metaJson: string | null = null): i32 {
  const m = utf8(msg);
  const index = pkt === null ? -1 : pkt.index;
  if (metaJson === null) {
    return emit_alert(index, sigId, severity, <i32>changetype<usize>(m), m.byteLength, 0, 0);
  }
  const j = utf8(metaJson);
  return emit_alert(index, sigId, severity, <i32>changetype<usize>(m), m.byteLength, <i32>changetype<usize>(j), j.byteLength);
}

/** Reports protocol metadata (Suricata field names inside json, which must be an object). */
export function event(pkt: Packet | null, kind: EventKind, json: string): i32 {
  const j = utf8(json);
  return emit_event(pkt === null ? -1 : pkt.index, kind, <i32>changetype<usize>(j), j.byteLength);
}

export function log(level: LogLevel, msg: string): i32 {
  const m = utf8(msg);
  return log_message(level, <i32>changetype<usize>(m), m.byteLength);
}

/** Nanoseconds since the epoch: packet time offline, wall clock live. */
export function nowNs(): i64 {
  return get_time_ns();
}
