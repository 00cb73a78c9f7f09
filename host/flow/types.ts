// Flow tracking contract used by the engine.

export const Direction = { TO_SERVER: 0, TO_CLIENT: 1 } as const;
export type Direction = (typeof Direction)[keyof typeof Direction];

export type TcpState = 'new' | 'syn_sent' | 'syn_recv' | 'established' | 'fin_wait' | 'closed' | 'reset' | 'none';

/** Suricata's EVE `tunnel` object, plus the tunnel's type. */
export interface FlowTunnel {
  src_ip: string;
  dest_ip: string;
  proto: string;
  /** How many tunnels the flow's packets came through. */
  depth: number;
  type: string;
  vni?: number;
  key?: number;
}

export interface Flow {
  /** Stable id, unique for the lifetime of the table (never reused). */
  id: number;
  /** The outermost VLAN id, 0 when untagged: part of the flow's key. */
  vlan: number;
  /** Every VLAN id of the flow's first packet, outermost first (EVE prints them all, as for its packets). */
  vlans: readonly number[];
  ipVersion: 4 | 6;
  proto: number;
  /** The client is the side that sent the first packet (or the SYN). The table's flows make a new array on each read. */
  readonly clientAddr: Uint8Array;
  readonly serverAddr: Uint8Array;
  clientPort: number;
  serverPort: number;
  pktsToServer: number;
  pktsToClient: number;
  bytesToServer: number;
  bytesToClient: number;
  /** Times of the first and last packet, seconds since the epoch as a float. */
  start: number;
  last: number;
  tcpState: TcpState;
  /**
   * ICMP and ICMPv6: the type and code of the flow's first message (-1 when
   * its header was cut), since one flow holds every ICMP message between
   * two hosts; the flow's Community ID hashes them (host/eve/community-id.ts).
   */
  firstIcmpType: number;
  firstIcmpCode: number;
  /**
   * The outermost tunnel of an inner flow, as EVE prints it (null or absent
   * outside tunnels): its first packet's outer endpoints.
   */
  tunnel?: FlowTunnel | null;
  /** Free slot for the engine: decided verdict, rule match, per-module state... */
  engine: unknown;
  /** Its Community ID once computed (host/eve/community-id.ts): null when it has none. */
  communityId?: string | null;
}

/** `released`: an operator deleted the flow's verdict (`secuxflow flow delete`); its next packet starts a new flow. */
export type FlowEndReason = 'timeout' | 'closed' | 'evicted' | 'shutdown' | 'released';

export interface FlowEnd {
  flow: Flow;
  reason: FlowEndReason;
}
