// The same header check as bench/header-check.wat (Ethernet, IPv4 header
// length, TCP destination port 80, parsed from the frame with bounds
// checks), written as a module author writes one: AssemblyScript on the SDK,
// its Packet accessors and its on_batch dispatch. The bench measures both, so
// the host's overhead is set against the floor of hand-written WAT and
// against what the smallest SDK module costs.
import { Inspector, Packet, Verdict, register } from "../../modules/sdk";
export * from "../../modules/sdk/exports";

class HeaderCheck extends Inspector {
  onPacket(pkt: Packet): Verdict {
    if (pkt.u16be(12) != 0x0800) return Verdict.CONTINUE;
    const vihl = pkt.u8(14);
    if ((vihl >> 4) != 4 || pkt.u8(23) != 6) return Verdict.CONTINUE;
    return pkt.u16be(14 + ((vihl & 15) << 2) + 2) == 80 ? Verdict.PASS : Verdict.CONTINUE;
  }
}

register(new HeaderCheck());
