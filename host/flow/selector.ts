// Which decided flows an operator means (`secuxflow flow list|delete|clear`).
// The CLI picks the kernel's flow entries with it, and a running daemon's
// engines pick their own flows with the same selector, sent over the control
// socket: a few fields rather than a list of keys, which for a map of 65,536
// entries would not fit in a control request.
import { formatIp, isV4Mapped, parseIp } from '../packet/addr.js';
import { SecuxflowError } from '../errors.js';

export interface FlowSelector {
  /** Either endpoint's address, as formatIp writes it (an IPv4-mapped address as IPv4). */
  host: string | null;
  /** Either endpoint's port; flows with no ports (ICMP, other protocols) never match one. */
  port: number | null;
  verdict: 'allow' | 'block' | null;
}

/** A flow as the selector sees it, whichever side it is named from. */
export interface SelectableFlow {
  proto: number;
  addrA: Uint8Array;
  addrB: Uint8Array;
  portA: number;
  portB: number;
  verdict: 'allow' | 'block';
}

export const ALL_FLOWS: FlowSelector = Object.freeze({ host: null, port: null, verdict: null });

/** An address as the selector compares it: an IPv4-mapped IPv6 address is its IPv4 address. */
export function hostName(addr: Uint8Array): string {
  return formatIp(isV4Mapped(addr) ? addr.subarray(12) : addr);
}

/** Whether a flow of this protocol carries ports in its kernel key (TCP, UDP). */
export function hasPorts(proto: number): boolean {
  return proto === 6 || proto === 17;
}

/** Whether the selector names any field; a delete with none would be a clear. */
export function isSelective(sel: FlowSelector): boolean {
  return sel.host !== null || sel.port !== null || sel.verdict !== null;
}

export function selectsFlow(sel: FlowSelector, f: SelectableFlow): boolean {
  if (sel.verdict !== null && sel.verdict !== f.verdict) return false;
  if (sel.port !== null && !(hasPorts(f.proto) && (f.portA === sel.port || f.portB === sel.port))) return false;
  if (sel.host !== null && hostName(f.addrA) !== sel.host && hostName(f.addrB) !== sel.host) return false;
  return true;
}

/** The selector from a control request's params, checked field by field (the daemon trusts no request). */
export function flowSelectorFrom(p: Record<string, unknown>): FlowSelector {
  const bad = (what: string): never => {
    throw new SecuxflowError('E_USAGE', `flow.release: ${what}`, 'send {"host": IP or null, "port": 0-65535 or null, "verdict": "allow", "block" or null}');
  };
  const { host = null, port = null, verdict = null } = p;
  let hostText: string | null = null;
  if (host !== null) {
    if (typeof host !== 'string') bad('"host" is not a string');
    try {
      hostText = hostName(parseIp(host as string));
    } catch {
      bad(`"host" ${JSON.stringify(host)} is not an IP address`);
    }
  }
  if (port !== null && !(Number.isInteger(port) && (port as number) >= 0 && (port as number) <= 65535)) bad(`"port" ${JSON.stringify(port)} is not a port number`);
  if (verdict !== null && verdict !== 'allow' && verdict !== 'block') bad(`"verdict" ${JSON.stringify(verdict)} is not allow or block`);
  return { host: hostText, port: port as number | null, verdict: verdict as FlowSelector['verdict'] };
}
