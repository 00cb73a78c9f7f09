// __NAME__: a secuxflow inspector. The host calls onPacket for every packet of
// a flow it inspects; return a Verdict (CONTINUE, PASS, ALLOW_FLOW, DROP,
// BLOCK_FLOW, BLOCK_SRC). Config (JSON) arrives once, in onInit.
import { Inspector, Packet, Verdict, JsonValue, Severity, IpProto, LogLevel, register, alert, log } from "./sdk";
// Keep this line: it is the module's ABI (on_batch, sf_alloc...). Without it
// the build stops at "ERROR AS111: Element 'sdk/runtime/abort/sfAbort' not found".
export * from "./sdk/exports";

const SID_BLOCKED_PORT = 3000001;

class __CLASS__ extends Inspector {
  blockedPort: i32 = 23;

  onInit(config: JsonValue | null): bool {
    if (config === null) return true;
    const port = config.get("blocked_port");
    if (port !== null) {
      if (!port.isInteger() || port.num < 0 || port.num > 65535) {
        log(LogLevel.ERROR, "blocked_port must be a port number 0..65535");
        return false;
      }
      this.blockedPort = <i32>port.num;
    }
    return true;
  }

  onPacket(pkt: Packet): Verdict {
    if (pkt.proto == IpProto.TCP && <i32>pkt.dstPort == this.blockedPort) {
      alert(pkt, SID_BLOCKED_PORT, Severity.MEDIUM, "TCP to blocked port " + this.blockedPort.toString());
      return Verdict.DROP;
    }
    return Verdict.CONTINUE;
  }
}

register(new __CLASS__());
