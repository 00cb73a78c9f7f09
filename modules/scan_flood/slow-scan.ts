// Slow vertical scans (nmap -T1/-T0, a probe every few seconds or minutes)
// stay under any per-10-s threshold; this counts distinct destination ports
// per source over a long window (an hour by default) instead. Only probes
// nobody answered stay counted (a completed handshake or a UDP reply settles its port),
// because over an hour an ordinary client reaches many services: what it
// does not do is knock on dozens of closed or filtered ports.
import { Packet } from "../sdk";
import { mix64 } from "../sdk/lib";
import { DistinctCounter } from "./distinct";

export const SLOW_TCP: u64 = 6;
export const SLOW_UDP: u64 = 17;

/** Sets slow-scan keys apart from every other key this module hashes. */
const SLOW_TAG: u64 = 0x534c;

export class SlowScanCounter {
  private ports: DistinctCounter;

  /** A quarter of the per-window counters' keys and pairs: memory stays in the module's 16 MiB, and a prober hits its key again and again, which keeps it (keyslots.ts) while one-off keys are evicted. */
  constructor(windowNs: i64, capacity: i32) {
    this.ports = new DistinctCounter(windowNs, capacity * 2, capacity >> 2);
  }

  /** A probe from src to port; returns src's distinct unanswered ports of that protocol in the window. */
  probe(src: u64, port: u16, proto: u64, nowNs: i64): i64 {
    return this.ports.add(slowKey(src, proto), port, nowNs);
  }

  /** Something answered src on port: the port no longer counts for src. */
  answered(src: u64, port: u16, proto: u64, nowNs: i64): void {
    this.ports.settle(slowKey(src, proto), port, nowNs);
  }
}

@inline function slowKey(src: u64, proto: u64): u64 { return mix64(src ^ mix64(proto | (SLOW_TAG << 32))); }

// Discovery chatter (SSDP, mDNS, LLMNR, NetBIOS, WS-Discovery...) goes to a
// group address every few minutes and is never answered by that address:
// over an hour it would add a dozen ports to every desktop, and a table that
// evicted the pair would count it again. No port of one host is probed that way.
export function toGroupAddress(pkt: Packet): bool {
  const v = pkt.ipVersion;
  if (v == 4) {
    const dst = pkt.dstIp4;
    return (dst >>> 28) == 0xe || dst == 0xffffffff;
  }
  return v == 6 && pkt.u8(pkt.l3Offset + 24) == 0xff;
}
