// The rule model. The XDP program implements exactly these semantics
// (xdp/secuxflow.bpf.c); the differential test holds both to it.
import type { RuleAction } from '../verdict.js';

export type { RuleAction } from '../verdict.js';

export type RuleProto = 'tcp' | 'udp' | 'icmp' | 'any';
export const RULE_PROTOS: readonly RuleProto[] = ['tcp', 'udp', 'icmp', 'any'];
export const RULE_ACTIONS: readonly RuleAction[] = ['pass', 'drop', 'inspect'];

export interface Cidr {
  version: 4 | 6;
  /** Network address bytes (4 or 16), host bits zeroed. */
  addr: Uint8Array;
  prefixLen: number;
  /** Canonical text, e.g. "192.168.1.0/24", "2001:db8::/32". */
  text: string;
}

export interface PortRange {
  lo: number;
  hi: number; // inclusive, lo <= hi
}

export interface Rule {
  /** Unique positive integer (1 .. 2^31-1); generated as max+1 when absent. */
  id: number;
  /** Lower wins; ties are broken by lower id. 0 .. 65535, default 1000. */
  priority: number;
  src: Cidr | null;
  dst: Cidr | null;
  srcPort: PortRange | null;
  dstPort: PortRange | null;
  /**
   * 'icmp' matches ICMP on IPv4 and ICMPv6 on IPv6. A rule with ports only
   * matches packets that carry ports (TCP/UDP, first fragment or unfragmented).
   */
  proto: RuleProto;
  action: RuleAction;
  /** Modules to run for 'inspect'; empty means every loaded module. */
  modules: string[];
  /** 802.1Q VLAN id (outermost tag) the packet must carry; null matches any, tagged or not. */
  vlan: number | null;
  comment: string;
}

/** The policy applied when no rule matches. */
export type DefaultPolicy = RuleAction;

export interface RuleSet {
  defaultPolicy: DefaultPolicy;
  rules: Rule[];
}

/** What rule matching decided for a packet. */
export interface RuleMatch {
  /** The matched rule, or null when the default policy applied. */
  rule: Rule | null;
  action: RuleAction;
}
