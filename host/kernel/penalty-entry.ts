// What the penalty box holds: a source address, or an IPv6 source's /64.
// A host given a /64 picks any of its 2^64 addresses, so a block of the one
// address it scanned from ends at its next address. The kernel key of a /64
// is its prefix with an all-zero interface id: the subnet-router anycast
// address (RFC 4291 2.6.1), which no packet comes from. XDP looks an IPv6
// source up by its address and then by that key (xdp/secuxflow.bpf.c).
import { formatIp, isV4Mapped, parseIp } from '../packet/addr.js';
import { SecuxflowError } from '../errors.js';
import { penaltySource } from './codec.js';

export const NET6_PREFIX = 64;

/** Whether a key (4 or 16 bytes, as penaltySource gives) names a /64 rather than one source. */
export function isNet6Key(addr: Uint8Array): boolean {
  return addr.length === 16 && !isV4Mapped(addr) && addr.subarray(8).every((b) => b === 0);
}

/** The /64 key of an IPv6 source; null for IPv4 (and v4-mapped) sources. */
export function net6Of(addr: Uint8Array): Uint8Array | null {
  if (addr.length !== 16 || isV4Mapped(addr)) return null;
  const k = addr.slice();
  k.fill(0, 8);
  return k;
}

/** The key a BLOCK_SRC of `src` writes: its /64 when asked and it is IPv6, else itself. */
export function penaltyKeyFor(src: Uint8Array, ipv6Prefix: 64 | 128): Uint8Array {
  return (ipv6Prefix === NET6_PREFIX ? net6Of(src) : null) ?? src;
}

/** "192.0.2.7", "2001:db8::7" or "2001:db8:1:2::/64", as `block list` shows and `block delete` takes. */
export function penaltyEntryName(key: Uint8Array): string {
  return isNet6Key(key) ? `${formatIp(key)}/${NET6_PREFIX}` : formatIp(key);
}

/** An entry as typed: a source address, or IPv6 ADDR/64; anything else is refused with what to do. */
export function parsePenaltyEntry(text: string): Uint8Array {
  const slash = text.indexOf('/');
  const addrText = slash < 0 ? text : text.slice(0, slash);
  let addr: Uint8Array;
  try {
    addr = penaltySource(parseIp(addrText));
  } catch (e) {
    throw new SecuxflowError('E_USAGE', `${JSON.stringify(text)} is not an IPv4 or IPv6 address${e instanceof Error ? ` (${e.message})` : ''}`,
      'give the source address, for example 192.0.2.7 or 2001:db8::7, or an IPv6 /64 such as 2001:db8:1:2::/64');
  }
  // ADDR/32 and ADDR/128 name the address itself.
  const prefix = slash < 0 ? '' : text.slice(slash + 1);
  if (slash >= 0 && prefix !== String(addr.length * 8)) {
    const net6 = net6Of(addr);
    if (net6 === null || prefix !== String(NET6_PREFIX)) {
      throw new SecuxflowError('E_USAGE', `${text}: the penalty box holds single addresses and IPv6 /${NET6_PREFIX}s, not other networks`,
        `to drop a network, add a rule: secuxflow rule add --src ${text} --action drop`);
    }
    return net6;
  }
  if (isNet6Key(addr)) {
    throw new SecuxflowError('E_USAGE', `${text} is the subnet-router anycast address of its /${NET6_PREFIX}, which sends no packets`,
      `to block the whole /${NET6_PREFIX}, give ${formatIp(addr)}/${NET6_PREFIX}`);
  }
  return addr;
}
