// CIDR text <-> network. Address syntax is host/packet/addr.ts's (strict, one
// meaning per text); this file only adds the prefix and the normalisation.
import { SecuxflowError } from '../errors.js';
import { formatIp, parseIp } from '../packet/addr.js';
import type { Cidr } from './types.js';

export const CIDR_HINT = 'use A.B.C.D/N (N 0-32), an IPv6 address with /N (N 0-128), or a bare address';

function badCidr(text: string, why: string): SecuxflowError {
  return new SecuxflowError('E_RULE_INVALID', `${JSON.stringify(text)} is not a CIDR: ${why}`, otherToolsHint(text) ?? CIDR_HINT);
}

/**
 * What an address written as Suricata, Snort or iptables write them means
 * here: none of any, !negation, [lists], $VARIABLES, netmasks or ranges is
 * a secuxflow CIDR, and each has a way to say it.
 */
function otherToolsHint(text: string): string | undefined {
  const t = text.trim();
  if (/^any$/i.test(t)) return 'leave the address out (null in a rule file) to match any address';
  if (t.startsWith('!')) return 'a rule cannot exclude addresses: give the excluded ones a rule of their own with a lower priority, which is evaluated first';
  const zoned = /^([0-9a-f:.]+)%[^/]*(\/\d+)?$/i.exec(t);
  if (zoned) return `a zone id (%${t.slice(t.indexOf('%') + 1).split('/')[0]}) names a host's interface, not part of the address: write ${zoned[1]}${zoned[2] ?? ''}; a rule applies on every interface it is attached to`;
  const bracketed = /^\[([0-9a-f:.]+)\](\/\d+)?$/i.exec(t);
  if (bracketed) return `write the IPv6 address without brackets: ${bracketed[1]}${bracketed[2] ?? ''}`;
  if (/[,[\]]/.test(t)) return 'a rule takes one CIDR: add a rule for each';
  if (t.startsWith('$')) return `${t} is a Suricata/Snort variable: write the CIDR it stands for`;
  const mask = /^([0-9.]+)\/([0-9.]+\.[0-9.]+)$/.exec(t);
  const len = mask ? prefixOfNetmask(mask[2]!) : null;
  if (mask && len !== null) return `write the netmask as a prefix length: ${mask[1]}/${len}`;
  if (/^[0-9a-f:.]+-[0-9a-f:.]+$/i.test(t)) return 'a range of addresses is written as the CIDRs that cover it, one rule each';
  return undefined;
}

/** 255.255.255.0 -> 24; null for text that is not a contiguous IPv4 netmask. */
function prefixOfNetmask(text: string): number | null {
  let bytes: Uint8Array;
  try {
    bytes = parseIp(text);
  } catch {
    return null;
  }
  if (bytes.length !== 4) return null;
  const bits = [...bytes].map((b) => b.toString(2).padStart(8, '0')).join('');
  if (!/^1*0*$/.test(bits)) return null;
  const zero = bits.indexOf('0');
  return zero < 0 ? 32 : zero;
}

/**
 * Parses "198.18.0.0/15", "2001:db8::/32" or a bare address (/32, /128).
 * Host bits below the prefix are cleared, as iptables does, so two texts for
 * the same network compare equal by their canonical `text`.
 */
export function parseCidr(text: string): Cidr {
  if (typeof text !== 'string') throw badCidr(String(text), 'expected a string');
  const slash = text.indexOf('/');
  const addrText = slash < 0 ? text : text.slice(0, slash);
  let addr: Uint8Array;
  try {
    addr = parseIp(addrText);
  } catch (e) {
    const why = e instanceof Error ? e.message.replace(/^invalid IP address '[^']*': /, '') : String(e);
    throw badCidr(text, `bad address ${JSON.stringify(addrText)} (${why})`);
  }
  const version: 4 | 6 = addr.length === 4 ? 4 : 6;
  const maxLen = version === 4 ? 32 : 128;
  let prefixLen = maxLen;
  if (slash >= 0) {
    const lenText = text.slice(slash + 1);
    // Digits only: "/ 24", "/+24", "/0x18" would otherwise slip through Number().
    if (!/^[0-9]{1,3}$/.test(lenText)) throw badCidr(text, `prefix length ${JSON.stringify(lenText)} is not a number`);
    prefixLen = Number(lenText);
    if (prefixLen > maxLen) throw badCidr(text, `prefix length ${prefixLen} exceeds ${maxLen} for IPv${version}`);
  }
  const net = maskAddress(addr, prefixLen);
  const canonical = `${formatIp(net)}/${prefixLen}`;
  return { version, addr: net, prefixLen, text: canonical };
}

function maskAddress(addr: Uint8Array, prefixLen: number): Uint8Array {
  const out = new Uint8Array(addr.length);
  for (let i = 0; i < addr.length; i++) {
    const bitsHere = Math.max(0, Math.min(8, prefixLen - i * 8));
    out[i] = addr[i]! & ((0xff00 >> bitsHere) & 0xff);
  }
  return out;
}

/** True when addr (4 or 16 bytes) is in c; an address of the other family never is. */
export function cidrContains(c: Cidr, addr: Uint8Array): boolean {
  if (addr.length !== c.addr.length) return false;
  const full = c.prefixLen >> 3;
  for (let i = 0; i < full; i++) if (addr[i] !== c.addr[i]) return false;
  const rest = c.prefixLen & 7;
  if (rest === 0) return true;
  const mask = (0xff00 >> rest) & 0xff;
  return (addr[full]! & mask) === c.addr[full];
}

/** The text a rule shows for its CIDR: a host route prints as the bare address. */
export function cidrToText(c: Cidr): string {
  return c.prefixLen === (c.version === 4 ? 32 : 128) ? formatIp(c.addr) : c.text;
}
