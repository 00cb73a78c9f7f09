// What the module exports to the host (docs/abi/v1.md). A module re-exports
// this file (`export * from "../sdk/exports"`); each function only dispatches
// to the registered Inspector.
import { Packet } from "./runtime/packet";
import { parseJson, jsonError, JsonValue } from "./runtime/json";
import { registeredInspector, collectIfAsked } from "./runtime/inspector";
import { forgetFlow } from "./runtime/flowmap";
import { log, nowNs } from "./runtime/emit";
import { seedTables } from "./lib/hash";
import { Meta, Status, LogLevel } from "./runtime/abi";
// Pulled in so asconfig.json can point AssemblyScript's abort at it.
import "./runtime/abort";

/** ABI marker: read by the host, never called. */
export const secuxflow_abi_version: i32 = 1;

// One Packet for the whole module lifetime: re-bound per record, no allocation per packet.
const packet = new Packet();

/** Host-facing allocator; the memory is never freed by the host. 0 = failure. */
export function sf_alloc(size: i32): i32 {
  if (size <= 0) return 0;
  return <i32>heap.alloc(<usize>size);
}

export function on_init(config_ptr: i32, config_len: i32): i32 {
  const inspector = registeredInspector();
  if (inspector === null) {
    log(LogLevel.ERROR, "no inspector registered: call register(new MyInspector()) in the module");
    return Status.NOT_FOUND;
  }
  // Before any table can hold a key (see seedTables).
  seedTables(<u64>nowNs());
  let config: JsonValue | null = null;
  if (config_ptr != 0 && config_len > 0) {
    config = parseJson(<usize>config_ptr, config_len);
    // The config bytes belong to the module; the parsed tree holds copies.
    heap.free(<usize>config_ptr);
    if (config === null) {
      log(LogLevel.ERROR, "config is not valid JSON: " + jsonError());
      return Status.BAD_ARGUMENT;
    }
  }
  return inspector.onInit(config) ? Status.OK : Status.BAD_ARGUMENT;
}

export function on_batch(meta_ptr: i32, count: i32): i32 {
  const inspector = registeredInspector();
  if (inspector === null) return Status.NOT_FOUND;
  collectIfAsked();
  const pkt = packet;
  let meta = <usize>meta_ptr;
  for (let i = 0; i < count; i++, meta += Meta.SIZE) {
    pkt.bind(meta, i);
    const verdict = inspector.onPacket(pkt);
    store<u8>(meta, <u8>verdict, Meta.VERDICT);
    store<u16>(meta, pkt.blockTtl, Meta.VERDICT_ARG);
  }
  return Status.OK;
}

export function on_flow_end(flow_id: i64): void {
  // The inspector sees its per-flow state one last time (to report on it), then it is freed.
  const inspector = registeredInspector();
  if (inspector !== null) inspector.onFlowEnd(<u64>flow_id);
  forgetFlow(<u64>flow_id);
}
