// Thin wrappers over the hostcalls: encode strings to UTF-8 and pass the
// packet's batch index. Each returns the hostcall's Status.
import { emit_alert, emit_event, log_message, get_time_ns } from "../imports";
import { Packet } from "./packet";
import { EventKind, LogLevel, Status } from "./abi";

// Text built from wire bytes can hold unpaired surrogates; the host reads
// strict UTF-8 and would refuse the whole alert, so they become U+FFFD here.
function utf8(s: string): ArrayBuffer {
  return String.UTF8.encode(s, false, String.UTF8.ErrorMode.REPLACE);
}

// The host records nothing for a refused alert or event, and a status nobody
// checks leaves the author with no alert and no reason: say why in the log.
// 1st, 2nd, 4th, 8th... time only, since the mistake usually repeats on every packet.
let alertsRefused = 0;
let eventsRefused = 0;

@inline function worthLogging(count: i32): bool { return (count & (count - 1)) == 0; }

@inline function isMistake(status: i32): bool { return status == Status.BAD_ARGUMENT || status == Status.OUT_OF_BOUNDS; }

function statusName(status: i32): string { return status == Status.BAD_ARGUMENT ? "BAD_ARGUMENT" : "OUT_OF_BOUNDS"; }

/** Reports an alert tied to pkt (or to no packet when pkt is null). metaJson must be a JSON object or null. */
export function alert(pkt: Packet | null, sigId: i32, severity: i32, msg: string, metaJson: string | null = null): i32 {
  const m = utf8(msg);
  const index = pkt === null ? -1 : pkt.index;
  let status: i32;
  if (metaJson === null) {
    status = emit_alert(index, sigId, severity, <i32>changetype<usize>(m), m.byteLength, 0, 0);
  } else {
    const j = utf8(metaJson);
    status = emit_alert(index, sigId, severity, <i32>changetype<usize>(m), m.byteLength, <i32>changetype<usize>(j), j.byteLength);
  }
  if (isMistake(status) && worthLogging(++alertsRefused)) {
    const why = sigId <= 0 || severity < 1 || severity > 255
      ? "sig_id must be above 0 and severity 1..255"
      : "its metadata must be a JSON object, at most 32 levels deep";
    log(LogLevel.WARN, "alert " + sigId.toString() + " (\"" + msg + "\") was refused by the host (" + statusName(status) + "): " + why);
  }
  return status;
}

/** Reports protocol metadata (Suricata field names inside json, which must be an object). */
export function event(pkt: Packet | null, kind: EventKind, json: string): i32 {
  const j = utf8(json);
  const status = emit_event(pkt === null ? -1 : pkt.index, kind, <i32>changetype<usize>(j), j.byteLength);
  if (isMistake(status) && worthLogging(++eventsRefused)) {
    log(LogLevel.WARN, "event of kind " + (<i32>kind).toString() + " was refused by the host (" + statusName(status) + "): its JSON must be an object, at most 32 levels deep");
  }
  return status;
}

export function log(level: LogLevel, msg: string): i32 {
  const m = utf8(msg);
  return log_message(level, <i32>changetype<usize>(m), m.byteLength);
}

/** Nanoseconds since the epoch: packet time offline, wall clock live. */
export function nowNs(): i64 {
  return get_time_ns();
}
