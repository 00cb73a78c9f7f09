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
