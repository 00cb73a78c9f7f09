// Linux traceroute (and mtr -u) sends UDP to 33434 and up, one new port per
// probe, with the IP TTL (hop limit) raised from 1 hop by hop: 5 hops are 15
// distinct ports, a UDP scan by count. Such a probe is recognised by both
// marks together. A scanner can craft them too, but a probe that arrives
// with a TTL this low probes only these 101 ports, where nothing listens.
import { Packet } from "../sdk";

const FIRST_PORT: u16 = 33434;
const LAST_PORT: u16 = 33534;
/** traceroute's default maximum hop count (-m 30): its probes never leave with more. */
export const TRACEROUTE_MAX_TTL: i32 = 30;

export function isTracerouteProbe(pkt: Packet): bool {
  const port = pkt.dstPort;
  if (port < FIRST_PORT || port > LAST_PORT) return false;
  const v = pkt.ipVersion;
  // IPv4 TTL is byte 8 of the header, the IPv6 hop limit byte 7
  const ttl = v == 4 ? pkt.u8(pkt.l3Offset + 8) : v == 6 ? pkt.u8(pkt.l3Offset + 7) : -1;
  return ttl >= 0 && ttl <= TRACEROUTE_MAX_TTL;
}
