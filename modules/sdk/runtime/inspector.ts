// The class a module extends, and the one registered instance the SDK's
// exports dispatch to.
import { Packet } from "./packet";
import { JsonValue } from "./json";
import { Verdict } from "./abi";

export class Inspector {
  /** Called once with the parsed config (null when none was given). Return false to refuse it (log why first). */
  onInit(config: JsonValue | null): bool { return true; }
  /** Called for every packet of every batch; return its verdict. */
  onPacket(pkt: Packet): Verdict { return Verdict.CONTINUE; }
  /** The host will send no more packets of this flow. Its FlowMap entries are still there; the SDK clears them right after. */
  onFlowEnd(flowId: u64): void {}
}

let registered: Inspector | null = null;

/** Makes `inspector` the one that handles this module's callbacks. */
export function register(inspector: Inspector): void {
  registered = inspector;
}

export function registeredInspector(): Inspector | null {
  return registered;
}

let collectAsked = false;

/**
 * Asks for one full collection before the next batch. For a module that kept
 * little of a large config (a list of thousands of entries): its text,
 * megabytes of UTF-16, is garbage only once on_init has returned, and is
 * better reclaimed in one go than by collections under packet load.
 */
export function collectBeforePackets(): void {
  collectAsked = true;
}

/** The collection collectBeforePackets asked for; on_batch calls it once a batch, outside its packet loop. */
@inline export function collectIfAsked(): void {
  if (collectAsked) {
    collectAsked = false;
    __collect();
  }
}
