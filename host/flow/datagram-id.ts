// Which IP datagram a fragment belongs to, defined once: RFC 791's
// addresses, identification and (IPv4) protocol, the tunnels it came
// through (inner datagrams of two overlays never mix), plus both VLAN ids as the
// flow table keys flows (under QinQ, the same private addresses behind two
// inner VLANs are two networks). The reassembler keys its table with these
// fields (datagramKey in defrag.ts), and the engine matches the fragments it
// holds against them, both when a datagram completes and when it is given
// up. test/host/flow/datagram-id checks that key and match agree.
import { type DecodedPacket } from '../packet/types.js';
import { sameWords } from '../packet/tunnel-headers.js';

export interface DatagramId {
  ipVersion: 4 | 6;
  id: number;
  /** The IPv4 protocol field; -1 for IPv6, whose fragments carry no protocol of the datagram. */
  proto: number;
  /** Outermost VLAN id, 0 when untagged. */
  vlan: number;
  /** Inner VLAN id under QinQ, 0 when there is none. */
  innerVlan: number;
  src: Uint8Array;
  dst: Uint8Array;
  /** The tunnels the fragment came through (DecodedPacket.tunnelWords), null outside tunnels. */
  tunnelWords: readonly number[] | null;
}

/**
 * The datagram of a fragment (pkt.fragment set). Its addresses are views into
 * pkt's frame unless `copyAddrs`: what outlives the frame (capture buffers are
 * reused) needs copies.
 */
export function datagramIdOf(pkt: DecodedPacket, copyAddrs = false): DatagramId {
  return {
    ipVersion: pkt.ipVersion as 4 | 6, id: pkt.fragment!.id, proto: pkt.ipVersion === 4 ? pkt.fragment!.nextHeader : -1,
    vlan: pkt.vlans.length > 0 ? pkt.vlans[0]! : 0, innerVlan: pkt.vlans.length > 1 ? pkt.vlans[1]! : 0,
    src: copyAddrs ? pkt.src.slice() : pkt.src, dst: copyAddrs ? pkt.dst.slice() : pkt.dst,
    tunnelWords: pkt.tunnelWords,
  };
}

/** Whether fragment pkt belongs to datagram d. */
export function inDatagram(pkt: DecodedPacket, d: DatagramId): boolean {
  return pkt.ipVersion === d.ipVersion && pkt.fragment!.id === d.id && (pkt.ipVersion === 6 || pkt.fragment!.nextHeader === d.proto)
    && (pkt.vlans.length > 0 ? pkt.vlans[0]! : 0) === d.vlan && (pkt.vlans.length > 1 ? pkt.vlans[1]! : 0) === d.innerVlan
    && sameBytes(pkt.src, d.src) && sameBytes(pkt.dst, d.dst) && sameWords(pkt.tunnelWords, d.tunnelWords);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
