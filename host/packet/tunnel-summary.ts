// The outermost tunnel of a packet as EVE records describe it, Suricata's
// `tunnel` object: its endpoints, the carrier's protocol, how deep the packet
// was, and the VNI (VXLAN, Geneve) or GRE key when there is one.
import type { FlowTunnel } from '../flow/types.js';
import { formatIp } from './addr.js';
import { outerAddrs } from './tunnel-headers.js';
import type { DecodedPacket } from './types.js';

const CARRIER_NAMES: Record<number, string> = { 4: 'IPIP', 41: 'IPv6', 47: 'GRE', 17: 'UDP' };

export function flowTunnelOf(p: Pick<DecodedPacket, 'tunnels' | 'data'>): FlowTunnel | null {
  const outer = p.tunnels[0];
  if (outer === undefined) return null;
  const { src, dst, len } = outerAddrs(outer);
  const t: FlowTunnel = {
    src_ip: formatIp(p.data.subarray(src, src + len)),
    dest_ip: formatIp(p.data.subarray(dst, dst + len)),
    proto: CARRIER_NAMES[outer.outerProto] ?? String(outer.outerProto),
    depth: p.tunnels.length,
    type: outer.type,
  };
  if (outer.id >= 0) {
    if (outer.type === 'gre') t.key = outer.id;
    else t.vni = outer.id;
  }
  return t;
}
